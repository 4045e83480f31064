from sae.figures import FigureSpec

SPEC = FigureSpec(name="decoder_metrics", applies_to="all", inputs=("sweep", "recommendation", "ground_truth"))

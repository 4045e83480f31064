from sae.figures import FigureSpec

SPEC = FigureSpec(name="splice_cost", applies_to="llm", inputs=("sweep", "recommendation"), metrics=("splice_costs",))

from sae.figures import FigureSpec

SPEC = FigureSpec(name="probing_f1", applies_to="llm", inputs=("sweep", "recommendation"), metrics=("sparse_probing",))

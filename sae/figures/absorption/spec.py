from sae.figures import FigureSpec

SPEC = FigureSpec(name="absorption", applies_to="llm", inputs=("sweep",), metrics=("absorption",))

from sae.figures import FigureSpec

SPEC = FigureSpec(name="l0_choice", applies_to="toy", inputs=("sweep", "recommendation"))

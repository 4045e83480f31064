from sae.figures import FigureSpec

SPEC = FigureSpec(name="hedging_vs_width", applies_to="all", inputs=("sweep",), metrics=("hedging",))

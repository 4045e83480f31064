from sae.figures import FigureSpec

SPEC = FigureSpec(name="zf_plot", applies_to="all", inputs=("tensors",), metrics=("quasi_orthogonality",))

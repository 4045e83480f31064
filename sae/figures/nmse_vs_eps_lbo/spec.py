from sae.figures import FigureSpec

SPEC = FigureSpec(name="nmse_vs_eps_lbo", applies_to="all", inputs=("sweep",), metrics=("quasi_orthogonality",))

from sae.figures import FigureSpec

# the cross-paper figure: top-AFA's own L0 beside c_dec's and the true one, on a toy that trains top-AFA
SPEC = FigureSpec(name="l0_choice", applies_to="toy", inputs=("sweep", "recommendation"),
                  when=lambda experiment: "top_afa" in experiment.grid.architecture,
                  metrics=("decoder", "reconstruction"))

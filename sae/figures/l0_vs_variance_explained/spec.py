from sae.figures import FigureSpec

SPEC = FigureSpec(name="l0_vs_variance_explained", applies_to="all",
                  inputs=("sweep", "recommendation", "ground_truth"),
                  metrics=("reconstruction",))

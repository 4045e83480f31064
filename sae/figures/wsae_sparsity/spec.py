from sae.figures import FigureSpec

# the WSAE paper's figure 3: drawn once over the experiments that measure feature recovery (one per S)
SPEC = FigureSpec(name="wsae_sparsity", applies_to="toy", inputs=("sweep",), scope="study",
                  metrics=("feature_recovery",))

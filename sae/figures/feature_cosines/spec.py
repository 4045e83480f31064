from sae.figures import FigureSpec

SPEC = FigureSpec(name="feature_cosines", applies_to="toy", inputs=("recommendation", "tensors"),
                  metrics=("ground_truth",))

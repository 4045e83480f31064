from sae.figures import FigureSpec
from sae.figures.parent_child_vs_beta.spec import SPEC as PARENT_CHILD

SPEC = FigureSpec(name="beta_feature_cosines", applies_to="toy", inputs=("tensors",), when=PARENT_CHILD.when,
                  metrics=("ground_truth",))

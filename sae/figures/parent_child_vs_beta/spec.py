from sae.figures import FigureSpec


def _beta_swept_on_a_hierarchy(experiment) -> bool:
    return (experiment.source.model.hierarchy is not None
            and "beta" in experiment.grid.axes("balanced_matryoshka"))


SPEC = FigureSpec(name="parent_child_vs_beta", applies_to="toy", inputs=("sweep",), when=_beta_swept_on_a_hierarchy,
                  metrics=("hierarchy",))

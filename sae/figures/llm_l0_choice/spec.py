from sae.figures import FigureSpec


def _l0_story(experiment) -> bool:
    """An LLM experiment with something for the L0 axis: top-AFA's own L0, or a c_dec curve with an elbow to find."""
    return "top_afa" in experiment.grid.architecture or len(set(experiment.grid.l0 or ())) >= 3


# the cross-paper figure on a language model: top-AFA (smollm2_top_afa) trains in an experiment of its own, beside
# the BatchTopK sweep (smollm2_layer6) on the same store, so only a study-scope figure can put the two together
SPEC = FigureSpec(name="llm_l0_choice", applies_to="llm", inputs=("sweep",), scope="study", when=_l0_story,
                  metrics=("decoder", "reconstruction"),
                  # both halves of the comparison: a top-AFA SAE, and a target-L0 sweep with an elbow to find
                  together=lambda exps: any("top_afa" in e.grid.architecture for e in exps)
                  and any(len(set(e.grid.l0 or ())) >= 3 for e in exps))

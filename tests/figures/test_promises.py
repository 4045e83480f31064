"""Every figure of the default study's shape keeps its title's promise, read back from the Figure object: each axis
draws data (or says why not), each legend entry names drawn data, the promised series are there; and the cases
the issue found (fixed λ_AFA, refinement points, disabled metrics, zero inputs, labels that name what varies)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from sae import figures
from tests.figures.promises import PROMISES, legend_texts, notes, problems
from tests.figures.study_data import REFINED_L0, experiment_data, study_data, study_plan, write_study



@pytest.fixture(scope="module")
def study(tmp_path_factory):
    results = tmp_path_factory.mktemp("study")
    return write_study(results), results


def cases():
    plan = study_plan(__import__("pathlib").Path("/nonexistent"))
    return [(e, f) for e, exp in plan.experiments.items() for f in exp.figures] + \
        [("", f) for f in plan.study_figures]


def draw(study, experiment: str, figure: str) -> plt.Figure:
    plan, results = study
    data = experiment_data(plan, results, experiment, figure) if experiment else study_data(plan, results, figure)
    return figures.code(figure).draw(data)


def test_every_registered_figure_is_drawn_somewhere_in_the_default_study():
    assert {f for _, f in cases()} == set(figures.FIGURES)


@pytest.mark.parametrize(("experiment", "figure"), cases(), ids=lambda v: v or "study")
def test_every_figure_keeps_its_titles_promise(study, experiment, figure):
    fig = draw(study, experiment, figure)
    assert problems(fig, PROMISES.get(figure, ())) == []
    plt.close(fig)


def test_l0_choice_draws_top_afa_at_its_fixed_lambda(study):
    """sbw_large fixes λ_AFA = 1/32 (no sweep column): its two top-AFA SAEs vanished from the figure."""
    fig = draw(study, "sbw_large", "l0_choice")
    (ax,) = fig.axes
    points = [c for c in ax.collections if c.get_label().startswith("top-AFA")]
    assert len(points) == 1 and points[0].get_offsets()[:, 0].tolist() == [0.03125, 0.03125]  # both seeds
    assert any("λ_AFA = 1/32, fixed" in t for t in legend_texts(fig))


def test_l0_choice_says_why_it_has_no_recommendation(study):
    """sbw_small has two L0s: no recommended L0, and the figure says so instead of promising one."""
    texts = legend_texts(fig := draw(study, "sbw_small", "l0_choice")) + notes(fig)
    assert not any(t.startswith("recommended") or ": recommended" in t for t in texts)
    assert any(t.startswith("no recommended L0") for t in notes(fig))


def test_the_zf_plot_includes_the_refinement_rounds_saes(study):
    """sbw_large: 12 L0s and the round's L0 16, two seeds each, all in the batchtopk panel (the colour bar's L0s)."""
    plan, results = study
    batchtopk = [p for p, _ in experiment_data(plan, results, "sbw_large", "zf_plot").tensors
                 if p.architecture == "batchtopk"]
    assert REFINED_L0 in {p.l0 for p in batchtopk} and len(batchtopk) == 26
    panel = draw(study, "sbw_large", "zf_plot").axes[0]
    assert panel.get_title().startswith("batchtopk")
    assert sum(len(c.get_offsets()) > 0 for c in panel.collections if c.get_label() == "_nolegend_") == 26


def test_the_zf_plot_and_eps_lbo_say_how_many_zero_inputs_they_leave_out(study):
    assert any("z = 0" in t or "zero" in t for t in notes(draw(study, "balance_toy", "zf_plot")))
    assert any("zero" in t for t in notes(draw(study, "balance_toy", "nmse_vs_eps_lbo")))


def test_figures_of_disabled_metrics_are_not_drawn():
    plan = study_plan(__import__("pathlib").Path("/nonexistent"))
    for name in ("smollm2_top_afa", "smollm2_hedging"):  # absorption, probing, splice costs switched off
        assert not {"absorption", "probing_f1", "splice_cost"} & set(plan.experiments[name].figures)
    assert {"absorption", "probing_f1", "splice_cost"} <= set(plan.experiments["smollm2_layer6"].figures)


def test_top_afas_own_l0_on_the_language_model_is_drawn_beside_the_batchtopk_elbow(study):
    """smollm2_top_afa trains top-AFA alone: no figure of its own could show its L0 beside smollm2_layer6's elbow."""
    plan, _ = study
    assert plan.study_figures["llm_l0_choice"] == ["smollm2_layer6", "smollm2_top_afa"]
    texts = legend_texts(draw(study, "", "llm_l0_choice"))
    assert any(t.startswith("top-AFA's own L0") and "smollm2_top_afa" in t for t in texts)
    assert any(t.startswith("c_dec elbow") for t in texts)


@pytest.mark.parametrize(("experiment", "figure", "swept", "values"), [
    ("hedging_toy", "zf_plot", "w = ", 5), ("smollm2_hedging", "zf_plot", "w = ", 2),
    ("balance_toy", "nmse_vs_eps_lbo", "β = ", 5), ("wsae_s070", "nmse_vs_eps_lbo", "α = ", 2),
    ("hedging_toy", "hedging_vs_width", "L0 = 2", 3), ("sbw_small", "l0_vs_variance_explained", "λ_AFA = ", 2),
])
def test_the_swept_variable_is_in_every_label(study, experiment, figure, swept, values):
    """ZF plots of hedging_toy labelled five SAEs "L0 2, seed 0"; nmse_vs_eps_lbo could not tell β or α apart."""
    assert len({t for t in legend_texts(draw(study, experiment, figure)) if swept in t}) == values


def test_no_label_names_an_option_the_architecture_does_not_have(study):
    assert not [t for t in legend_texts(draw(study, "sbw_small", "l0_vs_variance_explained")) if "None" in t]


def test_a_geometric_grid_gets_a_log_axis_and_a_near_linear_one_does_not(study):
    assert draw(study, "smollm2_layer6", "decoder_metrics").axes[0].get_xscale() == "log"
    assert draw(study, "sbw_large", "decoder_metrics").axes[0].get_xscale() == "linear"


def test_the_feature_cosines_say_which_sae_they_show(study):
    fig = draw(study, "balance_toy", "feature_cosines")
    assert "β = 0" in fig.get_suptitle() and "w = 4" in fig.get_suptitle()


def test_every_metric_a_figure_names_is_registered():
    from sae.metrics import METRICS

    assert all(m in METRICS for spec in figures.FIGURES.values() for m in spec.metrics)


def test_the_reader_flags_an_empty_promise():
    """What the issue found, drawn on purpose: a legend entry with nothing drawn, an empty axis, a missing series."""
    from sae.figures.style import note

    fig, (full, empty, explained) = plt.subplots(1, 3)
    full.plot([1, 2], [3, 4], label="drawn")
    full.plot([], [], label="top-AFA: chosen L0")  # the vanished series of sbw_large's l0_choice
    full.legend()
    note(explained, "no letter passed the probe gate")
    found = problems(fig, ("true L0",))
    assert found == ["axis 1 ('') draws nothing and says not why",
                     "legend entry 'top-AFA: chosen L0' names nothing drawn",
                     "promised 'true L0' is neither drawn nor explained"]
    plt.close(fig)

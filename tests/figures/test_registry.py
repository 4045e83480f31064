"""Every registered figure draws from its declared inputs; shared style writes PNG and PDF atomically."""

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from sae import figures
from sae.config import GridPoint
from sae.figures.beta_feature_cosines.main import chosen_points
from sae.figures.feature_cosines.main import heatmap_points, matched_order
from sae.figures.hedging_vs_width.main import by_width
from sae.figures.style import save_figure
from sae.recommend import recommend_l0

CURVE = [(2, 0.12), (5, 0.08), (8, 0.05), (11, 0.02), (14, 0.03), (20, 0.06)]


def figure_data(tmp_path, true_l0):
    rows = [{"architecture": "batchtopk", "width": 50, "l0": float(l0), "seed": s, "c_dec": c + 0.005 * s,
             "s_n_dec": c / 2, "l0_measured": l0 - 0.01, "variance_explained": min(1.0, l0 / 11),
             "variance_explained_uncentred": min(1.0, l0 / 10),
             "ce_loss_increase": 1 / l0, "kl_div": 0.5 / l0, "eps_lbo_median": c / 10, "normalised_mse": 1 / l0, "hedging_h": 0.3 / l0,
             "hedging_p": 0.4 / l0, "hedging_p_base": 0.1 / l0, "hedging_p_base_std": 0.01, "probe_f1_k1": 0.6 + c,
             "probe_f1_k16": 0.7 + c, "probe_raw_f1_k1": 0.65, "probe_raw_f1_k16": 0.8, "absorption_fraction": c,
             "absorption_full_rate": c / 2, "absorption_letters": 12}
            for l0, c in CURVE for s in (0, 1)]
    rows += [{"architecture": "top_afa", "width": 50, "l0": None, "seed": s, "option.afa_coefficient": lam,
              "c_dec": 0.05, "s_n_dec": 0.02, "l0_measured": 4 + 40 * lam + s, "variance_explained": 0.9,
              "variance_explained_uncentred": 0.92,
              "ce_loss_increase": 0.1, "kl_div": 0.05, "eps_lbo_median": 0.01, "normalised_mse": 0.05}
             for lam in (1 / 128, 1 / 64, 1 / 32) for s in (0, 1)]
    gt = [{"l0": r["l0"], "c_dec": 0.0, "s_n_dec": 0.0, "l0_measured": r["l0"], "variance_explained": 1.0,
           "variance_explained_uncentred": 1.0}
          for r in rows if r["seed"] == 0 and r["l0"] is not None]
    tensors = []
    for l0, _ in CURVE:
        point = GridPoint(experiment="e", architecture="batchtopk", width=50, l0=l0, seed=0)
        path = tmp_path / f"t{l0}.safetensors"
        norm_z = torch.rand(200) * 5
        save_file({"ground_truth.cos_HF": torch.eye(50)[torch.randperm(50)], "quasi_orthogonality.norm_z": norm_z,
                   "quasi_orthogonality.norm_f": norm_z * (0.8 + 0.4 * torch.rand(200))}, str(path))
        tensors.append((point, path))
    return figures.FigureData("e", rows, recommend_l0(rows, true_l0), gt if true_l0 else [], tensors)


BETAS = (0.0, 0.1, 0.25, 0.5, 1.0)


def beta_data(tmp_path):
    """A balanced Matryoshka sweep over beta on a 4-feature hierarchy toy."""
    points = [GridPoint(experiment="e", architecture="balanced_matryoshka", width=4, l0=0.36, seed=0,
                        options={"beta": b}) for b in BETAS]
    rows = [{"architecture": p.architecture, "width": 4, "l0": 0.36, "seed": 0, "option.beta": p.options["beta"],
             "parent_child_dec_cos": 0.1 * b, "parent_child_enc_cos": 0.2 * b - 0.1, "child_parent_dec_cos": 0.4 - b}
            for p, b in zip(points, BETAS)]
    tensors = []
    for i, point in enumerate(points):
        save_file({"ground_truth.cos_HF": torch.rand(4, 4) * 2 - 1}, str(tmp_path / f"b{i}.safetensors"))
        tensors.append((point, tmp_path / f"b{i}.safetensors"))
    return figures.FigureData("e", rows, [], [], tensors)


def wsae_study_data(tmp_path):
    """The sweep rows of five experiments (one per S), wsae at α 0 and 1, two seeds (a study-scope figure)."""
    rows = [{"experiment": f"wsae_s{i}", "architecture": "wsae", "width": 13, "l0": 13 * (1 - s), "seed": seed,
             "option.alpha": float(alpha), "feature_sparsity": s, "l_gt": 0.2 * (1 - s) - 0.01 * alpha,
             "l_gt_monosemantic": 0.1 * (1 - s), "x_p_error": 0.3 * (1 - s), "monosemanticity": 0.5 + 0.4 * s}
            for i, s in enumerate((0.0, 0.5, 0.7, 0.9, 0.99)) for alpha in (0, 1) for seed in (0, 1)]
    return figures.FigureData("", rows, [], [], [])


def audit_data(tmp_path):
    """An audited ladder: one seed of the BatchTopK curve, each SAE named and at its measured L0."""
    rows = [r | {"sae": f"l0_{r['l0']:g}", "l0": r["l0_measured"]}
            for r in figure_data(tmp_path, None).rows if r["architecture"] == "batchtopk" and r["seed"] == 0]
    return figures.FigureData("e", rows, recommend_l0(rows, None), [], [])


# figures drawn only for experiments that sweep (or measure) what they show
SPECIAL_DATA = {"parent_child_vs_beta": beta_data, "beta_feature_cosines": beta_data, "wsae_sparsity": wsae_study_data,
                "audit_verdicts": audit_data}


@pytest.mark.parametrize("name", sorted(figures.FIGURES))
def test_every_figure_draws_and_is_written_as_png_and_pdf(name, tmp_path):
    spec = figures.FIGURES[name]
    assert figures.caption(name).read_text().strip(), "every figure has a caption for the report"
    data = (SPECIAL_DATA[name](tmp_path) if name in SPECIAL_DATA
            else figure_data(tmp_path, None if spec.applies_to == "llm" else 10.95))
    written = save_figure(figures.code(name).draw(data), tmp_path / name)
    assert [p.suffix for p in written] == [".png", ".pdf"]
    assert all(p.stat().st_size > 5000 for p in written)
    assert not list(tmp_path.glob(".*tmp*"))  # atomic writes leave no temporaries


def test_beta_heatmaps_take_the_betas_nearest_zero_a_quarter_and_one(tmp_path):
    assert [p.options["beta"] for p in chosen_points([p for p, _ in beta_data(tmp_path).tensors])] == [0, 0.25, 1]


def test_hedging_is_averaged_over_seeds_per_width():
    rows = [{"architecture": "batchtopk", "width": w, "l0": 2.0, "seed": s, "hedging_h": h}
            for w, s, h in ((5, 0, 0.2), (5, 1, 0.4), (50, 0, 0.0))]
    assert by_width(rows, "hedging_h") == {(("architecture", "batchtopk"), ("l0", 2.0)): [
        (5, pytest.approx(0.3), 0.2, 0.4), (50, 0.0, 0.0, 0.0)]}


def test_heatmaps_show_below_nearest_and_above_the_true_l0():
    points = [GridPoint(experiment="e", architecture="batchtopk", width=50, l0=l0, seed=0) for l0, _ in CURVE]
    assert [p.l0 for p in heatmap_points(points, 10.95)] == [5, 11, 20]


def test_matched_order_puts_each_feature_match_on_the_diagonal():
    cos = np.array([[0.1, 0.9, 0.0], [0.8, 0.2, 0.1], [0.0, 0.1, 0.3], [0.2, 0.1, 0.95]])
    order = matched_order(cos)
    assert list(order[:3]) == [1, 0, 3] and list(order[3:]) == [2]


def test_heatmaps_of_an_experiment_without_target_l0s_show_its_first_saes():
    points = [GridPoint(experiment="e", architecture="top_afa", width=50, l0=None, seed=0,
                        options={"afa_coefficient": lam}) for lam in (0.25, 0.5, 1.0, 2.0)]
    assert heatmap_points(points, 10.95) == points[:3]


@pytest.mark.parametrize("elbow", [None, 6.5])
def test_probing_figure_marks_an_elbow_between_grid_l0s_or_none(tmp_path, elbow):
    """sae.recommend's elbow is None where the curve has no knee (the tiny LLM study hit that); the figure
    also places one between grid L0s on the interpolated curve."""
    data = figure_data(tmp_path, None)
    data.recommendation = [r | {"l0_elbow_c_dec": elbow} for r in data.recommendation]
    fig = figures.code("probing_f1").draw(data)
    labels = [t.get_text() for ax in fig.axes for t in (ax.get_legend().get_texts() if ax.get_legend() else [])]
    assert any("c_dec elbow" in label for label in labels) == (elbow is not None)


def test_the_wsae_figure_averages_over_seeds_per_s_and_names_alpha_zero_the_sae(tmp_path):
    from sae.figures.wsae_sparsity.main import mean_over_seeds

    curves = mean_over_seeds(wsae_study_data(tmp_path).rows, "l_gt")
    assert sorted(curves) == ["SAE (wsae, α = 0)", "wsae, α = 1"]
    assert [s for s, *_ in curves["SAE (wsae, α = 0)"]] == [0.0, 0.5, 0.7, 0.9, 0.99]
    assert curves["wsae, α = 1"][1][1] == pytest.approx(0.2 * 0.5 - 0.01)


def test_a_study_scope_figure_reads_sweep_tables_only():
    with pytest.raises(ValueError, match="sweep tables only"):
        figures.FigureSpec(name="x", applies_to="toy", inputs=("tensors",), scope="study")


def test_the_cross_paper_figure_is_drawn_where_top_afa_trains_and_zf_plots_everywhere():
    from sae.figures import draws_for
    from tests.factories import experiment

    grid = {"architecture": ["batchtopk", "top_afa"], "width": [5], "l0": [2], "seed": [0]}
    with_afa, without = experiment(grid=grid), experiment(grid=grid | {"architecture": ["batchtopk"]})
    llm = experiment(source={"kind": "llm", "layer": 0, "tokens": 4096, "heldout_tokens": 1024}, grid=grid)
    assert draws_for(figures.FIGURES["l0_choice"], with_afa) and not draws_for(figures.FIGURES["l0_choice"], without)
    for name in ("zf_plot", "nmse_vs_eps_lbo"):
        assert all(draws_for(figures.FIGURES[name], e) for e in (with_afa, without, llm))


def test_l0_vs_variance_explained_draws_the_papers_uncentred_variance_explained(tmp_path):
    """Sparse but Wrong's trade-off figure divides by Σ‖x‖² (its `calculate_variance_explained`), not Σ‖x − x̄‖²."""
    import matplotlib.pyplot as plt

    data = figure_data(tmp_path, true_l0=11.0)
    fig = figures.code("l0_vs_variance_explained").draw(data)
    drawn = sorted(float(y) for line in fig.axes[0].lines for y in line.get_ydata() if line.get_marker() == "o")
    uncentred = sorted(float(r["variance_explained_uncentred"]) for r in data.rows)
    plt.close(fig)
    assert drawn == pytest.approx(uncentred)

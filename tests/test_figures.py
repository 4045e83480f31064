import numpy as np
import pytest

from sae import figures
from sae.sweep import recommend_l0


@pytest.fixture
def rows():
    curve = [(2, 0.12), (5, 0.08), (8, 0.05), (11, 0.02), (14, 0.03), (20, 0.06)]
    return [{"architecture": "batchtopk", "width": 50, "l0": l0, "seed": s, "c_dec": c + 0.005 * s,
             "s_n_dec": c / 2, "l0_measured": l0 - 0.01, "variance_explained": min(1.0, l0 / 11),
             "ce_loss_increase": 1 / l0, "kl_div": 0.5 / l0} for l0, c in curve for s in (0, 1)]


def test_figures_are_written_as_png_and_pdf(rows, tmp_path):
    recs = recommend_l0(rows, true_l0=10.95)
    gt = [{"l0": r["l0"], "c_dec": 0.0, "s_n_dec": 0.0, "l0_measured": r["l0"], "variance_explained": 1.0}
          for r in rows if r["seed"] == 0]
    written = figures.save_figure(figures.decoder_metrics_figure(rows, recs, 10.95, gt), tmp_path / "decoder")
    written += figures.save_figure(figures.variance_explained_figure(rows, gt, 10.95), tmp_path / "ve")
    written += figures.save_figure(figures.splice_cost_figure(rows, recommend_l0(rows, None)), tmp_path / "splice")
    cos = np.eye(5)[[3, 0, 4, 1, 2]]
    written += figures.save_figure(figures.cosine_heatmaps_figure([("a", cos), ("b", cos)]), tmp_path / "cos")
    assert [p.suffix for p in written] == [".png", ".pdf"] * 4
    assert all(p.stat().st_size > 5000 for p in written)
    assert not list(tmp_path.glob(".*tmp*"))  # atomic writes leave no temporaries


def test_matched_order_puts_each_feature_match_on_the_diagonal():
    cos = np.array([[0.1, 0.9, 0.0], [0.8, 0.2, 0.1], [0.0, 0.1, 0.3], [0.2, 0.1, 0.95]])
    order = figures.matched_order(cos)
    assert list(order[:3]) == [1, 0, 3] and list(order[3:]) == [2]

"""The figure jobs: every figure of an experiment from its tables, as PNG and PDF; a study figure over experiments."""

from __future__ import annotations

from sae import sweep
from sae.io import atomic_write_json
from sae import layout
from sae.config import GridPoint
from sae.jobs.figure import draw_figures, draw_study_figures
from sae.recommend import recommend_l0
from sae.tracking import Tracking, ensure_parent_runs


def test_draw_figure_writes_png_and_pdf_from_the_tables(tmp_path):
    rows = [{"experiment": "e", "architecture": "batchtopk", "width": 8, "l0": l0, "seed": 0,
             "variance_explained": ve, "variance_explained_uncentred": ve, "l0_measured": l0}
            for l0, ve in [(1, 0.5), (2, 0.8), (4, 0.95)]]
    ground_truth = [{"l0": l0, "l0_measured": l0, "variance_explained": ve, "variance_explained_uncentred": ve}
                    for l0, ve in [(1, 0.6), (2, 1.0)]]
    sweep.write_csv(rows, layout.resolve(tmp_path, layout.SWEEP_TABLE, experiment="e"))
    atomic_write_json(layout.resolve(tmp_path, layout.RECOMMENDATION, experiment="e"),
                      [{"architecture": "batchtopk", "width": 8, "true_l0": 2.0}])
    atomic_write_json(layout.resolve(tmp_path, layout.GROUND_TRUTH, experiment="e"), ground_truth)
    points = [GridPoint(experiment="e", architecture="batchtopk", width=8, l0=l0, seed=0) for l0 in (1, 2, 4)]
    paths = draw_figures(["l0_vs_variance_explained"], "e", points, [], tmp_path, track=None)
    figures = layout.resolve(tmp_path, layout.FIGURE, experiment="e", figure="x").parent
    assert sorted(p.name for p in paths) == ["l0_vs_variance_explained.pdf", "l0_vs_variance_explained.png"]
    png = (figures / "l0_vs_variance_explained.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert (figures / "l0_vs_variance_explained.pdf").read_bytes()[:4] == b"%PDF"


def test_a_study_figure_reads_the_rows_of_every_experiments_sweep_table(tmp_path):
    tables = []
    for name, s in (("wsae_s050", 0.5), ("wsae_s090", 0.9)):
        rows = [{"experiment": name, "architecture": "wsae", "width": 13, "l0": 13 * (1 - s), "seed": 0,
                 "option.alpha": alpha, "feature_sparsity": s, "l_gt": 0.1 * (1 - s), "l_gt_monosemantic": 0.05,
                 "x_p_error": 0.2 * (1 - s), "monosemanticity": 0.8} for alpha in (0, 1)]
        sweep.write_csv(rows, layout.resolve(tmp_path, layout.SWEEP_TABLE, experiment=name))
        tables.append(name)
    paths = draw_study_figures({"wsae_sparsity": tables}, tmp_path, tracks={})
    assert sorted(p.name for p in paths) == ["wsae_sparsity.pdf", "wsae_sparsity.png"]
    assert paths[0].stat().st_size > 10_000


def test_the_decoder_metrics_figure_is_the_parent_runs_first_artifact(tmp_path):
    from mlflow.tracking import MlflowClient

    rows = [{"experiment": "e", "architecture": "batchtopk", "width": 8, "l0": l0, "seed": seed,
             "c_dec": (l0 - 3) ** 2 / 10 + 0.01 * seed, "s_n_dec": max(0.0, 3 - l0), "l0_measured": l0,
             "variance_explained": 0.9, "variance_explained_uncentred": 0.9}
            for l0 in (1, 2, 3, 4, 5) for seed in (0, 1)]
    sweep.write_csv(rows, layout.resolve(tmp_path, layout.SWEEP_TABLE, experiment="e"))
    atomic_write_json(layout.resolve(tmp_path, layout.RECOMMENDATION, experiment="e"), recommend_l0(rows, 3.0))
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    track = Tracking(uri, ensure_parent_runs(uri, {"e": "e"}, "s")["e"])
    draw_figures(["l0_vs_variance_explained", "decoder_metrics"], "e", [], [], tmp_path, track)
    client = MlflowClient(uri)
    # the folder listed first (alphabetically) holds the answer as a picture
    assert [a.path for a in client.list_artifacts(track.parent_run_id)] == ["answer", "figures"]
    assert [a.path for a in client.list_artifacts(track.parent_run_id, "answer")] == ["answer/decoder_metrics.png"]
    assert sorted(a.path for a in client.list_artifacts(track.parent_run_id, "figures")) == [
        f"figures/{name}.{ext}" for name in ("decoder_metrics", "l0_vs_variance_explained") for ext in ("pdf", "png")]

"""The WSAE synthetic study through the workflow: one experiment per S, one study-scope figure over them."""

import pytest

from sae import layout, sweep
from tests.workflow_checks import REPO, check_study_outputs, run_snakemake

pytestmark = pytest.mark.slow
CONFIG = REPO / "tests" / "configs" / "wsae_tiny.yaml"


def test_the_wsae_study_runs_and_draws_its_figure_once(tmp_path):
    results = tmp_path / "results"
    uri = f"sqlite:///{results}/mlflow.db"
    proc = run_snakemake(tmp_path, "--cores", "2", "--config", f"results_dir={results}", f"tracking={{uri: '{uri}'}}",
                         configfile=CONFIG)
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_study_outputs(results, uri, configfile=CONFIG)  # includes the study figure, MLflow child runs
    rows = [r for e in ("wsae_s050", "wsae_s090")
            for r in sweep.read_csv(layout.resolve(results, layout.SWEEP_TABLE, experiment=e))]
    assert sorted({r["feature_sparsity"] for r in rows}) == pytest.approx([0.5, 0.9])
    assert all(r["l_gt"] >= 0 and 0 <= r["monosemanticity"] <= 1 for r in rows)
    assert sorted(r["option.alpha"] for r in rows) == [0, 0, 1, 1]
    assert layout.resolve(results, layout.STUDY_FIGURE, figure="wsae_sparsity").stat().st_size > 10_000

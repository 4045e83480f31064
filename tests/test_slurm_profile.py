"""The Slurm profile plans every job the default study uses, without a cluster."""

from tests.workflow_checks import REPO, run_snakemake


def test_the_slurm_profile_plans_the_default_study(tmp_path):
    """A dry run of config.yaml (hedging continuations, refinement, LLM evaluations) under the profile: its
    resources name rules that exist, and training jobs ask for what the profile gives them."""
    proc = run_snakemake(tmp_path, "-n", "--workflow-profile", str(REPO / "workflow/profiles/slurm"),
                         "--executor", "local", "--config", f"results_dir={tmp_path / 'results'}",
                         f"tracking={{uri: 'sqlite:///{tmp_path}/mlflow.db'}}", configfile=REPO / "config.yaml")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "rule continue_hedging_toy" in proc.stdout and "rule evaluate_hedging_toy" in proc.stdout
    train = proc.stdout[proc.stdout.index("rule train_smollm2_layer6"):]
    assert "mem_mb=8000" in train[: train.index("\n\n")]

"""The Slurm profile's job groups hold for every rule the default study uses, without a cluster."""

from tests.workflow_checks import REPO, run_snakemake


def test_the_slurm_profile_plans_the_default_study(tmp_path):
    """A dry run of config.yaml (hedging continuations, refinement, LLM evaluations) under the profile.

    Snakemake refuses a group that a job outside it both reads from and feeds: continue_sae reads
    train_sae's SAE and evaluate_sae reads the continuations, so all three must share `sae_point`.
    """
    proc = run_snakemake(tmp_path, "-n", "--workflow-profile", str(REPO / "workflow/profiles/slurm"),
                         "--executor", "local", "--config", f"results_dir={tmp_path / 'results'}",
                         f"tracking={{uri: 'sqlite:///{tmp_path}/mlflow.db'}}", configfile=REPO / "config.yaml")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "continue_sae" in proc.stdout and "evaluate_sae" in proc.stdout

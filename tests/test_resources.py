"""The resource pre-flight: training jobs' peak memory against their device, stores against free disk."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sae.config import GridPoint, load_study_config
from sae.fused.plan import estimate_group_bytes
from sae.resources import (PROCESS_BYTES, TRAIN_MEM_MB, GiB, Limits, TrainingJob, disk_problems, limits_of,
                           memory_problems, runs_elsewhere, store_bytes, training_jobs)
from tests.conftest import make_study

RAM_24 = Limits(ram_bytes=24 * GiB, gpu_bytes=None)


def toy(width=5, l0=(1, 2), fused_group_size=64, batch_size=512, device="cpu"):
    return load_study_config(make_study(
        experiments__toy__grid__width=[width], experiments__toy__grid__l0=list(l0),
        experiments__toy__training={"samples": 4096, "batch_size": batch_size, "device": device,
                                    "fused_group_size": fused_group_size}))


def test_jobs_are_fused_groups_and_points_alone():
    [group] = training_jobs(toy(l0=(1, 2, 3)), {"toy": 20})
    assert (group.members, group.width, group.d_in, group.rule) == (3, 5, 20, "train")
    alone = training_jobs(toy(l0=(1, 2, 3), fused_group_size=1), {"toy": 20})
    assert [(j.members, j.name) for j in alone] == [(1, GridPoint(experiment="toy", architecture="batchtopk", width=5,
                                                                  l0=k, seed=0).key) for k in (1, 2, 3)]
    assert training_jobs(toy(), {"toy": None}) == []  # d_model unknown (a hub model): not judged


def test_a_job_is_its_process_and_its_stack():
    alone = TrainingJob("toy", "p", 1, width=1000, d_in=20, batch_size=512, device="cpu")
    assert alone.member_bytes() == 4 * (4 * (2 * 1000 * 20 + 1020) + 512 * (8 * 1000 + 4 * 20))
    job = TrainingJob("toy", "g", 4, width=1000, d_in=20, batch_size=512, device="cpu")
    assert job.member_bytes() == 4 * (5 * (2 * 1000 * 20 + 1020) + 512 * (12 * 1000 + 4 * 20))
    assert job.peak_bytes() == PROCESS_BYTES + 4 * job.member_bytes()
    # split as plan_groups splits: its budget over its own, larger, estimate of a member
    planned = estimate_group_bytes([SimpleNamespace(d_in=20, width=1000, batch_size=512)])
    assert planned > job.member_bytes()
    assert job.stacked(budget_bytes=2 * planned + 1) == 2 and job.stacked(budget_bytes=1) == 1


def test_the_estimate_stays_under_the_measured_peaks():
    """Peaks measured with benchmarks/bench_memory.py (GiB, maximum resident set size, CPU): the estimate may
    be low (the study runs), not high (a study that fits would be refused)."""
    measured = {(1, 20_000, 1024): 1.43, (1, 100_000, 1024): 4.48, (4, 25_000, 1024): 5.82,
                (1, 20_000, 4096): 3.67, (1, 100, 1024): 0.60}
    for (members, width, batch), peak in measured.items():
        job = TrainingJob("toy", "j", members, width=width, d_in=20, batch_size=batch, device="cpu")
        assert 0.75 * peak < job.peak_bytes() / GiB <= peak, (members, width, batch)


def test_a_width_with_zeros_too_many_is_refused_with_what_to_change():
    [line] = memory_problems(toy(width=5_000_000, l0=(2,)), {"toy": 20}, RAM_24)
    assert line.startswith("experiments.toy: training toy/batchtopk/w5000000/l0_2/seed0 needs about ")
    assert "more than this machine's RAM (24.0 GiB); lower grid.width, training.batch_size" in line
    assert "fused_group_size" not in line  # a point alone: the group size cannot help
    assert memory_problems(toy(width=5), {"toy": 20}, RAM_24) == []


def test_a_fused_group_that_fits_once_split_runs_locally_but_not_on_a_cluster_node():
    """plan_groups splits a group to half the RAM here; on a node it stacks them all within mem_mb."""
    study = toy(width=100_000, l0=range(1, 41), batch_size=1024)  # 40 members of ~6.6 GB
    assert memory_problems(study, {"toy": 20}, Limits(ram_bytes=1024 * GiB, gpu_bytes=None)) == []
    cluster = Limits(ram_bytes=24 * GiB, gpu_bytes=None, mem_mb={"train": 8000}, cluster=True)
    [line] = memory_problems(study, {"toy": 20}, cluster)
    assert "40 x width 100000" in line and "more than the mem_mb of train (7.8 GiB)" in line
    assert "training.fused_group_size" in line and "raise the job's mem_mb" in line


def test_cuda_is_judged_against_a_visible_gpu_else_the_profile_else_not_at_all():
    study = toy(width=2_000_000, l0=(2,), device="cuda")
    [line] = memory_problems(study, {"toy": 20}, Limits(ram_bytes=24 * GiB, gpu_bytes=16 * GiB))
    assert "more than the GPU's memory (16.0 GiB)" in line and "training.device: cpu" in line
    assert memory_problems(study, {"toy": 20}, Limits(ram_bytes=24 * GiB, gpu_bytes=None)) == []
    [line] = memory_problems(study, {"toy": 20}, Limits(24 * GiB, None, mem_mb={"train": 4000}))
    assert "the mem_mb of train" in line


def test_one_line_per_experiment():
    study = make_study(experiments__toy__grid__width=[4_000_000, 5_000_000])
    assert len(memory_problems(load_study_config(study), {"toy": 20}, RAM_24)) == 1


def test_a_cluster_run_is_told_by_its_resource_settings():
    workflow = SimpleNamespace(resource_settings=SimpleNamespace(cores=None, nodes=50))
    assert runs_elsewhere(workflow)
    assert limits_of(workflow).mem_mb == {"train": TRAIN_MEM_MB} and limits_of(workflow).cluster
    local = SimpleNamespace(resource_settings=SimpleNamespace(cores=2, nodes=None))
    assert not runs_elsewhere(local) and not runs_elsewhere(object())


class _Source(SimpleNamespace):
    pass


def test_a_store_larger_than_the_free_disk_is_refused(tmp_path, monkeypatch):
    source = _Source(tokens=1_000_000, dtype="float32")
    assert store_bytes(1_000_000, 576, "float32") == 2_304_000_000
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda path: SimpleNamespace(total=0, used=0, free=GiB))
    [line] = disk_problems({"s1": ("lm", source, 576)}, tmp_path / "results")
    assert line.startswith("experiments.lm.source: its activation store needs 2.1 GiB (1000000 tokens x d_model 576 "
                           "x 4 bytes, float32) but ")
    assert "has 1.0 GiB free; free space, lower source.tokens" in line
    small = _Source(tokens=100_000, dtype="bfloat16")  # 115 MB each: nine fit in 1 GiB, the tenth does not
    lines = disk_problems({f"s{i}": (f"lm{i}", small, 576) for i in range(10)}, tmp_path / "results")
    assert [line.split(":")[0] for line in lines] == ["experiments.lm9.source"]
    assert "taken by the stores before it" in lines[0]
    assert disk_problems({"s1": ("lm", source, None)}, tmp_path) == []  # d_model unknown: not judged


def test_a_complete_store_needs_no_space(tmp_path, monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda path: SimpleNamespace(total=0, used=0, free=0))
    store = tmp_path / "results/activations/s1"
    store.mkdir(parents=True)
    (store / "manifest.json").write_text("{}")
    assert disk_problems({"s1": ("lm", _Source(tokens=10**6, dtype="float32"), 576)}, tmp_path / "results") == []


@pytest.mark.parametrize("dtype,size", [("float32", 4), ("float16", 2), ("bfloat16", 2)])
def test_store_bytes_per_dtype(dtype, size):
    assert store_bytes(10, 3, dtype) == 30 * size

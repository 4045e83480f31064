import dataclasses
import subprocess
import sys

import pytest

from sae.fused.plan import FusionError, check_group, estimate_group_bytes, fusable, near_equal_chunks, plan_groups
from tests.factories import fused_spec


def test_importing_plan_does_not_import_torch():
    """The Snakefile plans groups: importing torch would cost it 1.7 s, SAELens 6 s."""
    code = "import sys, sae.fused.plan; assert 'torch' not in sys.modules and 'sae_lens' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_near_equal_chunks():
    assert near_equal_chunks(list(range(24)), 64) == [list(range(24))]
    assert [len(c) for c in near_equal_chunks(list(range(10)), 4)] == [4, 3, 3]
    assert [len(c) for c in near_equal_chunks(list(range(13)), 4)] == [4, 3, 3, 3]
    assert [len(c) for c in near_equal_chunks(list(range(8)), 4)] == [4, 4]
    assert [len(c) for c in near_equal_chunks(list(range(5)), 1)] == [1] * 5
    assert [x for c in near_equal_chunks(list(range(10)), 4) for x in c] == list(range(10))  # order kept
    assert near_equal_chunks([], 4) == []


def test_plan_groups_splits_over_budget_and_keeps_unfusable_alone():
    specs = [dataclasses.replace(fused_spec("batchtopk", l0), seed=seed) for seed in (0, 1) for l0 in (1, 2, 3, 4, 5)]
    specs.append(fused_spec("standard", 2.0))
    roomy = plan_groups(specs, memory_budget_bytes=10**12)
    assert sorted(len(g) for g in roomy) == [1, 5, 5]
    assert all(len({s.seed for s in g}) == 1 for g in roomy)

    per_member = estimate_group_bytes(specs[:1])
    tight = plan_groups(specs, memory_budget_bytes=int(2.5 * per_member))
    # five points of a seed, at most two per group: 2 + 2 + 1, and the standard SAE alone
    assert sorted(len(g) for g in tight) == [1, 1, 1, 2, 2, 2, 2]
    assert all(estimate_group_bytes(g) <= 2.5 * per_member for g in tight)
    assert sorted(specs, key=repr) == sorted((s for g in tight for s in g), key=repr)


def test_unsupported_architectures_are_rejected_clearly():
    assert not fusable(fused_spec("standard", 2.0)) and fusable(fused_spec("topk", 2.0))
    with pytest.raises(FusionError, match="train_sae"):
        check_group([fused_spec("standard", 2.0)])
    mixed_widths = [fused_spec("topk", 2.0), dataclasses.replace(fused_spec("topk", 3.0), width=32)]
    with pytest.raises(FusionError, match="must share"):
        check_group(mixed_widths)
    with pytest.raises(FusionError, match="at least one"):
        check_group([])

"""Refinement plans points inside the recommended interval only, plans nothing twice, and trains a round fused."""

import pytest
from pydantic import ValidationError

from sae.config import GridPoint
from sae.config.refine import RefineConfig
from sae.recommend import recommend_l0
from sae.refine import added_training, new_l0s, refine_points, round_groups
from sae.sweep import point_row
from tests.factories import experiment


def grid(l0s, seeds=(0, 1)):
    return [GridPoint(experiment="e", architecture="batchtopk", width=50, l0=l0, seed=s) for l0 in l0s for s in seeds]


def recommendation(points):
    # c_dec = (l0 - 7.5)^2: recommended 7.5, interval [6.5, 8.5] (tests/test_recommend.py)
    rows = [point_row(p) | {"c_dec": (p.l0 - 7.5) ** 2 + 0.001 * p.seed, "s_n_dec": 1.0} for p in points]
    return recommend_l0(rows, None)


def test_new_l0s_are_evenly_inside_and_skip_swept_values():
    assert new_l0s(6.5, 8.5, 3, [7, 8]) == [7.5]
    assert new_l0s(6.5, 8.5, 1, []) == [7.5]


def test_points_are_added_only_inside_the_interval_with_every_refine_seed():
    points = grid(range(2, 13))
    rec, = recommendation(points)
    added = refine_points(points, [rec], RefineConfig(points=3, seeds=[0, 1, 2]))
    assert all(rec["interval_low"] <= p.l0 <= rec["interval_high"] for p in added)
    assert sorted({(p.l0, p.seed) for p in added}) == [(7.0, 2), (7.5, 0), (7.5, 1), (7.5, 2), (8.0, 2)]
    assert all(p.architecture == "batchtopk" and p.width == 50 and p.experiment == "e" for p in added)


def test_planning_again_from_the_refined_grid_adds_nothing_new():
    points = grid(range(2, 13))
    rec, = recommendation(points)
    added = refine_points(points, [rec], RefineConfig(points=3))
    assert refine_points(points + added, [rec], RefineConfig(points=3)) == []


def test_unsupported_curve_gets_no_points():
    points = grid([2, 4, 8])
    rows = [point_row(p) | {"c_dec": p.l0, "s_n_dec": 1.0} for p in points]  # rises from the smallest L0
    assert refine_points(points, recommend_l0(rows, None), RefineConfig()) == []


def test_a_rounds_added_points_train_fused_per_seed_named_apart_from_the_coarse_grid():
    points = grid(range(2, 13))
    rec, = recommendation(points)
    exp = experiment(refine={"points": 3, "seeds": [0, 1, 2]}, training={"fused_group_size": 64})
    added = refine_points(points, [rec], exp.refine)  # 7.5 for seeds 0, 1; 7, 7.5, 8 for seed 2
    group, = round_groups("e", exp, 1, added)
    assert group.name == "refine1_batchtopk_w50_seed2_0"
    assert [(p.l0, p.seed) for p in group.points] == [(7.0, 2), (7.5, 2), (8.0, 2)]
    # a seed with one added point trains it alone, as the coarse grid does
    solo = refine_points(points, [rec], RefineConfig(points=3))
    assert round_groups("e", exp, 1, solo) == []


def test_added_points_train_on_refine_samples_or_else_the_experiments():
    added = grid([7.5])[:1]
    assert added_training(experiment(refine={"samples": 4096}), added)["training"]["samples"] == 4096
    exp = experiment(refine={})
    assert added_training(exp, added) == exp.for_training(added)


def test_refine_samples_must_be_positive():
    with pytest.raises(ValidationError, match="samples"):
        RefineConfig(samples=0)

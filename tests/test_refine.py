"""Refinement plans points inside the recommended interval only, and plans nothing twice."""

from sae.config import GridPoint
from sae.config.refine import RefineConfig
from sae.recommend import recommend_l0
from sae.refine import new_l0s, refine_points
from sae.sweep import point_row


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

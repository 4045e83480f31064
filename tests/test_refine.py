"""Refinement plans points inside the recommended interval only and plans nothing twice (how a round trains: test_plan)."""

import pytest
from pydantic import ValidationError

from sae.config import GridPoint
from sae.config.refine import RefineConfig
from sae.recommend import recommend_l0
from sae.refine import new_l0s, refine_points
from sae.sweep import point_row
from tests.factories import experiment


def grid(l0s, seeds=(0, 1)):
    return [GridPoint(experiment="e", architecture="batchtopk", width=50, l0=l0, seed=s) for l0 in l0s for s in seeds]


def recommendation(points):
    # c_dec = (l0 - 7.5)^2 on integers: floor 7, interval [6, 9], the bracket of the valley 7..8 (test_recommend.py)
    rows = [point_row(p) | {"c_dec": (p.l0 - 7.5) ** 2 + 0.001 * p.seed, "s_n_dec": 1.0} for p in points]
    return recommend_l0(rows, None)


def test_new_l0s_bisect_the_widest_gaps_nearest_the_recommendation_first():
    # gaps 6.5-7, 7-8, 8-8.5: the widest is halved (7.5); then of four equal gaps the two nearest 7.5
    assert new_l0s(6.5, 8.5, 3, [7, 8], centre=7.5, spacing="linear") == [7.25, 7.5, 7.75]
    assert new_l0s(6.5, 8.5, 1, [], centre=7.5, spacing="linear") == [7.5]
    # L0s outside the interval do not count
    assert new_l0s(6.5, 8.5, 1, [4, 7, 8, 12], centre=7.0, spacing="linear") == [7.5]


def test_log_spacing_bisects_a_geometric_grid_where_the_answer_is():
    # 2, 4, 8, 16, 32: every gap is ln 2 wide, so the first new point halves the one nearest the recommendation
    # (10) in log L0, at its geometric mean sqrt(8 * 16) = 11.31; then 4-8 (sqrt 32 = 5.66 is 0.57 from ln 10)
    # before 16-32 (22.63, 0.82 from it)
    assert new_l0s(2, 32, 3, [4, 8, 16], centre=10) == [5.66, 11.31, 22.63]
    # the same grid in linear L0: the widest gap is 16-32, far from the answer
    assert new_l0s(2, 32, 1, [4, 8, 16], centre=10, spacing="linear") == [24.0]
    # an evenly spaced grid's widest gap in log L0 is its lowest: 6-7 before 8-9
    assert new_l0s(6, 9, 1, [7, 8], centre=8) == [6.48]


def test_points_are_added_only_inside_the_interval_with_every_refine_seed():
    points = grid(range(2, 13))
    rec, = recommendation(points)
    added = refine_points(points, [rec], RefineConfig(points=3, seeds=[0, 1, 2], spacing="linear"))
    assert all(rec["interval_low"] <= p.l0 <= rec["interval_high"] for p in added)
    # new: 7.5 (equal gaps in [6, 9], nearest the recommended 7, the upper on a tie), then 6.5, then 8.5
    assert sorted({(p.l0, p.seed) for p in added}) == [
        (6.0, 2), (6.5, 0), (6.5, 1), (6.5, 2), (7.0, 2), (7.5, 0), (7.5, 1), (7.5, 2), (8.0, 2),
        (8.5, 0), (8.5, 1), (8.5, 2), (9.0, 2)]
    assert all(p.architecture == "batchtopk" and p.width == 50 and p.experiment == "e" for p in added)


def test_refine_points_use_the_configured_spacing():
    points = grid(range(2, 13))
    rec, = recommendation(points)  # interval [6, 9] holding 6, 7, 8, 9
    assert sorted({p.l0 for p in refine_points(points, [rec], RefineConfig(points=1))} - {6, 7, 8, 9}) == [6.48]
    assert sorted({p.l0 for p in refine_points(points, [rec], RefineConfig(points=1, spacing="linear"))}
                  - {6, 7, 8, 9}) == [7.5]


def test_planning_is_deterministic_and_never_plans_an_existing_point_again():
    # a re-run re-plans a round only from the same inputs (Snakemake keeps the plan otherwise): the same points
    points = grid(range(2, 13))
    rec, = recommendation(points)
    added = refine_points(points, [rec], RefineConfig(points=3))
    assert refine_points(points, [rec], RefineConfig(points=3)) == added
    # a later round from the same interval bisects what is left and repeats none of the earlier points
    later = refine_points(points + added, [rec], RefineConfig(points=3))
    assert later and not {p.key for p in later} & {p.key for p in points + added}


def test_unsupported_curve_gets_no_points():
    points = grid([2, 4, 8])
    rows = [point_row(p) | {"c_dec": p.l0, "s_n_dec": 1.0} for p in points]  # rises from the smallest L0
    assert refine_points(points, recommend_l0(rows, None), RefineConfig()) == []


def test_refine_samples_must_be_positive():
    with pytest.raises(ValidationError, match="samples"):
        RefineConfig(samples=0)

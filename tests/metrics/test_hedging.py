"""Hedging degree on hand-made decoders: no movement is 0, movement into the new span is 1 (up to the baseline)."""

import math

import pytest
import torch

from sae.metrics.hedging.main import hedging_degree, span_projection_norms

EYE = torch.eye(4)


def _gen():
    return torch.Generator().manual_seed(0)


def test_projection_onto_a_span_of_dependent_directions():
    delta = torch.tensor([[3.0, 4.0, 0.0, 0.0]])
    # the second direction repeats the first: the span has rank 1 and Q keeps one column
    assert span_projection_norms(delta, torch.stack([EYE[0], 2 * EYE[0]])).item() == pytest.approx(3.0)
    assert span_projection_norms(delta, EYE[:2]).item() == pytest.approx(5.0)


def test_a_control_equal_to_the_extended_copy_hedges_zero():
    control = torch.stack([EYE[0], EYE[1]])
    extended = torch.cat([control, 0.1 * EYE[2:3]])
    got = hedging_degree(control, extended, baselines=50, generator=_gen())
    assert got["hedging_p"] == 0 and got["hedging_p_base"] == 0 and got["hedging_h"] == 0
    assert got["hedging_new_latents"] == 1


def test_movement_entirely_into_the_new_span_hedges_one():
    control = torch.stack([EYE[0], EYE[1]])
    # each old latent moves by a vector of its own norm, inside the new latent's span: p = 1
    extended = torch.stack([EYE[0] + EYE[2], EYE[1] - EYE[2], 0.1 * EYE[2]])
    got = hedging_degree(control, extended, baselines=50, generator=_gen())
    assert got["hedging_p"] == pytest.approx(1.0)
    assert 0 < got["hedging_p_base"] < 1 and got["hedging_p_base_std"] > 0
    assert got["hedging_h"] == pytest.approx(1.0)


def test_half_the_movement_is_rescaled_by_the_baseline():
    control = torch.stack([EYE[0], EYE[1]])
    extended = torch.stack([EYE[0] + 0.5 * EYE[2], EYE[1], 0.1 * EYE[2]])
    got = hedging_degree(control, extended, baselines=50, generator=_gen())
    assert got["hedging_p"] == pytest.approx(0.25)  # mean |Delta_i| in the span: (0.5 + 0) / 2, over mean |ctrl| 1
    p_base = got["hedging_p_base"]
    # a random direction g catches 0.5 |g_2| / |g| of the one moved latent: E = 0.25 E|cos| < 0.25
    assert 0 < p_base < 0.25
    assert got["hedging_h"] == pytest.approx((0.25 - p_base) / (1 - p_base))
    assert not math.isnan(got["hedging_p_base_std"])


def test_movement_orthogonal_to_the_new_span_is_not_hedging():
    control = torch.stack([EYE[0], EYE[1]])
    extended = torch.stack([EYE[0] + EYE[3], EYE[1], EYE[2]])
    assert hedging_degree(control, extended, baselines=20, generator=_gen())["hedging_h"] == 0

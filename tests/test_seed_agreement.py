"""Agreement between seeds: the Hungarian-matched mean |cos| between decoders of SAEs that differ only in their seed."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import save_file

from sae.config import GridPoint
from sae.recommend import recommend_l0
from sae.seed_agreement import seed_agreement, siblings
from sae.sweep import point_row

S = 1 / math.sqrt(2)
IDENTITY = torch.eye(3)
# rows 0 and 1 rotated by 45 degrees in their plane: each matches any row of IDENTITY's first two at |cos| 1/sqrt 2
ROTATED = torch.tensor([[S, S, 0.0], [S, -S, 0.0], [0.0, 0.0, 1.0]])


def point(l0, seed, width=3):
    return GridPoint(experiment="e", architecture="batchtopk", width=width, l0=l0, seed=seed)


def test_the_same_directions_in_another_order_and_sign_agree_fully():
    a, b = point(2, 0), point(2, 1)
    permuted = -IDENTITY[[2, 0, 1]]
    assert seed_agreement([a, b], {a.key: IDENTITY, b.key: permuted}) == pytest.approx({a.key: 1.0, b.key: 1.0})


def test_a_rotated_pair_of_directions_agrees_at_their_matched_cosines():
    a, b = point(2, 0), point(2, 1)
    # matched |cos|: 1/sqrt 2, 1/sqrt 2 and 1 -> (2 / sqrt 2 + 1) / 3 = 0.8047
    assert seed_agreement([a, b], {a.key: IDENTITY, b.key: ROTATED})[a.key] == pytest.approx((2 * S + 1) / 3)


def test_each_seed_gets_its_mean_agreement_with_the_others_and_a_lone_seed_none():
    a, b, c, lone = point(2, 0), point(2, 1), point(2, 2), point(4, 0)
    decoders = {a.key: IDENTITY, b.key: IDENTITY, c.key: ROTATED, lone.key: IDENTITY}
    agreement = seed_agreement([a, b, c, lone], decoders)
    partial = (2 * S + 1) / 3
    assert agreement == pytest.approx({a.key: (1 + partial) / 2, b.key: (1 + partial) / 2, c.key: partial})


def test_only_points_of_one_curve_and_l0_are_compared():
    # another width is another curve: no siblings across it
    assert siblings([point(2, 0), point(2, 1, width=4), point(3, 1)]) == []
    assert seed_agreement([point(2, 0), point(2, 1, width=4)], weights={}) == {}  # nothing read, nothing imported


def test_decoders_are_read_from_the_saved_weights(tmp_path):
    a, b = point(2, 0), point(2, 1)
    paths = {}
    for p, w in ((a, IDENTITY), (b, ROTATED)):
        paths[p.key] = tmp_path / f"{p.seed}.safetensors"
        save_file({"W_dec": w, "W_enc": w.T.contiguous()}, str(paths[p.key]))
    assert seed_agreement([a, b], weights=paths)[b.key] == pytest.approx((2 * S + 1) / 3)


def test_the_recommendation_reports_the_peak_of_agreement_beside_c_dec_without_using_it():
    points = [point(l0, s, width=50) for l0 in (2, 4, 6, 8, 10) for s in (0, 1)]
    agreement = {2: 0.6, 4: 0.8, 6: 0.9, 8: 0.95, 10: 0.7}
    rows = [point_row(p) | {"c_dec": (p.l0 - 6) ** 2 + 0.01 * p.seed, "s_n_dec": 1.0, "seed_agreement": agreement[p.l0]}
            for p in points]
    rec, = recommend_l0(rows, None)
    assert rec["l0_argmax_seed_agreement"] == 8
    without, = recommend_l0([{k: v for k, v in r.items() if k != "seed_agreement"} for r in rows], None)
    assert without["l0_argmax_seed_agreement"] is None
    assert {k: v for k, v in rec.items() if k != "l0_argmax_seed_agreement"} == {
        k: v for k, v in without.items() if k != "l0_argmax_seed_agreement"}

import math

import pytest
import torch

from sae.config import ToySource
from sae.data.toy import ToyBatches, ToyModel, build_toy_model


def toy(preset):
    return build_toy_model(ToySource.model_validate({"preset": preset}).model)


def test_features_are_orthonormal_and_true_l0_recorded():
    model = toy("sbw_large")
    gram = model.feature_vectors_FD @ model.feature_vectors_FD.T
    assert torch.allclose(gram, torch.eye(50), atol=1e-5)
    assert model.true_l0 == pytest.approx(10.9525, abs=1e-4)


@pytest.mark.parametrize(("preset", "sign"), [("sbw_small", 1), ("sbw_small_neg", -1)])
def test_small_toy_firing_rates_and_correlation_sign(preset, sign):
    batches = ToyBatches(toy(preset), batch_size=50_000, seed=0)
    _, feats = batches.next_with_features()
    fired = (feats > 0).float()
    assert fired.mean(0) == pytest.approx(torch.full((5,), 0.4), abs=0.01)
    assert fired.sum(1).mean().item() == pytest.approx(2.0, abs=0.03)  # true L0
    corr = torch.corrcoef(fired.T)
    assert (sign * corr[0, 1:] > 0.15).all()
    assert corr[1:, 1:][~torch.eye(4, dtype=bool)].abs().max() < 0.2


def test_magnitudes_are_around_one():
    _, feats = ToyBatches(toy("sbw_small"), batch_size=20_000, seed=1).next_with_features()
    active = feats[feats > 0]
    assert active.mean().item() == pytest.approx(1.0, abs=0.01)
    assert active.std().item() == pytest.approx(0.15, abs=0.01)


def test_batches_depend_only_on_seed_and_resume_exactly():
    model = toy("sbw_large")
    a = ToyBatches(model, 64, seed=3)
    first = next(a)
    torch.manual_seed(999)  # global RNG use elsewhere must not change the stream
    state = a.state_dict()
    second = next(a)
    b = ToyBatches(model, 64, seed=3)
    assert torch.equal(next(b), first)
    c = ToyBatches(model, 64, seed=3)
    c.load_state_dict(state)
    assert torch.equal(next(c), second)
    assert not torch.equal(next(ToyBatches(model, 64, seed=4)), first)


def test_save_load_round_trip(tmp_path):
    model = toy("sbw_small")
    model.save(tmp_path)
    loaded = ToyModel.load(tmp_path)
    assert torch.equal(loaded.feature_vectors_FD, model.feature_vectors_FD)
    assert torch.equal(loaded.correlation_FF, model.correlation_FF)
    assert loaded.true_l0 == pytest.approx(2.0)


def test_a_truncated_toy_model_file_is_named_with_the_fix(tmp_path):
    from sae.io import UnreadableOutput

    build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model).save(tmp_path)
    weights = next(tmp_path.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:40])
    with pytest.raises(UnreadableOutput, match=rf"{weights} is damaged \(SafetensorError: .*\); delete {tmp_path} and re-run"):
        ToyModel.load(tmp_path)


def test_hedging_toy_children_fire_only_with_their_parent_at_their_conditional_rate():
    model = toy("hedging")
    assert model.true_l0 == pytest.approx(10 * 0.15 * (1 + 4 * 0.2))
    _, feats = ToyBatches(model, batch_size=100_000, seed=0).next_with_features()
    fired = feats > 0
    parents, children = fired[:, 0::5], fired.reshape(-1, 10, 5)[:, :, 1:]
    assert not (children & ~parents[:, :, None]).any()
    assert parents.float().mean().item() == pytest.approx(0.15, abs=0.005)
    given_parent = children[parents].float().mean().item()
    assert given_parent == pytest.approx(0.2, abs=0.01)
    assert fired.sum(1).float().mean().item() == pytest.approx(model.true_l0, abs=0.03)


def test_hierarchy_survives_save_and_load(tmp_path):
    model = toy("balance")
    model.save(tmp_path)
    loaded = ToyModel.load(tmp_path)
    assert loaded.hierarchy == model.hierarchy and loaded.true_l0 == pytest.approx(0.25 * (1 + 3 * 0.15))


def test_single_latent_cases_set_the_parent_child_joint_firing():
    both = {}
    for case in ("hierarchy", "independent", "partial", "anticorrelated"):
        _, feats = ToyBatches(toy(f"single_latent_{case}"), batch_size=100_000, seed=0).next_with_features()
        fired = feats > 0
        assert feats[fired].unique().tolist() == [1.0]  # unit magnitudes: the closed form assumes them
        both[case] = (fired[:, 0] & fired[:, 1]).float().mean().item()
        child_alone = (fired[:, 1] & ~fired[:, 0]).float().mean().item()
        assert (child_alone == 0) == (case == "hierarchy")
    assert both["hierarchy"] == pytest.approx(0.05, abs=0.003)
    assert both["independent"] == pytest.approx(0.05, abs=0.003)
    assert both["partial"] > 0.08 and both["anticorrelated"] < 0.02


def test_hierarchy_features_must_exist_once():
    with pytest.raises(ValueError, match="hierarchy"):
        ToySource.model_validate({"preset": "balance", "model": {"hierarchy": [{"feature": 0, "children": [{"feature": 4}]}]}})
    with pytest.raises(ValueError, match="hierarchy"):
        ToySource.model_validate({"preset": "balance", "model": {"hierarchy": [{"feature": 0, "children": [{"feature": 0}]}]}})


def test_single_latent_hierarchy_matches_the_closed_form_hedging_angle():
    """Feature Hedging, single-latent toy: one tied unit latent d, no bias, pure MSE maximises
    E[(d.x)^2] over the parent/child plane, E[xx^T] = [[P(p), P(both)], [P(both), P(both)]] in
    (parent, child) coordinates for unit magnitudes, so tan 2θ = 2·P(both) / (P(p) - P(both)) =
    2·P(both) / P(parent only) and the latent's cosine with the child is sin θ (0.230 here)."""
    model = toy("single_latent_hierarchy")
    parent_only, both = 0.25 * 0.8, 0.25 * 0.2
    expected = math.sin(0.5 * math.atan(2 * both / parent_only))
    assert expected == pytest.approx(0.230, abs=5e-4)
    torch.manual_seed(0)
    d = torch.nn.Parameter(torch.randn(model.d_model))
    opt = torch.optim.Adam([d], lr=1e-2)
    batches = ToyBatches(model, batch_size=4096, seed=0)
    for _ in range(600):
        x = next(batches)
        unit = d / d.norm()
        loss = (x - torch.relu(x @ unit)[:, None] * unit).pow(2).sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    cos_child = torch.nn.functional.cosine_similarity(d.detach(), model.feature_vectors_FD[1], dim=0).item()
    assert cos_child == pytest.approx(expected, abs=0.03)


def test_balance_toy_fires_with_the_notebooks_unit_magnitudes():
    """balancing_hedging_and_absorption.ipynb: TreeFeatureGenerator's magnitude_std defaults to 0, so every
    firing feature has magnitude exactly 1."""
    toy = build_toy_model(ToySource.model_validate({"preset": "balance"}).model)
    _, acts = ToyBatches(toy, 4096, seed=0).next_with_features()
    fired = acts[acts > 0]
    assert fired.numel() > 1000 and torch.equal(fired, torch.ones_like(fired))


# Sparse but Wrong's own generate_random_correlation_matrix(num_features=50, correlation_strength_range=(0.3, 0.9),
# seed=42) (main_toy_model_experiments.ipynb), row 0, columns 0-7: run once from the official code to check ours
OFFICIAL_SEED_42_ROW_0 = [1.0, -0.19676890969276428, 0.1862524151802063, 0.20119993388652802, 0.2294197380542755,
                          -0.03020285628736019, -0.01107054390013218, 0.20433759689331055]


def test_the_papers_correlation_generator_reproduces_its_large_toy_matrix():
    source = ToySource.model_validate({"preset": "sbw_large", "model": {"correlations": {
        "generator": "sparse_but_wrong"}}})
    corr = build_toy_model(source.model).correlation_FF
    assert corr[0, :8].tolist() == pytest.approx(OFFICIAL_SEED_42_ROW_0, abs=1e-6)
    assert torch.allclose(corr, corr.T, atol=1e-6) and torch.linalg.eigvalsh(corr.double()).min() > 0
    # SAELens's generator (the preset's default) draws a different matrix from the same seed
    default = build_toy_model(ToySource.model_validate({"preset": "sbw_large"}).model).correlation_FF
    assert (default - corr).abs().max() > 0.1


def test_the_papers_correlation_generator_by_hand():
    """3 pairs, none uncorrelated, 2 of 3 positive (int(3 · 0.67)), strengths drawn in sampling order."""
    import random

    from sae.config.sources import RandomCorrelation
    from sae.data.toy import sparse_but_wrong_correlation_matrix

    corr = RandomCorrelation(generator="sparse_but_wrong", uncorrelated_ratio=0.0, positive_ratio=0.67,
                             min_strength=0.1, max_strength=0.2, seed=7)
    rng = random.Random(7)
    picked = rng.sample([(0, 1), (0, 2), (1, 2)], 3)
    expected = torch.eye(3)
    for rank, (i, j) in enumerate(picked):
        expected[i, j] = expected[j, i] = (1 if rank < 2 else -1) * rng.uniform(0.1, 0.2)
    # weak correlations: already positive definite, so the clipping and rescaling leave it as it is
    assert torch.allclose(sparse_but_wrong_correlation_matrix(3, corr), expected, atol=1e-6)

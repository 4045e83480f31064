"""Probing prompts: held apart from the SAEs' training text, split as sae-probes does, read as the store reads."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from sae.config import LLMSource
from sae.probing_datasets import DEFAULT_PROBING_DATASETS
from sae.data import llm
from sae.data.probing import dataset_prompts, last_token_activations, read_probe_set, split_indices, write_probe_set
from tests.tiny_lm import save_tiny_lm

LAYER = 1


def _probing_prompts(tags) -> set[str]:
    from sae_probes.utils_data import read_numbered_dataset_df

    return {p for tag in tags for p in read_numbered_dataset_df(tag)["prompt"].astype(str)}


def test_probing_prompts_never_in_the_training_text():
    """Every prompt of the default probing datasets, read as probing reads them, is absent from the whole
    default training stream, including the copies other sae-probes datasets hold (e.g. the borough sets)."""
    held_out = _probing_prompts(DEFAULT_PROBING_DATASETS)
    training = set(llm.iter_texts(LLMSource(layer=0)))
    assert held_out and not held_out & training
    # the check can fail: without the holdout the head of the same stream already holds some of them
    head = itertools.islice(llm.iter_texts(LLMSource(layer=0, probing_holdout=[])), 1000)
    assert held_out & set(head)


def test_split_is_sae_probes_normal_setting():
    prompts, y = dataset_prompts("125_world_country_Italy", 400)
    assert len(prompts) == len(y) == 400 and y.sum() == 200
    train, test = split_indices(y)
    # n_train = min(N - 100, 1024); the test takes the rest but one (get_xy_traintest_specify)
    assert (len(train), len(test)) == (300, 99) and not set(train) & set(test)
    assert y[train].sum() == 150
    assert np.array_equal(split_indices(y)[0], train)  # seeded


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory):
    return LLMSource(model=str(save_tiny_lm(tmp_path_factory.mktemp("tiny"), "llama")), layer=LAYER, device="cpu")


def test_last_token_activations_match_unpadded_full_forward(tiny_source):
    """Right-padded batches give each prompt's block output at its last token, BOS first as in the store."""
    tokenizer, model = llm.load_tokenizer(tiny_source), llm.load_causal_lm(tiny_source, "cpu")
    prompts = ["the quick brown fox", "a dog", "seven small cats sleep under one warm red sun"]
    expected = []
    with torch.inference_mode():
        for p in prompts:
            ids = [tokenizer.bos_token_id] + tokenizer(p, add_special_tokens=False)["input_ids"]
            hidden = model(torch.tensor([ids]), output_hidden_states=True).hidden_states[LAYER + 1]
            expected.append(hidden[0, -1])
    acts, passes = last_token_activations(llm.TruncatedLM(model, LAYER), tokenizer, prompts, batch_size=2,
                                          device="cpu")
    assert passes == 2
    torch.testing.assert_close(acts, torch.stack(expected), atol=1e-5, rtol=1e-5)


def test_probe_set_round_trip(tiny_source, tmp_path):
    manifest = write_probe_set(tiny_source, ["125_world_country_Italy"], 160, 64, tmp_path / "manifest.json", "cpu")
    assert manifest["split"]["datasets"]["125_world_country_Italy"] == {"rows": 160, "n_train": 60, "n_test": 99}
    assert manifest["extraction"]["forward_passes"] == 3 and manifest["bos_prepended"]
    data = read_probe_set(tmp_path / "manifest.json")["125_world_country_Italy"]
    assert data.x_ND.shape == (160, 32) and len(data.train) == 60

"""The activation store: shard writing, resuming, and the shuffled, resumable batch stream."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch

from sae.data.store import MANIFEST_FILE, ActivationStore, ShardWriter, StoreBatches
from sae.train.loop import train_sae
from sae.train.spec import TrainSpec

D = 4
SPEC = {"name": "synthetic"}


def _rows(start: int, stop: int) -> torch.Tensor:
    """Row i is filled with i, so every activation names its own position in the store."""
    return torch.arange(start, stop, dtype=torch.float32)[:, None].expand(-1, D)


def _write_store(directory: Path, tokens: int = 1000, heldout: int = 200, shard_tokens: int = 96,
                 dtype: str = "float32", chunk: int = 37) -> dict:
    writer = ShardWriter(directory, SPEC, D, dtype, shard_tokens, train_tokens=tokens - heldout)
    for start in range(0, tokens, chunk):
        writer.add(_rows(start, min(start + chunk, tokens)))
    return writer.finish({"model": "synthetic"})


def _ids(batch_BD: torch.Tensor) -> list[int]:
    return batch_BD[:, 0].long().tolist()


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    _write_store(tmp_path / "store")
    return tmp_path / "store"


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_round_trip(tmp_path, dtype):
    manifest = _write_store(tmp_path, tokens=250, heldout=50, dtype=dtype)
    store = ActivationStore(tmp_path)
    torch.testing.assert_close(store.load("train"), _rows(0, 200))  # integers < 256 are exact in every dtype
    torch.testing.assert_close(store.load("heldout"), _rows(200, 250))
    assert manifest["d_model"] == D and manifest["dtype"] == dtype
    assert manifest["mean_norm"] == pytest.approx(float(np.mean(np.arange(200) * 2.0)))
    assert [s["rows"] for s in manifest["shards"]] == [96, 96, 58]
    shard = np.load(tmp_path / manifest["shards"][0]["file"], mmap_mode="r")
    assert isinstance(shard, np.memmap) and shard.shape == (96, D)


def test_incomplete_store_is_not_readable(tmp_path):
    writer = ShardWriter(tmp_path, SPEC, D, "float32", 96, train_tokens=800)
    writer.add(_rows(0, 300))
    with pytest.raises(FileNotFoundError):
        ActivationStore(tmp_path)


def test_writer_resumes_after_last_complete_shard(tmp_path):
    writer = ShardWriter(tmp_path, SPEC, D, "float32", 96, train_tokens=800)
    writer.add(_rows(0, 300))  # three shards on disk, 12 rows lost with the process
    resumed = ShardWriter(tmp_path, SPEC, D, "float32", 96, train_tokens=800)
    assert resumed.rows_done == 288
    resumed.add(_rows(288, 1000))
    resumed.finish({})
    torch.testing.assert_close(ActivationStore(tmp_path).load("train"), _rows(0, 800))

    restarted = ShardWriter(tmp_path, {"name": "other"}, D, "float32", 96, train_tokens=800)
    assert restarted.rows_done == 0
    assert not (tmp_path / MANIFEST_FILE).exists() and not list(tmp_path.glob("shard_*.npy"))


def test_a_finished_store_whose_manifest_is_deleted_starts_afresh(store_dir):
    (store_dir / MANIFEST_FILE).unlink()  # what `snakemake --forcerun extract_activations` does
    restarted = ShardWriter(store_dir, SPEC, D, "float32", 96, train_tokens=800)
    assert restarted.rows_done == 0 and not list(store_dir.glob("shard_*.npy"))


def test_epoch_visits_every_training_row_once_and_no_heldout_row(store_dir):
    batches = StoreBatches(store_dir, batch_size=100, seed=0, buffer_shards=3)
    epoch = [i for _ in range(8) for i in _ids(next(batches))]
    assert sorted(epoch) == list(range(800))
    assert epoch != list(range(800))
    heldout = StoreBatches(store_dir, batch_size=50, seed=0, split="heldout")
    assert sorted(i for _ in range(4) for i in _ids(next(heldout))) == list(range(800, 1000))


def test_batches_mix_shards(store_dir):
    batch = _ids(next(StoreBatches(store_dir, batch_size=64, seed=0, buffer_shards=3)))
    assert len({i // 96 for i in batch}) == 3


def test_stream_is_endless_and_seeded(store_dir):
    a = StoreBatches(store_dir, batch_size=96, seed=1)
    b = StoreBatches(store_dir, batch_size=96, seed=1)
    c = StoreBatches(store_dir, batch_size=96, seed=2)
    a_ids = [_ids(next(a)) for _ in range(30)]  # 3.6 epochs, batches straddle epoch ends
    assert a_ids == [_ids(next(b)) for _ in range(30)]
    assert a_ids != [_ids(next(c)) for _ in range(30)]
    assert all(len(ids) == 96 and max(ids) < 800 for ids in a_ids)
    assert a_ids[:9] != a_ids[10:19]  # epochs are reshuffled


def test_resume_gives_the_same_subsequent_batches(store_dir):
    reference = StoreBatches(store_dir, batch_size=70, seed=3)
    expected = [next(reference) for _ in range(40)]

    first = StoreBatches(store_dir, batch_size=70, seed=3)
    for _ in range(17):
        next(first)
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)  # as the training checkpoint does
    buffer.seek(0)
    resumed = StoreBatches(store_dir, batch_size=70, seed=3)
    resumed.load_state_dict(torch.load(buffer, weights_only=False))
    for want in expected[17:]:
        torch.testing.assert_close(next(resumed), want, rtol=0, atol=0)


def test_state_of_another_stream_is_refused(store_dir):
    state = StoreBatches(store_dir, batch_size=10, seed=0).state_dict()
    with pytest.raises(ValueError):
        StoreBatches(store_dir, batch_size=10, seed=1).load_state_dict(state)


def test_split_smaller_than_batch_is_refused(store_dir):
    with pytest.raises(ValueError):
        StoreBatches(store_dir, batch_size=201, seed=0, split="heldout")


def test_train_sae_from_store(tmp_path):
    writer = ShardWriter(tmp_path, SPEC, 8, "float32", 256, train_tokens=900)
    writer.add(torch.randn(1000, 8, generator=torch.Generator().manual_seed(0)))
    writer.finish({})
    spec = TrainSpec(architecture="batchtopk", d_in=8, width=16, l0=2, seed=0, samples=64 * 20, batch_size=64,
                     lr=1e-3, log_every=10)
    result = train_sae(spec, StoreBatches(tmp_path, batch_size=64, seed=0), progress=False)
    assert result.samples_trained == 64 * 20
    assert result.curve[-1]["l0"] == pytest.approx(2, abs=1)


def test_a_truncated_shard_is_named_with_the_fix(store_dir):
    from sae.io import UnreadableOutput

    shard = sorted(store_dir.glob("*.npy"))[1]
    shard.write_bytes(shard.read_bytes()[:200])
    with pytest.raises(UnreadableOutput, match=rf"{shard} is missing or truncated .*delete {store_dir} and re-run"):
        ActivationStore(store_dir)

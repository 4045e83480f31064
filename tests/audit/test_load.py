"""Each on-disk format loads to the decoder it was written from, and imports into a SAELens-format point folder."""

import json

import pytest
import torch

from sae.audit.load import import_sae, load_audited
from sae.audit.resolve import AuditError, ResolvedSAE
from tests.audit.saes import known_topk_sae, save_saelens, write_dictionary_learning, write_sparsify


@pytest.fixture(scope="module")
def known():
    return known_topk_sae()


def _written(known, fmt, tmp_path):
    if fmt == "sae_lens":
        return save_saelens(known, tmp_path / "sae")
    if fmt == "sparsify":
        return write_sparsify(known, tmp_path / "sparsify", layer=1)
    return write_dictionary_learning(known, tmp_path / "dl" / "trainer_0", 1, "tiny", 16)


@pytest.mark.parametrize("fmt", ["sae_lens", "sparsify", "dictionary_learning"])
def test_every_format_loads_to_the_decoder_and_codes_it_was_written_from(known, fmt, tmp_path):
    loaded = load_audited(ResolvedSAE(name="s", path=str(_written(known, fmt, tmp_path)), format=fmt))
    x = torch.randn(64, 8)
    assert torch.equal(loaded.W_dec, known.W_dec) and torch.equal(loaded.b_dec, known.b_dec)
    torch.testing.assert_close(loaded.encode(x), known.encode(x))
    assert loaded.cfg.metadata.hook_name == "blocks.1.hook_resid_post"


@pytest.mark.parametrize("fmt", ["sparsify", "dictionary_learning"])
def test_an_import_saves_the_sae_in_saelens_format_with_its_record(known, fmt, tmp_path):
    sae = ResolvedSAE(name="s", path=str(_written(known, fmt, tmp_path)), format=fmt)
    record = import_sae(sae, tmp_path / "point", layer=1, d_model=8)
    again = load_audited(ResolvedSAE(name="s", path=str(tmp_path / "point" / "sae"), format="sae_lens"))
    assert torch.equal(again.W_dec, known.W_dec)
    assert record["format"] == fmt and record["d_sae"] == 16 and record["architecture"] == "topk"
    assert json.loads((tmp_path / "point" / "sae" / "cfg.json").read_text())["k"] == 3


def test_a_saelens_folder_is_copied_byte_for_byte(known, tmp_path):
    folder = save_saelens(known, tmp_path / "sae")
    import_sae(ResolvedSAE(name="s", path=str(folder)), tmp_path / "point", layer=1, d_model=8)
    for name in ("cfg.json", "sae_weights.safetensors"):
        assert (tmp_path / "point" / "sae" / name).read_bytes() == (folder / name).read_bytes()


def test_an_sae_that_does_not_fit_the_store_is_refused_and_nothing_is_written(known, tmp_path):
    folder = save_saelens(known, tmp_path / "sae")
    with pytest.raises(AuditError, match=r"d_in 8 does not match the model's hidden size 32"):
        import_sae(ResolvedSAE(name="s", path=str(folder)), tmp_path / "point", layer=1, d_model=32)
    with pytest.raises(AuditError, match=r"hook blocks.1.hook_resid_post is not the audit's layer 2"):
        import_sae(ResolvedSAE(name="s", path=str(folder)), tmp_path / "point2", layer=2, d_model=8)
    assert not (tmp_path / "point" / "sae").exists() and not (tmp_path / "point2" / "sae").exists()

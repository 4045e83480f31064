import pytest
import torch
from sae_lens import SAE

from sae.architectures import ARCHITECTURES
from sae.train.save import save_trained_sae


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_every_architecture_saves_and_loads(arch, trained, tmp_path):
    result = trained(arch)
    save_trained_sae(result, tmp_path / "sae")
    loaded = SAE.load_from_disk(str(tmp_path / "sae"))
    # the inference format may fold decoder norms into the encoder: directions must survive
    unit = torch.nn.functional.normalize
    assert torch.allclose(unit(loaded.W_dec, dim=1), unit(result.sae.W_dec, dim=1), atol=1e-5)


def test_llm_metadata_round_trips(trained, tmp_path):
    """cfg.json records what the SAE reads, in SAELens's own metadata fields, and loads back."""
    from sae.config import LLMSource
    from sae.data.llm import sae_metadata

    source = LLMSource(model="some/model", layer=6, context_length=128, dataset="some/corpus")
    save_trained_sae(trained("batchtopk"), tmp_path / "sae", metadata=sae_metadata(source))
    metadata = SAE.load_from_disk(str(tmp_path / "sae")).cfg.metadata
    assert (metadata.model_name, metadata.hook_name, metadata.context_size) == (
        "some/model", "blocks.6.hook_resid_post", 128)
    assert (metadata.prepend_bos, metadata.exclude_special_tokens, metadata.dataset_path) == (True, True, "some/corpus")

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

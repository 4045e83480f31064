import pytest
import torch

from sae.data.toy import ToyBatches
from sae.train.loop import train_sae
from tests.factories import SINGLE_BATCH, single_spec, toy  # noqa: F401  (toy: a fixture)


@pytest.fixture(scope="session")
def trained(toy):  # noqa: F811
    """arch -> `train_sae` of its `single_spec` on the toy, trained once for the loop and save tests."""
    results = {}

    def get(arch):
        if arch not in results:
            torch.set_num_threads(1)
            results[arch] = train_sae(single_spec(arch), ToyBatches(toy, SINGLE_BATCH, seed=0), progress=False)
        return results[arch]

    return get

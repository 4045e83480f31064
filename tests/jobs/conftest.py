"""What the job tests share: the sbw_small toy model saved as its rule saves it, built once per module."""

import pytest

from sae.config import ToySource
from sae.data.toy import build_toy_model


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("toy")
    build_toy_model(ToySource.model_validate({"preset": "sbw_small"}).model).save(directory)
    return directory

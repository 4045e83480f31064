"""Top-AFA (Lee et al. 2025, arXiv 2503.24277): each input keeps as many latents as its own norm asks for.

The SAE chooses its L0 per input (the approximate feature activation, AFA, of the input
norm), so the grid takes no `l0`; its strength λ_AFA is the swept hyper-parameter.
The SAELens classes (torch) live in `sae.architectures._top_afa_sae`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveFloat

from sae.architectures import ArchitectureSpec
from sae.options import Strict


class TopAFAOptions(Strict):
    # official training/main.ipynb sweeps afa_coeff over 1/128 .. 1/16; 1/32 sits in the middle
    afa_coefficient: PositiveFloat = Field(1 / 32, description="λ_AFA, the weight of the AFA loss mean(‖a_kept‖ − ‖x‖)².")
    standardize: bool | None = Field(
        None, description="Standardise every input to zero mean and unit std before encoding (official "
        "`input_unit_norm`); default: on for llm sources, off for toy sources (on a toy it inflates the chosen L0).")

    def for_source(self, kind: str) -> TopAFAOptions:
        """The options with `standardize` resolved for a source of `kind` ("toy" or "llm")."""
        return self if self.standardize is not None else self.model_copy(update={"standardize": kind == "llm"})


def _fields(width: int, l0: float | None, options: Any) -> dict[str, Any]:
    # SAELens's `layer_norm` normalisation is the official preprocess_input exactly:
    # (x - mean) / (std + 1e-5) per input, undone on the reconstruction
    return {"afa_coefficient": options.afa_coefficient,
            "normalize_activations": "layer_norm" if options.standardize else "none"}


def _training_callback(trainer: Any, l0: float | None, options: Any) -> Any:
    from sae.architectures._top_afa_sae import TopAFATrainerHooks

    return TopAFATrainerHooks(trainer)


SPEC = ArchitectureSpec(
    name="top_afa",
    l0_meaning="per input, the smallest number of largest latents whose decoder-scaled norm is nearest the "
    "input's norm; its measured L0 is the one it chose (λ_AFA, `afa_coefficient`, is the axis to sweep)",
    sae_lens_fields=_fields,
    options=TopAFAOptions,
    takes_l0=False,
    sae_lens_classes="sae.architectures._top_afa_sae",
    training_callback=_training_callback,
)

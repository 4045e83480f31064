from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt

from sae.probing_datasets import DEFAULT_PROBING_DATASETS
from sae.metrics import MetricConfig, MetricSpec, SharedInput

# sae-probes' "normal" setting tests on at least 100 prompts: n_train = min(N - 100, 1024).
MIN_ROWS = 150


class SparseProbingConfig(MetricConfig):
    datasets: list[str] | Literal["all"] = Field(
        list(DEFAULT_PROBING_DATASETS),
        description="sae-probes binary datasets (numbered tags, e.g. `5_hist_fig_ismale`) to probe, or `all` "
        "(the 113 of `sae_probes.DATASETS`). With `source.dataset: sae-probes` they must be in "
        "`source.probing_holdout`, so that no SAE trained on their prompts.",
    )
    rows: PositiveInt = Field(
        400, ge=MIN_ROWS,
        description="Prompts per dataset (half of each class, seeded); the paper uses up to 5,000. "
        "n_train = min(rows - 100, 1024) as sae-probes' normal setting, the rest is the test split.",
    )
    ks: list[PositiveInt] = Field([1, 16], min_length=1, description="Numbers of top latents probed (paper: 1 and 16).")
    batch_size: PositiveInt = Field(64, description="Prompts per forward pass when extracting last-token activations.")

    def check_experiment(self, experiment: Any) -> None:
        source = experiment.source
        if not self.enabled or source.kind != "llm" or source.dataset != "sae-probes":
            return
        if self.datasets == "all":
            raise ValueError("metrics.sparse_probing.datasets=all probes every sae-probes dataset, so the SAEs must "
                             "train on other text: set source.dataset to another corpus")
        trained_on = sorted(set(self.datasets) - set(source.probing_holdout))
        if trained_on:
            raise ValueError(f"metrics.sparse_probing.datasets {trained_on} are in the SAEs' training text: "
                             "add them to source.probing_holdout")


def probe_set(source: Any, config: SparseProbingConfig) -> dict[str, Any]:
    """What determines the probing activations: shared by every SAE and experiment reading the same model and layer."""
    return {"model": source.model, "gguf_file": source.gguf_file, "layer": source.layer, "hook": source.hook,
            "dtype": source.dtype, "datasets": config.datasets, "rows": config.rows}


SPEC = MetricSpec(
    name="sparse_probing",
    description="sae-probes sparse probing (normal setting, L1 probes on the top-k latents): test F1, accuracy "
    "and AUC per dataset and k, and the same probe on the raw activations; Sparse but Wrong sec. 5",
    applies_to="llm",
    scope="experiment",
    config=SparseProbingConfig,
    threads=2,
    shared_inputs=lambda source, config: {"probing_activations": SharedInput(
        "probe_set", identity=probe_set(source, config), device=source.device,
        params={"source": source.model_dump(mode="json"), "datasets": config.datasets, "rows": config.rows,
                "batch_size": config.batch_size})},
    needs_model=False,  # the probe set's job ran the model once for every SAE
)

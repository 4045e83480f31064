from __future__ import annotations

from pydantic import Field, PositiveInt

from sae.metrics import MetricConfig, MetricSpec


class AbsorptionConfig(MetricConfig):
    words_per_letter: PositiveInt = Field(
        20, ge=5,
        description="Alphabetic vocabulary tokens sampled per first letter (seeded); 80% of each letter's "
        "train the probes, 20% are scored. SAEBench uses the whole vocabulary (47,078 tokens for SmolLM2).",
    )
    icl_examples: PositiveInt = Field(
        4, description="In-context examples per prompt (SAEBench: 10; fewer halve the forward cost on a CPU).")
    prompt_template: str = Field("{word} has the first letter:", description="SAEBench's first-letter template.")
    word_position: int = Field(
        -6, lt=0, description="Prompt position of the word (from the end; SAEBench: -6 for its template)."
    )
    max_k: PositiveInt = Field(10, description="Largest k of the k-sparse probes on the SAE latents (SAEBench: 10).")
    f1_jump: float = Field(0.03, gt=0, description="k grows while the k-sparse F1 improves by more than this.")
    min_probe_f1: float = Field(
        0.6, ge=0, le=1, description="Letters whose ground-truth probe F1 is below this are not scored (SAEBench: 0.6)."
    )
    batch_size: PositiveInt = Field(32, description="Prompts per forward pass.")
    seed: int = Field(42, description="Seed of the vocabulary sample, the split and the in-context examples.")


SPEC = MetricSpec(
    name="absorption",
    description="First-letter feature absorption (SAEBench's method; A is for Absorption): mean absorption "
    "fraction, full-absorption rate and SAEBench's mean number of split features (`mean_num_split_features`: the "
    "main latents per letter) over letters whose probe F1 passes the gate",
    applies_to="llm",
    scope="experiment",
    config=AbsorptionConfig,
    threads=2,
)

"""Activation sources, shared inputs of evaluations, and the MLflow records every later job logs into."""


rule tracking_init:
    output:
        RUNS,
    params:
        uri=URI,
        experiments={name: STUDY.tracking.experiment_prefix + name for name in STUDY.experiments},
        study=layout.study_id(STUDY.results_dir),
    log:
        LOG("tracking_init", "tracking_init"),
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/tracking_init.py"


rule toy_model:
    output:
        weights=R(layout.TOY_WEIGHTS),
        info=R(layout.TOY_INFO),
    params:
        source=lambda wc: json_params(EXPERIMENTS[wc.experiment].config.source),
    log:
        LOG("toy_model", "{experiment}"),
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/toy_model.py"


rule extract_activations:
    output:
        # the manifest, not the folder: Snakemake deletes a failed job's outputs, and the
        # shards already written are what an interrupted extraction resumes from
        manifest=R(layout.STORE_MANIFEST),
    params:
        source=lambda wc: PLAN.stores[wc.store].model_dump(mode="json"),
    log:
        LOG("extract_activations", "{store}"),
    # Extraction, then an LLM experiment's training, is a study's longest chain: start it
    # before the toy jobs, which then fill the other cores around it.
    priority: 10
    threads: 2
    conda:
        "../envs/sae.yaml"
    resources:
        gpu=lambda wc: gpus(PLAN.stores[wc.store].device),
    script:
        "../scripts/extract_activations.py"


# Data that per-experiment evaluations declared they read (sae.metrics.SharedInput), built once per identity.
rule shared_input:
    output:
        manifest=R(layout.SHARED_INPUT_MANIFEST),
    params:
        kind=lambda wc: PLAN.shared[wc.name].kind,
        params=lambda wc: dict(PLAN.shared[wc.name].params),
    log:
        LOG("shared_input", "{name}"),
    # it needs no input: start it early rather than at the end of the study
    priority: 10
    threads: shared_threads_of(2)
    conda:
        "../envs/sae.yaml"
    resources:
        gpu=lambda wc: gpus(PLAN.shared[wc.name].device),
    script:
        "../scripts/shared_input.py"

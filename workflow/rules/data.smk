"""Activation sources and the MLflow records every later job logs into."""


rule tracking_init:
    output:
        "<results>/mlflow_runs.json",
    params:
        uri=STUDY.tracking.uri,
        experiments={name: STUDY.tracking.experiment_prefix + name for name in STUDY.experiments},
    log:
        "<results>/logs/tracking_init.log",
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/tracking_init.py"


rule toy_model:
    output:
        weights="<results>/{experiment}/toy_model/toy_model.safetensors",
        info="<results>/{experiment}/toy_model/toy_model.json",
    params:
        source=lambda wc: experiment_config(wc).source.model_dump(mode="json"),
    log:
        "<results>/logs/toy_model/{experiment}.log",
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/toy_model.py"


rule extract_activations:
    output:
        # the manifest, not the folder: Snakemake deletes a failed job's outputs, and the
        # shards already written are what an interrupted extraction resumes from
        manifest="<results>/activations/{store}/manifest.json",
    params:
        source=lambda wc: STORES[wc.store].model_dump(mode="json"),
    log:
        "<results>/logs/extract_activations/{store}.log",
    # Extraction, then an LLM experiment's training group, is a study's longest chain: start it
    # before the toy jobs, which then fill the other cores around it.
    priority: 10
    threads: 2
    conda:
        "../envs/sae.yaml"
    resources:
        gpu=lambda wc: 1 if STORES[wc.store].device == "cuda" else 0,
    script:
        "../scripts/extract_activations.py"

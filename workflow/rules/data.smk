"""Activation sources and the MLflow records every later job logs into."""


rule tracking_init:
    output:
        R(layout.RUNS_FILE),
    params:
        uri=STUDY.tracking.uri,
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
        source=lambda wc: experiment_config(wc).source.model_dump(mode="json"),
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
        source=lambda wc: STORES[wc.store].model_dump(mode="json"),
    log:
        LOG("extract_activations", "{store}"),
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


rule probing_activations:
    output:
        activations=R(layout.PROBE_SET_ACTIVATIONS),
        manifest=R(layout.PROBE_SET_MANIFEST),
    params:
        source=lambda wc: PROBE_SETS[wc.probe_set][0].model_dump(mode="json"),
        datasets=lambda wc: PROBE_SETS[wc.probe_set][1].datasets,
        rows=lambda wc: PROBE_SETS[wc.probe_set][1].rows,
        batch_size=lambda wc: PROBE_SETS[wc.probe_set][1].batch_size,
    log:
        LOG("probing_activations", "{probe_set}"),
    # it needs no input: start it early rather than at the end of the study
    priority: 10
    threads: lambda wc: shared_threads(2)
    conda:
        "../envs/sae.yaml"
    resources:
        gpu=lambda wc: 1 if PROBE_SETS[wc.probe_set][0].device == "cuda" else 0,
    script:
        "../scripts/probing_activations.py"

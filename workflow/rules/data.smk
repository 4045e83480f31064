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


for _e in (e for e in EXPERIMENTS.values() if e.is_toy):

    rule:
        name:
            rule_name("toy_model", _e.name)
        output:
            weights=R(_e.path(layout.TOY_WEIGHTS)),
            info=R(_e.path(layout.TOY_INFO)),
        params:
            source=json_params(_e.config.source),
        log:
            LOG("toy_model", _e.name),
        threads: 1
        conda:
            "../envs/sae.yaml"
        script:
            "../scripts/toy_model.py"


for _store, _source in PLAN.stores.items():

    rule:
        name:
            rule_name("extract_activations", _store)
        output:
            # the manifest, not the folder: Snakemake deletes a failed job's outputs, and the
            # shards already written are what an interrupted extraction resumes from
            manifest=R(layout.STORE_MANIFEST.format(store=_store)),
        params:
            source=_source.model_dump(mode="json"),
        log:
            LOG("extract_activations", _store),
        # Extraction, then an LLM experiment's training, is a study's longest chain: start it
        # before the toy jobs, which then fill the other cores around it.
        priority: 10
        threads: 2
        conda:
            "../envs/sae.yaml"
        resources:
            gpu=gpus(_source.device),
        script:
            "../scripts/extract_activations.py"


# Data that per-experiment evaluations declared they read (sae.metrics.SharedInput), built once per identity.
for _shared in PLAN.shared.values():

    rule:
        name:
            rule_name("shared_input", _shared.name)
        output:
            manifest=R(_shared.manifest),
        params:
            kind=_shared.kind,
            params=dict(_shared.params),
        log:
            LOG("shared_input", _shared.name),
        # it needs no input: start it early rather than at the end of the study
        priority: 10
        threads: shared_threads_of(2)
        conda:
            "../envs/sae.yaml"
        resources:
            gpu=gpus(_shared.device),
        script:
            "../scripts/shared_input.py"

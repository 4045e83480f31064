"""Per-SAE diagnostics (one job per experiment), per-experiment LLM evaluations, refinement rounds, sweep tables."""


for _e in EXPERIMENTS.values():

    rule:
        name:
            rule_name("evaluate", _e.name)
        input:
            trained(_e, _e.points),
            Rs(f for p in _e.points for f in _e.continued_files(p)),
            source=R(_e.source_input),
            runs=RUNS,
        output:
            evaluated(_e, "metrics"),
            evaluated(_e, "tensors"),
            # the toy's ground-truth SAE at the grid's L0s, beside the trained ones in every figure
            ground_truth=[R(_e.path(layout.GROUND_TRUTH))] if _e.is_toy else [],
        params:
            experiment=_e.config.for_jobs(),
            points=points_json(_e.points),
            point_dirs=[P(_e.path(layout.POINT_DIR, point=p.path)) for p in _e.points],
            uri=URI,
        log:
            LOG("evaluate", _e.name),
        # the refinement rounds, LLM evaluations and tables wait on it
        priority: 5
        threads: 1
        conda:
            "../envs/sae.yaml"
        script:
            "../scripts/evaluate.py"


rule llm_eval:
    input:
        unpack(lambda wc: {name: R(s.manifest) for name, s in experiment_of(wc).evaluations[wc.evaluation].items()}),
        saes=lambda wc: trained(experiment_of(wc), experiment_of(wc).points),
        source=source_of,
        runs=RUNS,
    output:
        R(layout.EVALUATION),
    params:
        experiment=experiment_params,
        points=points_of,
        point_dirs=point_dirs_of,
        inputs=lambda wc: list(experiment_of(wc).evaluations[wc.evaluation]),
        uri=URI,
    log:
        LOG("llm_eval", "{experiment}/{evaluation}"),
    # long jobs that the experiment's table waits on: before the short per-SAE and figure jobs
    priority: 10
    threads: lambda wc: shared_threads(METRICS[wc.evaluation].threads)
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/llm_eval.py"


rule refine_round:
    input:
        metrics=lambda wc: evaluated(experiment_of(wc), "metrics"),
        rounds=lambda wc: rounds(experiment_of(wc))[: int(wc.round) - 1],
        source=source_of,
        runs=RUNS,
    output:
        R(layout.REFINE_ROUND),
    params:
        experiment=experiment_params,
        results_dir=results_dir,
        uri=URI,
    log:
        LOG("refine_round", "{experiment}/round{round}"),
    # the refined points' training is the experiment's last long chain
    priority: 10
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/refine.py"


rule sweep_table:
    input:
        metrics=lambda wc: evaluated(experiment_of(wc), "metrics"),
        trained=lambda wc: trained(experiment_of(wc), experiment_of(wc).points),
        rounds=lambda wc: rounds(experiment_of(wc)),
        evaluations=lambda wc: [R(experiment_of(wc).path(layout.EVALUATION, evaluation=name))
                                for name in experiment_of(wc).evaluations],
        runs=RUNS,
    output:
        table=R(layout.SWEEP_TABLE),
        recommendation=R(layout.RECOMMENDATION),
    params:
        experiment=experiment_params,
        points=points_of,
        results_dir=results_dir,
        true_l0=lambda wc: experiment_of(wc).config.source.model.true_l0 if experiment_of(wc).is_toy else None,
        description=lambda wc: experiment_of(wc).config.describe(),
        uri=URI,
    log:
        LOG("sweep_table", "{experiment}"),
    localrule: True
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/sweep_table.py"


rule audit_table:
    input:
        table=R(layout.SWEEP_TABLE),
        recommendation=R(layout.RECOMMENDATION),
    output:
        R(layout.AUDIT_TABLE),
    log:
        LOG("audit_table", "{experiment}"),
    localrule: True
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/audit_table.py"

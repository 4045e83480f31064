"""Per-SAE diagnostics, per-experiment LLM evaluations, the ground-truth SAE, and the sweep table."""


rule evaluate_sae:
    input:
        source=source_input,
        sae=rules.train_sae.output.weights,
        runs=rules.tracking_init.output[0],
        beside=metric_point_inputs,
    output:
        metrics=R(layout.METRICS),
        tensors=R(layout.TENSORS),
    params:
        experiment=experiment_param,
        point=point_param,
        uri=STUDY.tracking.uri,
    log:
        LOG("evaluate", "{experiment}/{point}"),
    # before figures and continuations: the refinement checkpoint and the LLM evaluations wait on them
    priority: 5
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/evaluate_sae.py"


rule ground_truth_sae:
    input:
        source=source_input,
    output:
        R(layout.GROUND_TRUTH),
    params:
        experiment=experiment_param,
    log:
        LOG("ground_truth", "{experiment}"),
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/ground_truth_sae.py"


rule llm_eval:
    input:
        unpack(evaluation_reads),
        source=source_input,
        saes=per_sae(rules.train_sae.output.weights),
        runs=rules.tracking_init.output[0],
    output:
        R(layout.EVALUATION),
    params:
        experiment=experiment_param,
        points=points_param,
        uri=STUDY.tracking.uri,
    log:
        LOG("llm_eval", "{experiment}/{evaluation}"),
    # long jobs that the experiment's table waits on: before the short per-SAE and figure jobs
    priority: 10
    threads: lambda wc: shared_threads(METRICS[wc.evaluation].threads)
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/llm_eval.py"


checkpoint refine_plan:
    input:
        metrics=lambda wc: [
            rules.evaluate_sae.output.metrics.format(experiment=wc.experiment, point=p.path)
            for p in points_through(wc.experiment, int(wc.round) - 1)
        ],
        plans=lambda wc: plan_files(wc.experiment, int(wc.round) - 1),
    output:
        R(layout.REFINE_PLAN),
    params:
        experiment=experiment_param,
        points=points_param,
    log:
        LOG("refine_plan", "{experiment}/round{round}"),
    # the refined points' training waits on it
    priority: 10
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/refine_plan.py"


rule sweep_table:
    input:
        metrics=per_sae_refined(rules.evaluate_sae.output.metrics),
        summaries=per_sae_refined(rules.train_sae.output.summary),
        plans=all_plans,
        evaluations=evaluation_outputs,
        runs=rules.tracking_init.output[0],
    output:
        table=R(layout.SWEEP_TABLE),
        recommendation=R(layout.RECOMMENDATION),
    params:
        experiment=experiment_param,
        points=points_param,
        true_l0=lambda wc: experiment_config(wc).source.model.true_l0 if is_toy(wc.experiment) else None,
        uri=STUDY.tracking.uri,
    log:
        LOG("sweep_table", "{experiment}"),
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/sweep_table.py"

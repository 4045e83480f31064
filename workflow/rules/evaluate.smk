"""Per-SAE diagnostics, the ground-truth SAE, and the sweep table with its L0 recommendation."""


rule evaluate_sae:
    input:
        source=source_input,
        sae=rules.train_sae.output.sae,
        runs=rules.tracking_init.output[0],
    output:
        metrics="<results>/{experiment}/{arch}/w{width}/l0_{l0}/seed{seed}/metrics.json",
        cosines="<results>/{experiment}/{arch}/w{width}/l0_{l0}/seed{seed}/feature_cosines.safetensors",
    params:
        experiment=experiment_param,
        point=point_param,
        uri=STUDY.tracking.uri,
    log:
        "<results>/logs/evaluate/{experiment}/{arch}_w{width}_l0_{l0}_seed{seed}.log",
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/evaluate_sae.py"


rule ground_truth_sae:
    input:
        source=source_input,
    output:
        "<results>/{experiment}/ground_truth.json",
    params:
        experiment=experiment_param,
    log:
        "<results>/logs/ground_truth/{experiment}.log",
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/ground_truth_sae.py"


rule splice_costs:
    input:
        source=source_input,
        saes=lambda wc: sae_paths(rules.train_sae.output.sae, wc.experiment),
        runs=rules.tracking_init.output[0],
    output:
        "<results>/{experiment}/splice_costs.json",
    params:
        experiment=experiment_param,
        points=lambda wc: points_param(experiment_points(wc.experiment)),
        uri=STUDY.tracking.uri,
    log:
        "<results>/logs/splice_costs/{experiment}.log",
    threads: 2
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/splice_costs.py"


rule sweep_table:
    input:
        metrics=lambda wc: sae_paths(rules.evaluate_sae.output.metrics, wc.experiment),
        summaries=lambda wc: sae_paths(rules.train_sae.output.summary, wc.experiment),
        toy_info=toy_only(rules.toy_model.output.info),
        splice_costs=llm_only(rules.splice_costs.output[0]),
    output:
        table="<results>/{experiment}/sweep.csv",
        recommendation="<results>/{experiment}/recommendation.json",
    params:
        points=lambda wc: points_param(experiment_points(wc.experiment)),
    log:
        "<results>/logs/sweep_table/{experiment}.log",
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/sweep_table.py"

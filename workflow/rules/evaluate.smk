"""Per-SAE diagnostics, the ground-truth SAE, and the sweep table with its L0 recommendation."""


rule evaluate_sae:
    input:
        source=rules.toy_model.output.weights,
        sae=rules.train_sae.output.sae,
        runs=rules.tracking_init.output[0],
    output:
        metrics=SAE_DIR + "/metrics.json",
        cosines=SAE_DIR + "/feature_cosines.safetensors",
    params:
        experiment=experiment_config,
        point=grid_point,
        uri=STUDY.tracking.uri,
    log:
        RESULTS + "/logs/evaluate/{experiment}/{arch}_w{width}_l0_{l0}_seed{seed}.log",
    threads: 1
    script:
        "../scripts/evaluate_sae.py"


rule ground_truth_sae:
    input:
        source=rules.toy_model.output.weights,
    output:
        RESULTS + "/{experiment}/ground_truth.json",
    params:
        experiment=experiment_config,
    log:
        RESULTS + "/logs/ground_truth/{experiment}.log",
    threads: 1
    script:
        "../scripts/ground_truth_sae.py"


rule sweep_table:
    input:
        metrics=lambda wc: sae_paths(rules.evaluate_sae.output.metrics, wc.experiment),
        summaries=lambda wc: sae_paths(rules.train_sae.output.summary, wc.experiment),
        toy_info=rules.toy_model.output.info,
    output:
        table=RESULTS + "/{experiment}/sweep.csv",
        recommendation=RESULTS + "/{experiment}/recommendation.json",
    params:
        points=lambda wc: experiment_points(wc.experiment),
    log:
        RESULTS + "/logs/sweep_table/{experiment}.log",
    threads: 1
    script:
        "../scripts/sweep_table.py"

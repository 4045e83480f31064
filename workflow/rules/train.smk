"""One SAE per grid point (architecture, width, L0, seed)."""


rule train_sae:
    input:
        source=rules.toy_model.output.weights,
        runs=rules.tracking_init.output[0],
    output:
        sae=directory(SAE_DIR + "/sae"),
        summary=SAE_DIR + "/train.json",
    params:
        experiment=experiment_config,
        point=grid_point,
        checkpoints=SAE_DIR + "/checkpoints",
        uri=STUDY.tracking.uri,
    log:
        RESULTS + "/logs/train/{experiment}/{arch}_w{width}_l0_{l0}_seed{seed}.log",
    threads: 1
    resources:
        gpu=train_gpus,
    script:
        "../scripts/train_sae.py"

"""One SAE per grid point (architecture, width, L0, seed)."""


rule train_sae:
    input:
        source=rules.toy_model.output.weights,
        runs=rules.tracking_init.output[0],
    output:
        sae=directory("<results>/{experiment}/{arch}/w{width}/l0_{l0}/seed{seed}/sae"),
        summary="<results>/{experiment}/{arch}/w{width}/l0_{l0}/seed{seed}/train.json",
    params:
        experiment=experiment_config,
        point=grid_point,
        checkpoints=lambda wc, output: Path(output.summary).with_name("checkpoints"),
        uri=STUDY.tracking.uri,
    log:
        "<results>/logs/train/{experiment}/{arch}_w{width}_l0_{l0}_seed{seed}.log",
    threads: 1
    conda:
        "../envs/sae.yaml"
    resources:
        gpu=train_gpus,
    script:
        "../scripts/train_sae.py"

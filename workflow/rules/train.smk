"""One SAE per grid point (architecture, width, L0, seed); points sharing a batch stream may train fused."""


rule train_group:
    input:
        source=source_input,
    output:
        directory("<results>/{experiment}/fused/{group}"),
    params:
        experiment=experiment_param,
        points=lambda wc: points_param(GROUPS[(wc.experiment, wc.group)].points),
        checkpoints=lambda wc, output: f"{output[0]}.checkpoints",
    log:
        "<results>/logs/train_group/{experiment}/{group}.log",
    # a group is the longest job of its experiment; evaluation jobs can wait
    priority: 10
    threads: 1
    conda:
        "../envs/sae.yaml"
    resources:
        gpu=train_gpus,
    script:
        "../scripts/train_group.py"


rule train_sae:
    input:
        source=source_input,
        runs=rules.tracking_init.output[0],
        fused=fused_group_dir,
    output:
        sae=directory("<results>/{experiment}/{arch}/w{width}/l0_{l0}/seed{seed}/sae"),
        summary="<results>/{experiment}/{arch}/w{width}/l0_{l0}/seed{seed}/train.json",
        curve="<results>/{experiment}/{arch}/w{width}/l0_{l0}/seed{seed}/curve.json",
    params:
        experiment=experiment_param,
        point=point_param,
        checkpoints=lambda wc, output: Path(output.summary).with_name("checkpoints"),
        uri=STUDY.tracking.uri,
    log:
        "<results>/logs/train/{experiment}/{arch}_w{width}_l0_{l0}_seed{seed}.log",
    threads: 1
    conda:
        "../envs/sae.yaml"
    resources:
        gpu=lambda wc, input: 0 if input.fused else train_gpus(wc),
    script:
        "../scripts/train_sae.py"

"""One SAE per grid point; points sharing a batch stream may train fused."""


rule train_group:
    input:
        source=source_input,
    output:
        directory(R(layout.GROUP_DIR)),
    params:
        experiment=group_training_param,
        points=lambda wc: [p.model_dump(mode="json") for p in training_group(wc.experiment, wc.group).points],
        checkpoints=lambda wc, output: f"{output[0]}.checkpoints",
    log:
        LOG("train_group", "{experiment}/{group}"),
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
        # the SAE's files, not its folder: Snakemake retrains a point that lost one
        cfg=R(layout.SAE_CFG),
        weights=R(layout.SAE_WEIGHTS),
        summary=R(layout.TRAIN_SUMMARY),
        curve=R(layout.CURVE),
    params:
        experiment=point_training_param,
        point=point_param,
        checkpoints=lambda wc: str(
            layout.resolve(STUDY.results_dir, layout.CHECKPOINTS, experiment=wc.experiment, point=wc.point)
        ),
        uri=STUDY.tracking.uri,
    log:
        LOG("train", "{experiment}/{point}"),
    # before figures and continuations: the refinement checkpoint and the LLM evaluations wait on them
    priority: 5
    threads: 1
    conda:
        "../envs/sae.yaml"
    resources:
        gpu=lambda wc, input: 0 if input.fused else train_gpus(wc),
    script:
        "../scripts/train_sae.py"

"""Warm starts: a trained point's SAE trained further, as a control or extended with new latents (metrics.hedging)."""


rule continue_sae:
    input:
        source=source_input,
        sae=rules.train_sae.output.weights,
        runs=rules.tracking_init.output[0],
    output:
        cfg=R(layout.CONTINUED_SAE_CFG),
        weights=R(layout.CONTINUED_SAE_WEIGHTS),
        summary=R(layout.CONTINUED_SUMMARY),
        curve=R(layout.CONTINUED_CURVE),
    params:
        experiment=experiment_param,
        point=point_param,
        continuation=continuation_param,
        checkpoints=lambda wc: str(
            layout.resolve(STUDY.results_dir, layout.CONTINUED_CHECKPOINTS, experiment=wc.experiment,
                           point=wc.point, variant=wc.variant)
        ),
        uri=STUDY.tracking.uri,
    log:
        LOG("continue", "{experiment}/{point}/{variant}"),
    threads: 1
    conda:
        "../envs/sae.yaml"
    resources:
        gpu=train_gpus,
    script:
        "../scripts/continue_sae.py"

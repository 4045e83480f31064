"""Warm starts: a trained point's SAE trained further, as a control or extended with new latents (metrics.hedging)."""


wildcard_constraints:
    variant="control|extended",


def continuation_param(wildcards):
    """How the variant continues: new latents and samples, from the experiment's hedging settings."""
    exp, point = experiment_config(wildcards), grid_point(wildcards)
    hedging = exp.metrics.hedging
    return {
        "extend_by": hedging.extend_by(point.width) if wildcards.variant == "extended" else 0,
        "samples": hedging.samples or exp.training.samples,
    }


rule continue_sae:
    input:
        source=source_input,
        sae=rules.train_sae.output.sae,
        runs=rules.tracking_init.output[0],
    output:
        sae=directory(R(layout.CONTINUED_SAE)),
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

"""Paper-style figures per experiment, also attached to the sweep's MLflow parent run."""


rule figures:
    input:
        table=rules.sweep_table.output.table,
        recommendation=rules.sweep_table.output.recommendation,
        ground_truth=toy_only(rules.ground_truth_sae.output[0]),
        toy_info=toy_only(rules.toy_model.output.info),
        runs=rules.tracking_init.output[0],
    output:
        decoder=report(
            "<results>/{experiment}/figures/decoder_metrics.png",
            caption="../report/decoder_metrics.rst",
            category="{experiment}",
        ),
        variance=report(
            "<results>/{experiment}/figures/l0_vs_variance_explained.png",
            caption="../report/variance_explained.rst",
            category="{experiment}",
        ),
    params:
        uri=STUDY.tracking.uri,
    log:
        "<results>/logs/figures/{experiment}.log",
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/figures.py"


rule feature_cosines_figure:
    input:
        toy_info=rules.toy_model.output.info,
        cosines=lambda wc: sae_paths(rules.evaluate_sae.output.cosines, wc.experiment),
        runs=rules.tracking_init.output[0],
    output:
        report(
            "<results>/{experiment}/figures/feature_cosines.png",
            caption="../report/feature_cosines.rst",
            category="{experiment}",
        ),
    params:
        points=lambda wc: points_param(experiment_points(wc.experiment)),
        uri=STUDY.tracking.uri,
    log:
        "<results>/logs/feature_cosines_figure/{experiment}.log",
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/feature_cosines_figure.py"


rule splice_cost_figure:
    input:
        table=rules.sweep_table.output.table,
        recommendation=rules.sweep_table.output.recommendation,
        runs=rules.tracking_init.output[0],
    output:
        report(
            "<results>/{experiment}/figures/splice_cost.png",
            caption="../report/splice_cost.rst",
            category="{experiment}",
        ),
    params:
        uri=STUDY.tracking.uri,
    log:
        "<results>/logs/splice_cost_figure/{experiment}.log",
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/splice_cost_figure.py"

"""Paper-style figures per experiment, also attached to the sweep's MLflow parent run."""


rule figures:
    input:
        table=rules.sweep_table.output.table,
        recommendation=rules.sweep_table.output.recommendation,
        ground_truth=rules.ground_truth_sae.output[0],
        toy_info=rules.toy_model.output.info,
        cosines=lambda wc: sae_paths(rules.evaluate_sae.output.cosines, wc.experiment),
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
        heatmaps=report(
            "<results>/{experiment}/figures/feature_cosines.png",
            caption="../report/feature_cosines.rst",
            category="{experiment}",
        ),
    params:
        points=lambda wc: experiment_points(wc.experiment),
        uri=STUDY.tracking.uri,
    log:
        "<results>/logs/figures/{experiment}.log",
    threads: 1
    conda:
        "../envs/sae.yaml"
    script:
        "../scripts/figures.py"

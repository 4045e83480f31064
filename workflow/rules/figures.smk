"""One rule per registered figure (sae.figures): its declared inputs, its caption, also on the MLflow parent run."""


for _figure in FIGURES.values():

    rule:
        name:
            f"figure_{_figure.name}"
        input:
            **figure_inputs(_figure),
            runs=rules.tracking_init.output[0],
        output:
            report(
                R(layout.FIGURE).replace("{figure}", _figure.name),
                caption=str(caption(_figure.name)),
                category="{experiment}",
            ),
        params:
            figure=_figure.name,
            points=points_param,
            uri=STUDY.tracking.uri,
        log:
            LOG(f"figure_{_figure.name}", "{experiment}"),
        localrule: True
        threads: 1
        conda:
            "../envs/sae.yaml"
        script:
            "../scripts/figure.py"

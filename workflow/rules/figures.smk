"""One rule per registered figure (sae.figures): its declared inputs, its caption, also on the MLflow parent run."""


for _figure in (f for f in FIGURES.values() if f.scope == "experiment"):

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


# A study-scope figure: one file over the sweep tables of every experiment it applies to.
for _figure in (f for f in FIGURES.values() if f.scope == "study"):

    rule:
        name:
            f"figure_{_figure.name}"
        input:
            sweeps=[rules.sweep_table.output.table.format(experiment=e) for e in figure_experiments(_figure)],
            runs=rules.tracking_init.output[0],
        output:
            report(R(layout.STUDY_FIGURE).format(figure=_figure.name), caption=str(caption(_figure.name)),
                   category="study"),
        params:
            figure=_figure.name,
            experiments=figure_experiments(_figure),
            uri=STUDY.tracking.uri,
        log:
            LOG(f"figure_{_figure.name}", "study"),
        localrule: True
        threads: 1
        conda:
            "../envs/sae.yaml"
        script:
            "../scripts/study_figure.py"

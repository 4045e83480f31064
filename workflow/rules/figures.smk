"""Every figure of an experiment in one job (sae.figures), and the study-scope figures in one more; each also on
the MLflow parent runs, with its caption in the report."""


for _e in (e for e in EXPERIMENTS.values() if e.figures):

    rule:
        name:
            rule_name("figures", _e.name)
        input:
            # every figure reads the tables; the tensors of refined points are found through the rounds' manifests
            R(_e.path(layout.SWEEP_TABLE)),
            R(_e.path(layout.RECOMMENDATION)),
            Rs(_e.evaluated_files(p)["tensors"] for p in _e.points),
            [R(_e.path(layout.GROUND_TRUTH))] if _e.is_toy else [],
            runs=RUNS,
        output:
            [figure_output(_e.path(layout.FIGURE, figure=f), f, _e.name) for f in _e.figures],
        params:
            experiment=_e.name,
            figures=_e.figures,
            points=points_json(_e.points),
            rounds=[P(_e.round_manifest(r)) for r in range(1, _e.rounds + 1)],
            results_dir=results_dir,
            uri=URI,
        log:
            LOG("figures", _e.name),
        localrule: True
        threads: 1
        conda:
            "../envs/sae.yaml"
        script:
            "../scripts/figures.py"


if PLAN.study_figures:

    rule study_figures:
        input:
            sweeps=Rs(
                sorted({layout.SWEEP_TABLE.format(experiment=e) for es in PLAN.study_figures.values() for e in es})
            ),
            runs=RUNS,
        output:
            [
                figure_output(layout.STUDY_FIGURE.format(figure=f), f, "study")
                for f in PLAN.study_figures
            ],
        params:
            figures=PLAN.study_figures,
            results_dir=results_dir,
            uri=URI,
        log:
            LOG("figures", "study"),
        localrule: True
        threads: 1
        conda:
            "../envs/sae.yaml"
        script:
            "../scripts/study_figures.py"

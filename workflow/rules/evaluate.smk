"""Per-SAE diagnostics (one job per experiment), per-experiment LLM evaluations, refinement rounds, sweep tables."""


def trained(e, points):
    return Rs(f for p in points for f in e.trained_files(p).values())


def evaluated(e, kind):
    return Rs(e.evaluated_files(p)[kind] for p in e.points)


def rounds(e):
    return Rs(e.round_manifest(r) for r in range(1, e.rounds + 1))


for _e in EXPERIMENTS.values():

    rule:
        name:
            rule_name("evaluate", _e.name)
        input:
            trained(_e, _e.points),
            Rs(f for p in _e.points for f in _e.continued_files(p)),
            source=R(_e.source_input),
            runs=RUNS,
        output:
            evaluated(_e, "metrics"),
            evaluated(_e, "tensors"),
            # the toy's ground-truth SAE at the grid's L0s, beside the trained ones in every figure
            ground_truth=[R(_e.path(layout.GROUND_TRUTH))] if _e.is_toy else [],
        params:
            experiment=json_params(_e.config),
            points=points_json(_e.points),
            point_dirs=[P(_e.path(layout.POINT_DIR, point=p.path)) for p in _e.points],
            uri=URI,
        log:
            LOG("evaluate", _e.name),
        # the refinement rounds, LLM evaluations and tables wait on it
        priority: 5
        threads: 1
        conda:
            "../envs/sae.yaml"
        script:
            "../scripts/evaluate.py"

    for _evaluation, _inputs in _e.evaluations.items():

        rule:
            name:
                rule_name("llm_eval", _e.name, _evaluation)
            input:
                trained(_e, _e.points),
                source=R(_e.source_input),
                runs=RUNS,
                **{name: R(shared.manifest) for name, shared in _inputs.items()},
            output:
                R(_e.path(layout.EVALUATION, evaluation=_evaluation)),
            params:
                evaluation=_evaluation,
                experiment=json_params(_e.config),
                points=points_json(_e.points),
                point_dirs=[P(_e.path(layout.POINT_DIR, point=p.path)) for p in _e.points],
                inputs=list(_inputs),
                uri=URI,
            log:
                LOG("llm_eval", f"{_e.name}/{_evaluation}"),
            # long jobs that the experiment's table waits on: before the short per-SAE and figure jobs
            priority: 10
            threads: shared_threads_of(METRICS[_evaluation].threads)
            conda:
                "../envs/sae.yaml"
            script:
                "../scripts/llm_eval.py"

    for _round in range(1, _e.rounds + 1):

        rule:
            name:
                rule_name("refine", _e.name, f"round{_round}")
            input:
                evaluated(_e, "metrics"),
                rounds=rounds(_e)[: _round - 1],
                source=R(_e.source_input),
                runs=RUNS,
            output:
                R(_e.round_manifest(_round)),
            params:
                experiment=json_params(_e.config),
                round=_round,
                results_dir=STUDY.results_dir,
                uri=URI,
            log:
                LOG("refine", f"{_e.name}/round{_round}"),
            # the refined points' training is the experiment's last long chain
            priority: 10
            threads: 1
            conda:
                "../envs/sae.yaml"
            script:
                "../scripts/refine.py"

    rule:
        name:
            rule_name("sweep_table", _e.name)
        input:
            evaluated(_e, "metrics"),
            trained(_e, _e.points),
            rounds=rounds(_e),
            evaluations=[R(_e.path(layout.EVALUATION, evaluation=name)) for name in _e.evaluations],
            runs=RUNS,
        output:
            table=R(_e.path(layout.SWEEP_TABLE)),
            recommendation=R(_e.path(layout.RECOMMENDATION)),
        params:
            experiment=json_params(_e.config),
            points=points_json(_e.points),
            results_dir=STUDY.results_dir,
            true_l0=_e.config.source.model.true_l0 if _e.is_toy else None,
            uri=URI,
        log:
            LOG("sweep_table", _e.name),
        localrule: True
        threads: 1
        conda:
            "../envs/sae.yaml"
        script:
            "../scripts/sweep_table.py"

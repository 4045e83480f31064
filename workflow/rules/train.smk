"""Training jobs of the plan (sae.plan.training_jobs), and the continuations per-SAE metrics declared."""


for _e in EXPERIMENTS.values():
    for _job in _e.train_jobs:

        rule:
            name:
                rule_name("train", _e.name, _job.name)
            input:
                source=R(_e.source_input),
                runs=RUNS,
            output:
                # every SAE's files, not its folder: Snakemake retrains the job of a point that lost one
                Rs(f for p in _job.points for f in _e.trained_files(p).values()),
            params:
                experiment=training_params(_e.config, _job),
                points=points_json(_job.points),
                point_dirs=[P(_e.path(layout.POINT_DIR, point=p.path)) for p in _job.points],
                checkpoints=P(_job.checkpoints),
                uri=URI,
            log:
                LOG("train", f"{_e.name}/{_job.name}"),
            # the longest jobs of an experiment: evaluations, continuations and figures can wait
            priority: 10
            threads: 1
            conda:
                "../envs/sae.yaml"
            resources:
                gpu=gpus(_e.config.training.device),
                # what a cluster job asks for (a profile's set-resources cannot name a rule per job)
                mem_mb=lambda wc, attempt: TRAIN_MEM_MB * attempt,
                runtime=lambda wc, attempt: TRAIN_RUNTIME_MIN * attempt,
            script:
                "../scripts/train.py"

    for _job in _e.continue_jobs():

        rule:
            name:
                rule_name("continue", _e.name, _job.name)
            input:
                Rs(f for p in _job.points for f in _e.trained_files(p).values()),
                source=R(_e.source_input),
                runs=RUNS,
            output:
                Rs(f for p in _job.points for f in _e.continued_files(p)),
            params:
                experiment=_e.config.for_jobs(),
                points=points_json(_job.points),
                point_dirs=[P(_e.path(layout.POINT_DIR, point=p.path)) for p in _job.points],
                uri=URI,
            log:
                LOG("continue", f"{_e.name}/{_job.name}"),
            priority: 5
            threads: 1
            conda:
                "../envs/sae.yaml"
            resources:
                gpu=gpus(_e.config.training.device),
            script:
                "../scripts/continue.py"


# An audit's SAEs are given, not trained: one job brings them all into their point folders (sae.audit).
for _e in (e for e in EXPERIMENTS.values() if e.is_audit):

    rule:
        name:
            rule_name("audit_import", _e.name)
        input:
            # a local SAE's files: one another experiment of the study trains is waited for
            [f for s in _e.audited for f in s.files],
            source=R(_e.source_input),
            runs=RUNS,
        output:
            trained(_e, _e.points),
        params:
            saes=[vars(s) for s in _e.audited],
            layer=_e.config.source.layer,
            points=points_json(_e.points),
            point_dirs=[P(_e.path(layout.POINT_DIR, point=p.path)) for p in _e.points],
            uri=URI,
        log:
            LOG("audit_import", _e.name),
        threads: 1
        conda:
            "../envs/sae.yaml"
        script:
            "../scripts/audit_import.py"

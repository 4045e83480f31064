"""Sparse probing and absorption cost per SAE, and the share spent in the LLM forward (issue 10). Not a test.

    .venv/bin/python benchmarks/bench_probing.py --config config.yaml --experiment smollm2_layer6 [--threads 2]

Reads a finished study (its SAEs, its probe sets) and reports, from the files the workflow wrote:
how many probe sets (activation computations for probing) each source has and how many forward
passes each took, against the number of SAEs that read them (one computation per source, not per
SAE). Then re-times, with the model loaded once: the absorption forward (`prepare`), the probe
fits of `sparse_probing` and `absorption` per SAE, so the LLM forward's share of each evaluation
is measured rather than assumed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import yaml

from sae import layout
from sae.architectures import load_sae
from sae.config import grid_points, load_study_config
from sae.llm_eval import load_language_model
from sae.metrics import code
from sae.plan import build_plan


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--experiment", default="smollm2_layer6")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    study = load_study_config(yaml.safe_load(Path(args.config).read_text()))
    exp = study.experiments[args.experiment]
    results = Path(study.results_dir)
    points = [p for p in grid_points(study) if p.experiment == args.experiment]
    sae_dirs = [layout.resolve(results, layout.SAE, experiment=p.experiment, point=p.path) for p in points]

    # probing activations: one shared input per source, however many SAEs and experiments read it
    plan = build_plan(study)
    shared = plan.experiments[args.experiment].evaluations["sparse_probing"]["probing_activations"]
    manifest_path = layout.resolve(results, shared.manifest)
    manifest = json.loads(manifest_path.read_text())
    sets = sorted(p.name for p in manifest_path.parent.parent.iterdir())
    readers = [e for e in plan.experiments.values()
               if shared.name in {s.name for s in e.evaluations.get("sparse_probing", {}).values()}]
    report = {
        "probe_sets_on_disk": sets, "saes": len(points), "experiments_reading_this_set": len(readers),
        "probing_extraction": manifest["extraction"],
    }

    lm = load_language_model(exp.source, "cpu", {"probing_activations": manifest_path})
    timings = {}
    for evaluation in ("sparse_probing", "absorption"):
        module, config = code(evaluation), getattr(exp.metrics, evaluation)
        start = time.perf_counter()
        prepared = module.prepare(lm, config)
        prepare_s = time.perf_counter() - start
        per_sae = []
        for sae_dir in sae_dirs:
            sae = load_sae(sae_dir, device="cpu")
            start = time.perf_counter()
            module.compute(prepared, sae)
            per_sae.append(time.perf_counter() - start)
        timings[evaluation] = {"prepare_s": prepare_s, "per_sae_s": per_sae,
                               "forward_s": getattr(prepared, "forward_seconds", None)}
    # sparse probing's forward ran once in the shared input's job; absorption's runs in its prepare
    probing_total = manifest["extraction"]["forward_seconds"] + timings["sparse_probing"]["prepare_s"] + sum(
        timings["sparse_probing"]["per_sae_s"])
    absorption_total = timings["absorption"]["prepare_s"] + sum(timings["absorption"]["per_sae_s"])
    report |= {
        "timings": timings,
        "sparse_probing_forward_share": manifest["extraction"]["forward_seconds"] / probing_total,
        "absorption_forward_share": timings["absorption"]["forward_s"] / absorption_total,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

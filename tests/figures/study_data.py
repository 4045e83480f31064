"""The default study's shape (config.yaml: its experiments, grids, fixed options, disabled metrics) with made-up
numbers: what every figure of a real study is drawn from, written where `sae.jobs.figure` reads it, in seconds."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors.torch import save_file

from sae import layout, sweep
from sae.config import GridPoint, load_study_config
from sae.figures import FigureData, fixed_options
from sae.io import atomic_write_json
from sae.jobs.figure import _read_rows, figure_data
from sae.refine import round_points
from sae.plan import build_plan
from sae.recommend import recommend_l0

ROOT = Path(__file__).parents[2]
TRUE_L0 = {"sbw_large": 10.95, "sbw_small": 2.0, "sbw_small_from_truth": 2.0, "hedging_toy": 1.0, "balance_toy": 0.36,
           "wsae_s0": 13.0, "wsae_s070": 3.9, "wsae_s099": 0.13}
REFINED_L0 = 16  # sbw_large's refinement round adds this L0 with both seeds (as the default study did)


def study_plan(results: Path):
    raw = yaml.safe_load((ROOT / "config.yaml").read_text()) | {"results_dir": str(results)}
    # an audit points at SAE folders of the study's own results: here, under this test's results folder
    for exp in raw["experiments"].values():
        if "saes" in exp:
            exp["saes"] = [s | {"path": s["path"].replace("results/", f"{results}/", 1)} for s in exp["saes"]]
    return build_plan(load_study_config(raw))


def fake_row(point: GridPoint, exp: Any, true_l0: float) -> dict[str, Any]:
    """Plausible numbers for every metric the experiment computes (a c_dec valley near the truth)."""
    if point.sae is not None:  # an audited SAE (saes/l0_<k>): its row as sae.jobs.sweep_table writes it
        l0 = 0.9 * float(point.sae.removeprefix("l0_"))
        audited = point.model_copy(update={"architecture": "jumprelu", "width": 1024, "l0": l0})
        return fake_row(audited.model_copy(update={"sae": None}), exp, true_l0) | {"l0": l0, "sae": point.sae}
    l0 = point.l0 if point.l0 is not None else true_l0 * (1.4 + 0.1 * point.seed + 2 * point.options.get(
        "afa_coefficient", 0))
    gap = math.log(l0 / true_l0)
    row = sweep.point_row(point) | {
        "c_dec": 0.05 + 0.02 * gap ** 2 + 0.004 * point.seed, "s_n_dec": max(0.0, 0.3 * -gap) + 0.001 * point.seed,
        "l0_measured": l0 * 0.98, "variance_explained": min(0.99, 0.5 + 0.3 * math.log1p(l0)),
        "variance_explained_uncentred": min(0.995, 0.52 + 0.3 * math.log1p(l0)),
        "normalised_mse": 0.3 / (1 + l0), "eps_lbo_median": 0.02 + 0.01 * abs(gap), "eps_lbo_mean": 0.03,
        "eps_lbo_zero_inputs": 40.0 if exp.source.kind == "toy" else 0.0, "eps_lbo_inputs": 200.0}
    if exp.grid is not None and len(exp.grid.seed) > 1:  # sae.jobs.sweep_table gives it where another seed shares the point's L0
        row["seed_agreement"] = 0.95 - 0.1 * gap ** 2
    if exp.metrics.hedging.enabled:
        row |= {"hedging_h": 2 / point.width, "hedging_p": 0.5, "hedging_p_base": 0.1, "hedging_p_base_std": 0.02}
    if exp.source.kind == "toy" and exp.source.model.hierarchy is not None:
        beta = point.options.get("beta", 0.5)
        row |= {"parent_child_dec_cos": 0.3 * beta, "parent_child_enc_cos": 0.2 * beta - 0.1,
                "child_parent_dec_cos": 0.3 - 0.3 * beta}
    if exp.metrics.feature_recovery.enabled:
        s = exp.source.sparsity
        row |= {"feature_sparsity": s, "l_gt": 0.2 * (1 - s) + 0.01 * point.seed, "l_gt_monosemantic": 0.1 * (1 - s),
                "x_p_error": 0.3 * (1 - s), "monosemanticity": 0.5 + 0.4 * s - 0.1 * point.options.get("alpha", 0)}
    if exp.source.kind == "llm":
        if exp.metrics.sparse_probing.enabled:
            row |= {f"probe_f1_k{k}": 0.6 + 0.02 * k ** 0.5 - 0.01 * gap ** 2 for k in (1, 16)}
            row |= {"probe_raw_f1_k1": 0.37, "probe_raw_f1_k16": 0.8, "probe_chance_f1": 0.34}
        if exp.metrics.absorption.enabled:
            row |= {"absorption_fraction": 0.1 / (1 + l0), "absorption_full_rate": 0.05, "absorption_letters": 9.0}
        if exp.metrics.splice_costs.enabled:
            row |= {"ce_loss_increase": 1 / l0, "kl_div": 0.5 / l0}
    return row


def write_tensors(path: Path, point: GridPoint, features: int) -> None:
    gen = torch.Generator().manual_seed(hash(point.key) % 2 ** 31)
    norm_z = torch.rand(300, generator=gen) * 5
    norm_z[:40] = 0  # a sparse toy's zero inputs
    save_file({"ground_truth.cos_HF": torch.rand(point.width, features, generator=gen) * 2 - 1,
               "quasi_orthogonality.norm_z": norm_z,
               "quasi_orthogonality.norm_f": norm_z * (0.8 + 0.4 * torch.rand(300, generator=gen)) + 0.1}, str(path))


def write_study(results: Path) -> Any:
    """Every experiment's sweep table, recommendation, ground truth, tensors and sbw_large's refinement round."""
    plan = study_plan(results)
    for name, e in plan.experiments.items():
        points = list(e.points)
        if e.rounds:
            refined = [GridPoint(experiment=name, architecture="batchtopk", width=e.points[0].width, l0=REFINED_L0,
                                 seed=s) for s in e.config.grid.seed]
            atomic_write_json(layout.resolve(results, e.round_manifest(1)),
                              [p.model_dump(mode="json") for p in refined])
            points += refined
        true_l0 = TRUE_L0.get(name)
        rows = [fake_row(p, e.config, true_l0 or 32.0) for p in points]
        sweep.write_csv(rows, layout.resolve(results, layout.SWEEP_TABLE, experiment=name))
        # from the rows as sae.jobs.sweep_table has them: before the CSV gives every row every option column
        atomic_write_json(layout.resolve(results, layout.RECOMMENDATION, experiment=name), recommend_l0(rows, true_l0))
        if e.is_toy:
            atomic_write_json(layout.resolve(results, layout.GROUND_TRUTH, experiment=name),
                              [{"l0": l0, "c_dec": 0.0, "s_n_dec": 0.0, "l0_measured": l0, "variance_explained": 1.0,
                                "variance_explained_uncentred": 1.0}
                               for l0 in sorted({p.l0 for p in points if p.l0 is not None})])
        for p in points:
            path = layout.resolve(results, layout.TENSORS, experiment=name, point=p.path)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_tensors(path, p, e.config.source.model.num_features if e.is_toy else 8)
    return plan


def experiment_data(plan: Any, results: Path, name: str, figure: str) -> FigureData:
    e = plan.experiments[name]
    rounds = [layout.resolve(results, e.round_manifest(r)) for r in range(1, e.rounds + 1)]
    return figure_data(figure, name, results, [*e.points, *round_points(rounds)], fixed_options(e.config))


def study_data(plan: Any, results: Path, figure: str) -> FigureData:
    rows = [r for e in plan.study_figures[figure] for r in _read_rows(layout.resolve(results, layout.SWEEP_TABLE,
                                                                                       experiment=e))]
    return FigureData("", rows, [], [], [])

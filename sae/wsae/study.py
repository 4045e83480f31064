"""The WSAE synthetic study: SAE vs WSAE over the feature sparsity S, several seeds (Cui et al. 2025, fig. 3).

    .venv/bin/python -m sae.wsae.study OUT_DIR [--samples N] [--seeds 0 1]

writes OUT_DIR/wsae_study.json (one row per S, α, seed) and OUT_DIR/wsae_study.png|pdf (four panels).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import torch
from sae_lens.training.sae_trainer import SAETrainer

from sae.architectures import build_training_sae
from sae.figures.style import save_figure
from sae.io import atomic_write_json
from sae.train.spec import TrainSpec, trainer_config
from sae.wsae.data import Superposition, sample_features, superpose, superposition
from sae.wsae.evaluate import wsae_metrics
from sae.wsae.weights import Score, dimension_weights, oracle_score, variance_score, weighted_mse

# the S values of the study and the paper's α (0 is the plain SAE); see the README for which are ours
SPARSITIES = (0.0, 0.5, 0.7, 0.9, 0.99)
ALPHAS = (0.0, 1.0)


@dataclass(frozen=True)
class StudyConfig:
    """Ours: a standard ReLU + L1 SAE with one latent per feature, Adam at a constant rate."""

    sparsities: Sequence[float] = SPARSITIES
    alphas: Sequence[float] = ALPHAS
    seeds: Sequence[int] = (0, 1)
    score: Score = "oracle"
    architecture: str = "standard"  # or "topk" (then `k` latents per input)
    options: dict[str, Any] = field(default_factory=lambda: {"l1_init": 0.1})
    k: int = 3
    samples: int = 1_000_000
    batch_size: int = 1024
    lr: float = 3e-3
    heldout: int = 16384


def train_wsae(model: Superposition, sparsity: float, alpha: float, seed: int, cfg: StudyConfig) -> Any:
    """One SAE (α = 0) or WSAE on x_p at sparsity S; SAELens trains it with the weighted reconstruction loss."""
    gen = torch.Generator().manual_seed(seed)
    score = oracle_score(model) if cfg.score == "oracle" else variance_score(
        superpose(sample_features(cfg.heldout, model.num_features, sparsity, gen), model))
    spec = TrainSpec(cfg.architecture, d_in=model.d, width=model.num_features, l0=cfg.k, seed=seed,
                     samples=cfg.samples, batch_size=cfg.batch_size, lr=cfg.lr)
    torch.manual_seed(seed)
    sae = build_training_sae(cfg.architecture, model.d, model.num_features, cfg.k, cfg.options)
    sae.mse_loss_fn = weighted_mse(dimension_weights(score, alpha))
    trainer = SAETrainer(cfg=trainer_config(spec), sae=sae, data_provider=iter(()))
    for _ in range(spec.total_steps):
        trainer.step(superpose(sample_features(cfg.batch_size, model.num_features, sparsity, gen), model))
        trainer.n_training_steps += 1
    return sae.eval()


def run_study(cfg: StudyConfig, model: Superposition | None = None) -> list[dict[str, float]]:
    model = model or superposition()
    rows = []
    for sparsity in cfg.sparsities:
        heldout_gen = torch.Generator().manual_seed(10_000)
        x_NF = sample_features(cfg.heldout, model.num_features, sparsity, heldout_gen)
        for alpha in cfg.alphas:
            for seed in cfg.seeds:
                sae = train_wsae(model, sparsity, alpha, seed, cfg)
                metrics = wsae_metrics(sae, x_NF, superpose(x_NF, model), model.monosemantic_F)
                rows.append({"sparsity": sparsity, "alpha": alpha, "seed": seed} | metrics)
    return rows


def mean_over_seeds(rows: list[dict[str, float]], metric: str) -> dict[float, list[tuple[float, float]]]:
    """α -> [(S, mean of `metric` over seeds)]."""
    keys = sorted({(r["alpha"], r["sparsity"]) for r in rows})
    out: dict[float, list[tuple[float, float]]] = {}
    for alpha, s in keys:
        out.setdefault(alpha, []).append(
            (s, statistics.fmean(r[metric] for r in rows if r["alpha"] == alpha and r["sparsity"] == s)))
    return out


PANELS = (("l_gt", "ground-truth error $L_{GT}$"), ("l_gt_monosemantic", "$L_{GT}$, features with their own dimension"),
          ("x_p_error", "reconstruction error of $x_p$"), ("monosemanticity", "monosemanticity (matched R²)"))


def draw(rows: list[dict[str, float]]) -> plt.Figure:
    """The four panels of the paper's figure 3: each metric against S, SAE (α = 0) vs WSAE, mean over seeds."""
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    for ax, (metric, title) in zip(axes, PANELS):
        for alpha, curve in mean_over_seeds(rows, metric).items():
            ax.plot(*zip(*curve), marker="o", label="SAE" if alpha == 0 else f"WSAE, α = {alpha:g}")
        ax.set_xlabel("feature sparsity S")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(f"WSAE synthetic study (mean over {len({r['seed'] for r in rows})} seeds)")
    fig.tight_layout()
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--samples", type=int, default=StudyConfig.samples)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--score", choices=["oracle", "variance"], default="oracle")
    parser.add_argument("--alphas", type=float, nargs="+", default=list(ALPHAS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = StudyConfig(samples=args.samples, seeds=tuple(args.seeds), score=args.score, alphas=tuple(args.alphas))
    rows = run_study(cfg)
    atomic_write_json(args.out_dir / "wsae_study.json", rows)
    save_figure(draw(rows), args.out_dir / "wsae_study")
    for r in rows:
        print({k: round(v, 5) if isinstance(v, float) else v for k, v in r.items()})


if __name__ == "__main__":
    main()

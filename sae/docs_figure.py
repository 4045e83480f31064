"""The README's headline figure: `python -m sae.docs_figure <results_dir>` after a study (`make study`).

It is the registered `decoder_metrics` figure (the sweep's headline, as on its MLflow parent run) of one experiment (default `sbw_large`, the default study's toy with
a known true L0), drawn from that experiment's sweep table, recommendation and ground truth, and written as the PNG
that README.md shows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sae import figures
from sae.io import atomic_path
from sae.jobs.figure import HEADLINE, figure_data

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "decoder_metrics.png"


def draw_headline(results_dir: Path, experiment: str, out: Path) -> Path:
    # decoder_metrics reads no per-SAE tensors, so the experiment's grid points are not needed
    fig = figures.code(HEADLINE).draw(figure_data(HEADLINE, experiment, results_dir, points=[]))
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dir", type=Path, help="a finished study's results folder")
    parser.add_argument("--experiment", default="sbw_large")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    print(f"wrote {draw_headline(args.results_dir, args.experiment, args.out)}")


if __name__ == "__main__":
    main()

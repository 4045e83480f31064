"""BatchTopK whose k searches for the L0 during training (Sparse but Wrong, appendix A.11).

The paper's text: every 100 steps estimate the slope dm/dL0 of a 10-step moving average m of s_n_dec
against L0, bias it as dm - 0.1 |dm|, clip it to [-1, 1], and let Adam move k with it. The paper's
public code has only a linear k schedule (chanind/sparse-but-wrong-paper,
EnhancedBatchTopKTrainingSAEConfig), so this follows the text; what the text leaves open is ours and an
option below: Adam's learning rate on k, n of s_n_dec, k's bounds, and how the slope is kept apart from
training progress. That last one decides whether the search works: s_n_dec falls as the SAE learns (on
the suite's negative_10 at a fixed k = 8 its moving average fell from 0.49 to 0.09 in 1,300 steps,
0.03-0.08 per 100 steps, against about 0.025 for a move of k by 0.5 in the trained curve), so the slope
between two successive moves measured time, not L0: whichever way k first moved, the drift kept it
going (k ran to its floor within 1,000 steps on positive_6). Ours: k alternates `dither` above and below
the searched value at successive moves, so the drift enters the slope with alternating sign and cancels
in Adam's running mean, while the slope against L0 keeps its sign. The grid's `l0` is where the search
starts; `searched_k` (the centre) is where it settled.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from pydantic import Field, PositiveFloat, PositiveInt

from sae.architectures import ArchitectureSpec
from sae.options import Strict


class L0SearchOptions(Strict):
    every: PositiveInt = Field(100, description="Steps between moves of k (paper: 100).")
    window: PositiveInt = Field(10, description="Steps in the moving average of s_n_dec (paper: 10).")
    bias: float = Field(0.1, description="The slope is biased as dm - bias |dm| (paper: 0.1).")
    lr: PositiveFloat = Field(0.5, description="Adam's learning rate on k (ours; the paper does not give it).")
    dither: PositiveFloat = Field(
        0.5, description="k alternates this far above and below the searched value, so that the drift of s_n_dec "
        "over training cancels in Adam's mean (ours).")
    n_fraction: PositiveFloat = Field(0.5, lt=1, description="n of s_n_dec as a fraction of the width (n ~ h/2).")
    min_k: PositiveFloat = Field(0.5, description="k never goes below this.")


class L0Search:
    """After every step record s_n_dec of the batch; every `every` steps move k by one Adam step."""

    betas, eps = (0.9, 0.999), 1e-8

    def __init__(self, trainer: Any, target: float, options: L0SearchOptions | None = None):
        self.sae, self.options = trainer.sae, options or L0SearchOptions()
        self.centre = max(float(target), self.options.min_k + self.options.dither)
        self.side = 1.0
        self.recent: deque[float] = deque(maxlen=self.options.window)
        self.last: tuple[float, float] | None = None  # (k, moving average) at the previous move
        self.steps = self.moves = 0
        self.m1 = self.m2 = 0.0
        self.history: list[tuple[int, float]] = [(0, self.centre)]
        self._set_k()

    @property
    def k(self) -> float:
        return self.centre + self.side * self.options.dither

    def update(self, out: Any) -> None:
        import torch

        from sae.metrics.decoder.main import s_n_dec

        self.steps += 1
        with torch.no_grad():
            n = max(1, int(self.options.n_fraction * self.sae.cfg.d_sae))
            self.recent.append(s_n_dec(self.sae.W_dec, self.sae.b_dec, out.sae_in, n))
        if self.steps % self.options.every:
            return
        here = (self.k, sum(self.recent) / len(self.recent))
        if self.last is not None and self.last[0] != here[0]:
            slope = (here[1] - self.last[1]) / (here[0] - self.last[0])
            self._adam(min(max(slope - self.options.bias * abs(slope), -1.0), 1.0))
        self.last = here
        self.side = -self.side
        self._set_k()

    def _adam(self, gradient: float) -> None:
        self.moves += 1
        b1, b2 = self.betas
        self.m1 = b1 * self.m1 + (1 - b1) * gradient
        self.m2 = b2 * self.m2 + (1 - b2) * gradient**2
        step = self.options.lr * (self.m1 / (1 - b1**self.moves)) / ((self.m2 / (1 - b2**self.moves)) ** 0.5 + self.eps)
        self.centre = max(self.centre - step, self.options.min_k + self.options.dither)
        self.history.append((self.steps, self.centre))

    def _set_k(self) -> None:
        self.sae.cfg.k = self.k
        self.sae.activation_fn.k = self.k


SPEC = ArchitectureSpec(
    name="batchtopk_l0_search",
    l0_meaning="the k that BatchTopK starts from; k then moves down the slope of s_n_dec (Sparse but Wrong A.11)",
    sae_lens_fields=lambda width, l0, options: {"k": float(l0)},
    sae_lens_name="batchtopk",
    options=L0SearchOptions,
    training_callback=L0Search,
)

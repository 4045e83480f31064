"""The README's headline figure is drawn by the registered decoder-metrics figure from a results folder."""

from __future__ import annotations

from sae import layout, sweep
from sae.docs_figure import draw_headline
from sae.io import atomic_write_json
from sae.recommend import recommend_l0


def test_the_headline_figure_is_drawn_from_an_experiments_tables(tmp_path):
    rows = [{"experiment": "toy", "architecture": "batchtopk", "width": 8, "l0": l0, "seed": seed,
             "c_dec": (l0 - 4) ** 2 / 100 + 0.01 * seed, "s_n_dec": max(0.0, 4 - l0) / 10, "l0_measured": l0}
            for l0 in (1, 2, 3, 4, 5, 6) for seed in (0, 1)]
    sweep.write_csv(rows, layout.resolve(tmp_path, layout.SWEEP_TABLE, experiment="toy"))
    atomic_write_json(layout.resolve(tmp_path, layout.RECOMMENDATION, experiment="toy"), recommend_l0(rows, 4.0))
    atomic_write_json(layout.resolve(tmp_path, layout.GROUND_TRUTH, experiment="toy"),
                      [{"l0": l0, "c_dec": 0.0, "s_n_dec": 0.0} for l0 in (2, 4)])
    out = draw_headline(tmp_path, "toy", tmp_path / "docs" / "headline.png")
    png = out.read_bytes()
    assert out == tmp_path / "docs" / "headline.png"
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert not list(out.parent.glob("*.pdf"))  # the README shows the PNG alone

import pytest

from sae.sweep import mean_over_seeds, read_csv, write_csv


def rows_from(curve, seeds=(0, 1), arch="batchtopk", width=50):
    return [{"architecture": arch, "width": width, "l0": l0, "seed": s, "c_dec": c + 0.01 * s, "s_n_dec": c}
            for l0, c in curve for s in seeds]


def test_mean_over_seeds():
    curves = mean_over_seeds(rows_from([(2, 0.5), (4, 0.3)]), "c_dec")
    (l0, mean, std), _ = curves[("batchtopk", 50, "")]
    assert l0 == 2 and mean == pytest.approx(0.505) and std == pytest.approx(0.00707, abs=1e-4)


def test_csv_round_trip(tmp_path):
    rows = [{"architecture": "topk", "width": 5, "l0": 1.8, "c_dec": 0.25, "note": None}]
    write_csv(rows, tmp_path / "t.csv")
    assert read_csv(tmp_path / "t.csv") == rows


def test_swept_options_are_separate_curves():
    rows = [r | {"option.beta": beta, "c_dec": r["c_dec"] + beta} for beta in (0.0, 0.25)
            for r in rows_from([(2, 0.5), (4, 0.3), (6, 0.4)])]
    curves = mean_over_seeds(rows, "c_dec")
    assert sorted(curves) == [("batchtopk", 50, "beta=0.0"), ("batchtopk", 50, "beta=0.25")]


def test_point_row_puts_swept_options_in_their_own_columns():
    from sae.config import GridPoint
    from sae.sweep import point_row

    point = GridPoint(experiment="e", architecture="matryoshka_batchtopk", width=8, l0=2, seed=0,
                      options={"prefixes": [0.5]})
    assert point_row(point) == {"experiment": "e", "architecture": "matryoshka_batchtopk", "width": 8, "l0": 2,
                                "seed": 0, "option.prefixes": [0.5]}


def test_an_architecture_choosing_its_own_l0_is_drawn_at_its_measured_l0_and_not_recommended():
    chosen = [{"architecture": "top_afa", "width": 50, "l0": None, "seed": 0, "option.afa_coefficient": 0.03125,
               "l0_measured": 7.5, "c_dec": 0.2, "s_n_dec": 0.1}]
    rows = rows_from([(2, 0.5), (4, 0.3), (6, 0.4)]) + chosen
    assert mean_over_seeds(rows, "c_dec")[("top_afa", 50, "afa_coefficient=0.03125")] == [(7.5, 0.2, 0.0)]
    from sae.recommend import recommend_l0

    assert [r["architecture"] for r in recommend_l0(rows, true_l0=4.0)] == ["batchtopk"]


def test_an_empty_option_column_is_not_part_of_a_curve_key(tmp_path):
    """sbw_small: batchtopk rows read back from the CSV carry top_afa's empty option.afa_coefficient; its
    recommendation, keyed before the CSV, must still be found (the figures lost it)."""
    from sae.sweep import curve_key

    rows = [{"architecture": "batchtopk", "width": 5, "l0": 2.0, "seed": 0, "c_dec": 0.1},
            {"architecture": "top_afa", "width": 5, "l0": None, "seed": 0, "c_dec": 0.1,
             "option.afa_coefficient": 0.03125}]
    write_csv(rows, tmp_path / "sweep.csv")
    read = read_csv(tmp_path / "sweep.csv")
    assert [curve_key(r) for r in read] == [curve_key(r) for r in rows]
    assert curve_key(read[0]) == ("batchtopk", 5, "")

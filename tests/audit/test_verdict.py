"""Verdicts by hand: an SAE's measured L0 against its ladder's recommended interval."""

from sae.audit.verdict import audit_rows, verdict

REC = {"architecture": "topk", "width": 64, "options": "", "recommended_l0": 20.0, "interval_low": 16.0,
       "interval_high": 32.0, "rule": "c_dec_elbow", "supported": True, "flag": ""}


def test_below_inside_above_the_interval():
    assert verdict(8.0, REC)[0] == "below"
    assert verdict(16.0, REC)[0] == "inside" and verdict(32.0, REC)[0] == "inside"
    assert verdict(64.0, REC) == ("above", "L0 64 > interval [16, 32] (c_dec_elbow)")


def test_no_verdict_says_why():
    flat = REC | {"recommended_l0": None, "interval_low": None, "interval_high": None, "rule": "none",
                  "supported": False, "flag": "c_dec is flat within seed noise"}
    assert verdict(8.0, flat) == ("no verdict", "c_dec is flat within seed noise")
    assert verdict(8.0, None)[0] == "no verdict"


def test_the_table_matches_each_row_to_its_ladder():
    rows = [{"sae": f"s{l0}", "audit_source": f"/x/s{l0}", "architecture": "topk", "width": 64, "l0": l0}
            for l0 in (8.0, 20.0, 40.0)] + [{"sae": "other", "audit_source": "/y", "architecture": "jumprelu",
                                             "width": 64, "l0": 20.0}]
    table = audit_rows(rows, [REC])
    assert [r["verdict"] for r in table] == ["below", "inside", "above", "no verdict"]
    assert table[1]["recommended_l0"] == 20.0 and table[3]["recommended_l0"] is None

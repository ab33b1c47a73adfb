"""Fieldwork checks: each check on small cases, and recall / precision on simulated fieldwork."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.fieldwork._checks import (
    FLAG_COLUMNS,
    load_check_config,
    load_logic_checks,
    run_checks,
)
from analysis.fieldwork._enumerators import enumerator_table
from analysis.fieldwork._similarity import soft_duplicates
from analysis.simulate._fieldwork import simulate_fieldwork


def _raw(**cols):
    n = len(next(iter(cols.values())))
    base = {"_uuid": [f"u{i}" for i in range(n)], "_submitted_by": ["enq_01"] * n,
            "start": ["2026-04-06T10:00:00+01:00"] * n, "end": ["2026-04-06T10:40:00+01:00"] * n}
    base.update(cols)
    return pd.DataFrame(base)


def test_durations_short_long_invalid_and_audit(tmp_path):
    raw = _raw(end=["2026-04-06T10:40:00+01:00", "2026-04-06T10:05:00+01:00", "2026-04-06T16:00:00+01:00",
                    "", "2026-04-06T10:38:00+01:00"])
    (tmp_path / "u4").mkdir()
    pd.DataFrame({"event": ["question", "question", "form exit"], "node": ["a", "b", ""],
                  "start": [0, 60_000, 0], "end": [60_000, 180_000, 0]}).to_csv(tmp_path / "u4" / "audit.csv",
                                                                              index=False)
    cfg = load_check_config({"duration": {"audit_dir": str(tmp_path)}})
    f = run_checks(raw, config=cfg, checks=["duration_short", "duration_long", "duration_invalid",
                                            "audit_duration_short"])
    got = dict(zip(f["uuid"], f["check_id"]))
    assert got == {"u1": "duration_short", "u2": "duration_long", "u3": "duration_invalid",
                   "u4": "audit_duration_short"}
    assert list(f.columns) == FLAG_COLUMNS


def test_pii_other_specify_and_dont_know():
    raw = _raw(comments=["appelez-moi au 06 61 23 45 67", "écrire à x.y@gmail.com", "rien", ""],
               sector=["autre", "education", "education", "health"],
               sector_other=["Artisanat du tapis", "", "", ""])
    f = run_checks(raw, checks=["pii_free_text", "other_specify"])
    pii = f[f["check_id"] == "pii_free_text"]
    assert set(pii["uuid"]) == {"u0", "u1"} and set(pii["question"]) == {"comments"}
    assert (pii["severity"] == "high").all()
    oth = f[f["check_id"] == "other_specify"]
    assert oth[["uuid", "question", "value"]].values.tolist() == [["u0", "sector_other", "Artisanat du tapis"]]


def test_outliers_robust_z_by_group():
    rng = np.random.default_rng(1)
    members = np.round(np.exp(rng.normal(3, 0.5, 60))).astype(int)
    members[7] = 900000
    raw = _raw(n_members=[str(x) for x in members], legal_form=["association"] * 30 + ["cooperative"] * 30)
    f = run_checks(raw, checks=["outlier"])
    assert f["uuid"].tolist() == ["u7"] and f["question"].tolist() == ["n_members"]
    f2 = run_checks(raw, config={"outliers": {"method": "iqr", "threshold": 3.0}}, checks=["outlier"])
    assert "u7" in set(f2["uuid"])


def test_skip_logic_constraints_and_researcher_checks(tmp_path):
    raw = _raw(n_members=["10", "20", "5", "-98"], n_women_members=["4", "25", "2", ""],
               n_staff_full=["2", "30", "1", "0"], n_staff_part=["0", "0", "1", "0"],
               year_created=["1999", "2031", "2010", "2000"], consent=["1"] * 4, org_active=["1"] * 4)
    p = tmp_path / "checks.csv"
    p.write_text("id,expression,message,severity\n"
                 "women_gt,\"${n_women_members} > ${n_members}\",Plus de femmes que de membres,high\n"
                 "staff_gt,\"${n_staff_full} + ${n_staff_part} > ${n_members} and ${n_members} > 0\",Salariés,low\n",
                 encoding="utf-8")
    f = run_checks(raw, logic_checks=p)
    assert set(f.loc[f["check_id"] == "women_gt", "uuid"]) == {"u1"}
    row = f[(f["check_id"] == "staff_gt")].iloc[0]
    assert row["uuid"] == "u1" and row["severity"] == "low" and "n_members=20" in row["value"]
    assert "u1" in set(f.loc[(f["check_id"] == "constraint_violated") & (f["question"] == "year_created"), "uuid"])


def test_logic_checks_file_errors(tmp_path):
    p = tmp_path / "checks.csv"
    p.write_text("id,expression,message\nx,${a} >,oops\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_logic_checks(p)
    assert e.value.row == 2
    p.write_text("id,expression,message\nx,${a} > 1,a\nx,${a} > 2,b\n", encoding="utf-8")
    with pytest.raises(InputError, match="id of its own"):
        load_logic_checks(p)
    p.write_text("id,expression,message\noutlier,${a} > 1,a\n", encoding="utf-8")
    with pytest.raises(InputError):
        load_logic_checks(p)


def test_soft_duplicates_blocking_finds_copies_only_within_enumerator():
    rng = np.random.default_rng(5)
    n, k = 400, 60
    data = pd.DataFrame(rng.integers(1, 6, (n, k)).astype(str), columns=[f"q{i}" for i in range(k)])
    enum = np.array(["a", "b"] * (n // 2), dtype=object)
    data.iloc[300] = data.iloc[10].to_numpy()       # same enumerator (a): copy
    data.iloc[300, :4] = ["1", "2", "3", "4"]
    data.iloc[301] = data.iloc[10].to_numpy()       # other enumerator (b): not compared
    res = soft_duplicates(data, list(data.columns), [], enum, np.arange(n))
    assert res[["row", "match_row"]].values.tolist() == [[300, 10]]
    assert res.attrs["n_pairs"] < n * (n - 1) / 20   # blocking: far fewer pairs than all pairs


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_recall_and_precision_on_simulated_fieldwork(seed):
    fw = simulate_fieldwork(700, seed=seed, enumerators=14, fabricators=3, speeders=2, dont_know=1, days=25,
                            near_noise=(0.03, 0.12))
    flags = run_checks(fw.raw)
    led = fw.ledger

    def pr(truth, got):
        tp = len(truth & got)
        return tp / max(len(truth), 1), tp / max(len(got), 1)

    rec, prec = pr(set(led.loc[led["kind"] == "speeder", "_uuid"]),
                   set(flags.loc[flags["check_id"] == "duration_short", "uuid"]))
    print(f"seed {seed}: speeders recall {rec:.3f} precision {prec:.3f}")
    assert rec >= 0.9 and prec >= 0.9
    rec, prec = pr(set(led.loc[led["kind"] == "fabricated", "_uuid"]),
                   set(flags.loc[flags["check_id"] == "soft_duplicate", "uuid"]))
    print(f"seed {seed}: soft duplicates recall {rec:.3f} precision {prec:.3f}")
    assert rec >= 0.9 and prec >= 0.9
    et = enumerator_table(fw.raw, flags, load_check_config(), form=None)
    truth = set(fw.enumerators.loc[fw.enumerators["habit"] == "fabricator", "enumerator"])
    got = set(et.loc[et["suspected_fabrication"], "enumerator"])
    rec, prec = pr(truth, got)
    print(f"seed {seed}: fabricating enumerators recall {rec:.3f} precision {prec:.3f}")
    assert rec >= 0.9 and prec >= 0.9
    # ranking: the fabricators first
    assert set(et["enumerator"].iloc[:len(truth)]) == truth

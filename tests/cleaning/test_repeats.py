"""Repeat groups at three levels (issue 14, point 3): Kobo XLSX sheets and ODK Central child CSVs."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.cleaning._clean import clean_form, clean_form_data

SURVEY = [
    ("start", "start", ""), ("end", "end", ""),
    ("select_one yn", "farming", "Does the household farm?"),
    ("begin_repeat", "household_members_and_their_occupations", "Members"),
    ("text", "member_name", "Name of the member"),
    ("integer", "age", "Age"),
    ("begin_repeat", "jobs", "Jobs"),
    ("select_one yn", "paid", "Paid?"),
    ("begin_repeat", "payments", "Payments"),
    ("decimal", "amount", "Amount"),
    ("end_repeat", "", ""), ("end_repeat", "", ""), ("end_repeat", "", ""),
]
CHOICES = [("yn", "yes", "Yes"), ("yn", "no", "No")]
REP = "household_members_and_their_occupations"
# submissions: u1 has 2 members (the first with 2 jobs, one with 2 payments), u2 has none, u3 has 1 member
MEMBERS = [("u1", 1, "Amina", "34"), ("u1", 2, "Said", "12"), ("u3", 3, "Karim", "51")]
JOBS = [(1, 1, "yes"), (1, 2, "no"), (3, 3, "yes")]  # (parent member _index, _index, paid)
PAYMENTS = [(1, 1, "33.333"), (1, 2, "10.5"), (3, 3, "7")]  # (parent job _index, _index, amount)


@pytest.fixture
def form(tmp_path):
    p = tmp_path / "form.xlsx"
    with pd.ExcelWriter(p) as w:
        pd.DataFrame(SURVEY, columns=["type", "name", "label"]).to_excel(w, sheet_name="survey", index=False)
        pd.DataFrame(CHOICES, columns=["list_name", "name", "label"]).to_excel(w, sheet_name="choices", index=False)
    return p


def _main():
    return pd.DataFrame({
        "start": ["2024-05-01T10:00:00.000+00:00"] * 3, "end": ["2024-05-01T10:30:00.000+00:00"] * 3,
        "farming": ["yes", "no", "yes"], "_id": ["1", "2", "3"], "_uuid": ["u1", "u2", "u3"],
        "_submission_time": ["2024-05-01T11:00:00"] * 3, "_index": ["1", "2", "3"]})


def _kobo_xlsx(tmp_path):
    p = tmp_path / "kobo.xlsx"
    members = pd.DataFrame({f"{REP}/member_name": [m[2] for m in MEMBERS], f"{REP}/age": [m[3] for m in MEMBERS],
                            "_index": [m[1] for m in MEMBERS], "_parent_table_name": "form",
                            "_parent_index": [{"u1": 1, "u3": 3}[m[0]] for m in MEMBERS],
                            "_submission__uuid": [m[0] for m in MEMBERS]})
    jobs = pd.DataFrame({f"{REP}/jobs/paid": [j[2] for j in JOBS], "_index": [j[1] for j in JOBS],
                         "_parent_table_name": REP[:31], "_parent_index": [j[0] for j in JOBS],
                         "_submission__uuid": ["u1", "u1", "u3"]})
    pays = pd.DataFrame({f"{REP}/jobs/payments/amount": [x[2] for x in PAYMENTS], "_index": [x[1] for x in PAYMENTS],
                         "_parent_table_name": "jobs", "_parent_index": [x[0] for x in PAYMENTS],
                         "_submission__uuid": ["u1", "u1", "u3"]})
    with pd.ExcelWriter(p) as w:
        _main().to_excel(w, sheet_name="form", index=False)
        # Kobo cuts sheet titles to 31 characters; the sheets are not in form order here
        pays.to_excel(w, sheet_name="payments", index=False)
        members.to_excel(w, sheet_name=REP[:31], index=False)
        jobs.to_excel(w, sheet_name="jobs", index=False)
    return [p]


def _central(tmp_path):
    main = _main().drop(columns=["_id", "_index"]).rename(
        columns={"_uuid": "meta-instanceID", "_submission_time": "SubmissionDate"})
    main["meta-instanceID"] = "uuid:" + main["meta-instanceID"]
    main["KEY"] = main["meta-instanceID"]
    mkeys = {m[1]: f"uuid:{m[0]}/{REP}[{k}]" for k, m in enumerate(MEMBERS, 1)}
    members = pd.DataFrame({"member_name": [m[2] for m in MEMBERS], "age": [m[3] for m in MEMBERS],
                            "PARENT_KEY": [f"uuid:{m[0]}" for m in MEMBERS], "KEY": [mkeys[m[1]] for m in MEMBERS]})
    jkeys = {j[1]: f"{mkeys[j[0]]}/jobs[{k}]" for k, j in enumerate(JOBS, 1)}
    jobs = pd.DataFrame({"paid": [j[2] for j in JOBS], "PARENT_KEY": [mkeys[j[0]] for j in JOBS],
                         "KEY": [jkeys[j[1]] for j in JOBS]})
    pays = pd.DataFrame({"amount": [x[2] for x in PAYMENTS], "PARENT_KEY": [jkeys[x[0]] for x in PAYMENTS],
                         "KEY": [f"{jkeys[x[0]]}/payments[{k}]" for k, x in enumerate(PAYMENTS, 1)]})
    out = []
    for name, df in (("form.csv", main), (f"form-{REP}.csv", members), ("form-jobs.csv", jobs),
                     ("form-payments.csv", pays)):
        df.to_csv(tmp_path / name, index=False)
        out.append(tmp_path / name)
    return out


def _kobocat(tmp_path):
    """Legacy KoBoCAT CSV: repeat instances as indexed columns of the main table, n/a for skipped cells."""
    main = _main()
    member_of = {}  # member _index -> (submission row, k)
    for row, uuid in enumerate(main["_uuid"]):
        ms = [m for m in MEMBERS if m[0] == uuid]
        for k, m in enumerate(ms, 1):
            member_of[m[1]] = (row, k)
            main.loc[row, f"{REP}[{k}]/member_name"] = m[2]
            main.loc[row, f"{REP}[{k}]/age"] = m[3]
    job_of = {}
    for jm, ji, paid in JOBS:
        row, k = member_of[jm]
        kj = sum(1 for v in job_of.values() if v[:2] == (row, k)) + 1
        job_of[ji] = (row, k, kj)
        main.loc[row, f"{REP}[{k}]/jobs[{kj}]/paid"] = paid
    for pj, _pi, amount in PAYMENTS:
        row, k, kj = job_of[pj]
        col = f"{REP}[{k}]/jobs[{kj}]/payments[{{}}]/amount"
        kp = 1
        while col.format(kp) in main.columns and main.loc[row, col.format(kp)] not in ("", None) \
                and not pd.isna(main.loc[row, col.format(kp)]):
            kp += 1
        main.loc[row, col.format(kp)] = amount
    p = tmp_path / "kobocat.csv"
    main.fillna("").to_csv(p, index=False)
    return [p]


@pytest.mark.parametrize("make", [_kobo_xlsx, _central, _kobocat])
def test_three_levels_of_repeats(form, tmp_path, make):
    r = clean_form_data(make(tmp_path), form)
    assert set(r.repeats) == {REP, "jobs", "payments"}
    assert r.data[f"{REP}_count"].tolist() == [2.0, 0.0, 1.0]
    m = r.repeats[REP]
    assert "member_name" not in m.columns  # personal: the member's name
    assert m["age"].tolist() == [34.0, 12.0, 51.0]
    assert list(m["resp_id"]) == [r.data["resp_id"][0]] * 2 + [r.data["resp_id"][2]]
    j, p = r.repeats["jobs"], r.repeats["payments"]
    assert j["_parent_index"].tolist() == [m["_index"][0], m["_index"][0], m["_index"][2]]
    assert j["paid"].tolist() == ["yes", "no", "yes"]
    assert p["amount"].tolist() == [33.333, 10.5, 7.0]
    assert p["_parent_index"].tolist() == [j["_index"][0], j["_index"][0], j["_index"][2]]


def test_repeat_tables_written(form, tmp_path):
    out = tmp_path / "out"
    r = clean_form(_kobo_xlsx(tmp_path), form, out, private_dir=tmp_path / "private")
    for name in (REP, "jobs", "payments"):
        got = pd.read_parquet(out / "repeats" / f"{name}.parquet")
        assert len(got) == len(r.repeats[name]) == 3
    assert not (out / "repeats" / f"{REP}.parquet").read_bytes().count(b"Amina")

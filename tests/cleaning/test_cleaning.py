"""Tests of the cleaning stage (analysis.cleaning._clean): acceptance on simulated exports, outputs, bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cleaning._clean import (
    FLAG_COLUMNS,
    LOG_COLUMNS,
    OUTPUT_FILES,
    CleanResult,
    clean,
    clean_data,
    default_raw_files,
)
from analysis.errors import InputError
from analysis.ingest._readers import read_exports
from analysis.study._instrument import codebook

MALFORMED = Path(__file__).parents[1] / "malformed"
CASES = json.loads((MALFORMED / "expected.json").read_text(encoding="utf-8"))


def _tree_hashes(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    from analysis.simulate import simulate_export

    raw = tmp_path_factory.mktemp("raw")
    paths = simulate_export(n=800, seed=11, out_dir=raw)
    before = _tree_hashes(raw)
    out = tmp_path_factory.mktemp("out")
    result = clean([paths["export"]], out_dir=out / "processed", private_dir=out / "private")
    return {"paths": paths, "raw": raw, "before": before, "result": result, "out": out,
            "ledger": pd.read_csv(paths["truth_ledger"], dtype=str, keep_default_na=False)}


def _pr(pred: set, truth: set) -> tuple[float, float]:
    tp = len(pred & truth)
    return (tp / len(pred) if pred else 1.0), (tp / len(truth) if truth else 1.0)


def test_precision_recall_of_planted_problems(sim):
    r: CleanResult = sim["result"]
    led = sim["ledger"]
    d = r.data
    u = r._uuid
    # Rows that the simulator's near-duplicate changes turned into "pilot"/"training" interviews are both a
    # copy and, by their own status, a test: ambiguous, left out of both measures.
    amb = set(led.loc[(led["kind"] == "near_changed") & (led["column"] == "interview_status")
                      & led["written_value"].isin(["pilot", "training"]), "_uuid"])
    keep = ~pd.Series(u).isin(amb).to_numpy()
    # duplicates: pairs {copy, row it duplicates} (exact duplicates: {uuid})
    fl = d["flag_duplicate"].to_numpy()
    kept = r._dup_kept
    pred = pd.Series([frozenset((u[i], u[kept[i]])) for i in np.flatnonzero(fl)
                      if keep[i] and keep[kept[i]]]).value_counts().to_dict()
    dl = led[led["kind"].isin(["duplicate_exact", "duplicate_near"]) & ~led["_uuid"].isin(amb)]
    truth = pd.Series([frozenset((a, b or a)) for a, b in zip(dl["_uuid"], dl["original_uuid"])]).value_counts().to_dict()
    tp = sum(min(v, truth.get(k, 0)) for k, v in pred.items())
    assert sum(truth.values()) > 0
    p_dup, r_dup = tp / max(sum(pred.values()), 1), tp / sum(truth.values())
    # tests
    p_test, r_test = _pr(set(u[d["flag_test"].to_numpy() & keep]), set(led.loc[led["kind"] == "test", "_uuid"]) - amb)
    # speeders and straightliners among the rows that are neither copies nor tests
    base = ~d["flag_duplicate"].to_numpy() & ~d["flag_test"].to_numpy()
    res = {"duplicates": (p_dup, r_dup), "tests": (p_test, r_test)}
    for kind, flag in (("speeder", "flag_speeder"), ("straightliner", "flag_straightliner")):
        truth = set(led.loc[led["kind"] == kind, "_uuid"]) & set(u[base])
        assert truth, kind
        res[kind] = _pr(set(u[d[flag].to_numpy() & base]), truth)
    for kind, (p, rc) in res.items():
        assert p >= 0.95, (kind, p, rc)
        assert rc >= 0.95, (kind, p, rc)


def test_region_variants_right_and_never_wrong(sim):
    r = sim["result"]
    led = sim["ledger"]
    rv = led[led["kind"].isin(["region_variant", "region_ambiguous"])]
    pos = pd.Series(np.arange(len(r._uuid)), index=r._uuid)
    pos = pos[~pos.index.duplicated()]
    got = r.data["region"].to_numpy(dtype=object)[pos.reindex(rv["_uuid"]).to_numpy()]
    got = np.array(["" if (g is None or g is pd.NA or (isinstance(g, float) and np.isnan(g))) else g for g in got])
    right = got == rv["true_value"].to_numpy()
    wrong = (got != "") & ~right
    assert len(rv) > 20
    assert right.mean() >= 0.99
    assert wrong.sum() == 0


def test_flow_adds_up(sim):
    r = sim["result"]
    f = r.flow.set_index("step")
    steps = ["duplicate", "test", "speeder", "straightliner", "ineligible", "incomplete"]
    for col in ("all", "association", "cooperative", "other"):
        assert f.at["received", col] - f.loc[steps, col].sum() == f.at["analysed", col]
    assert (f["association"] + f["cooperative"] + f["other"] == f["all"]).all()
    assert f.at["received", "all"] == len(r.data)
    assert f.at["analysed", "all"] == int(r.data["analysed"].sum())
    written = pd.read_csv(sim["out"] / "processed" / "flow.csv")
    assert written["all"].tolist() == r.flow["all"].tolist()


def test_every_changed_cell_has_a_log_row(sim):
    r = sim["result"]
    raw = pd.read_csv(sim["paths"]["export"], sep=";", dtype=str, keep_default_na=False)
    d = r.data
    assert len(raw) == len(d)
    logged = set(zip(r.log["_uuid"], r.log["column"]))
    uuids = raw["_uuid"].to_numpy(dtype=object)
    missing = []
    for c in d.columns:
        if c not in raw.columns or c in ("start", "end", "_submission_time"):
            continue
        old = raw[c].to_numpy(dtype=object)
        if pd.api.types.is_float_dtype(d[c]):
            on = pd.to_numeric(raw[c], errors="coerce").to_numpy(dtype=float)
            nv = d[c].to_numpy(dtype=float)
            changed = ~((on == nv) | (np.isnan(on) & np.isnan(nv) & (old == "")))
        else:
            nv = d[c].astype(object).where(d[c].notna(), "").to_numpy(dtype=object)
            changed = old != nv
        for i in np.flatnonzero(changed):
            if (uuids[i], c) not in logged:
                missing.append((uuids[i], c, old[i], nv[i]))
    assert not missing, missing[:10]
    assert (r.log["rule"] != "other").all()
    assert list(r.log.columns) == LOG_COLUMNS
    for s in (sim["out"] / "processed" / "cleaning_log.csv",):
        assert pd.read_csv(s, dtype=str, keep_default_na=False).shape[0] == len(r.log)


def test_no_personal_data_anywhere_in_the_outputs(sim):
    r = sim["result"]
    cb = codebook()
    personal = set(cb.loc[cb["personal"], "variable"])
    assert not personal & set(r.data.columns)
    assert not {"_uuid", "_id", "org_name", "resp_name"} & set(r.data.columns)
    planted = pd.read_csv(sim["paths"]["truth_personal"], dtype=str, keep_default_na=False)
    values = {v for v in planted["value"] if len(v) >= 5}
    assert len(values) > 100
    proc = sim["out"] / "processed"
    texts = []
    for p in proc.iterdir():
        if p.suffix in (".csv", ".json"):
            texts.append(p.read_text(encoding="utf-8"))
    pq = pd.read_parquet(proc / "survey.parquet")
    for c in pq.columns:
        if pq[c].dtype == object or pd.api.types.is_string_dtype(pq[c]):
            texts.append("\n".join(pq[c].dropna().astype(str)))
    import pyarrow.parquet as papq

    meta = papq.read_schema(proc / "survey.parquet").metadata
    texts.append(b"".join(k + v for k, v in meta.items()).decode("utf-8", errors="replace"))
    blob = "\n".join(texts)
    leaked = [v for v in values if v in blob]
    assert not leaked, leaked[:5]
    # the link table holds them, in the private folder only
    link = pd.read_csv(sim["out"] / "private" / "link_table.csv", dtype=str, keep_default_na=False)
    assert {"resp_id", "_uuid", "org_name", "resp_phone"} <= set(link.columns)
    assert not (proc / "link_table.csv").exists()


def test_raw_folder_never_written(sim):
    assert _tree_hashes(sim["raw"]) == sim["before"]


def test_outputs_typed_and_documented(sim):
    proc = sim["out"] / "processed"
    assert sorted(p.name for p in proc.iterdir() if not p.name.startswith(".")) == sorted(OUTPUT_FILES)
    d = pd.read_parquet(proc / "survey.parquet")
    for c in FLAG_COLUMNS + ["analysed"]:
        assert d[c].dtype == bool
    assert d["si_nov_01"].dtype == np.float64
    assert set(d["si_nov_01"].dropna().unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert d["n_members"].dtype == np.float64
    assert set(d["legal_form_group"].dropna()) <= {"association", "cooperative"}
    assert set(d["region"].dropna()) <= {f"R{i:02d}" for i in range(1, 13)}
    assert d["org_age"].dropna().between(0, 130).all()
    assert d["resp_id"].str.match(r"^R[0-9a-f]{12}$").all()
    assert "target_groups/women" in d.columns and "target_groups_count" in d.columns
    labels = json.loads((proc / "labels.json").read_text(encoding="utf-8"))
    assert labels["si_nov_01"]["values"]["5"]["fr"] == "Tout à fait d'accord"
    manifest = json.loads((proc / "manifest.json").read_text(encoding="utf-8"))
    raw = sim["paths"]["export"]
    assert manifest["raw_files"][0]["sha256"] == hashlib.sha256(raw.read_bytes()).hexdigest()
    assert {"survey.csv", "choices.csv", "cleaning.yaml"} <= set(manifest["questionnaire"])
    assert manifest["rows"]["received"] == len(d)
    val = pd.read_csv(proc / "validation.csv", dtype=str, keep_default_na=False)
    assert list(val.columns)[:2] == ["file", "row"]
    assert {"file", "row", "column", "value", "rule", "action"} <= set(val.columns)


def test_deterministic_bytes(sim, tmp_path):
    r = sim["result"]
    a = r.write(tmp_path / "a")
    b = r.write(tmp_path / "b")
    for k in a:
        assert a[k].read_bytes() == b[k].read_bytes(), k
    r2 = clean_data([sim["paths"]["export"]])
    c = r2.write(tmp_path / "c")
    for k in a:
        if k == "manifest":  # holds the code fingerprint, which others' edits of the package change
            ma, mc = (json.loads(x[k].read_text()) for x in (a, c))
            ma.pop("code"), mc.pop("code")
            assert ma == mc
        else:
            assert a[k].read_bytes() == c[k].read_bytes(), k


def test_formula_injection_neutralised(tmp_path):
    r = clean_data([MALFORMED / "files" / "formula_injection.csv"])
    r.write(tmp_path)
    text = (tmp_path / "validation.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert "'+212 600" in text


def test_summary_and_contract(sim):
    r = sim["result"]
    text = r.summary()
    assert "Respondent flow" in text and len(text.splitlines()) < 60
    assert all(isinstance(w, str) for w in r.warnings)
    msgs = []
    clean_data([MALFORMED / "files" / "bom_crlf.csv"], progress=msgs.append)
    assert msgs and all(isinstance(m, str) for m in msgs)


@pytest.mark.slow
def test_demo_export_cleans_and_raw_folder_is_untouched(tmp_path):
    from analysis import config

    files = default_raw_files()
    if not files:
        pytest.skip("no demo export in data/raw/demo/")
    before = _tree_hashes(config.RAW_DIR)
    r = clean(out_dir=tmp_path / "processed", private_dir=tmp_path / "private")
    assert _tree_hashes(config.RAW_DIR) == before
    assert all(not p.name.startswith("truth") for p in files)
    assert r.flow.set_index("step").at["analysed", "all"] > 0
    assert (tmp_path / "private" / "link_table.csv").exists()


def test_default_raw_files_skip_truth(tmp_path):
    for name in ("si_survey_kobo.csv", "truth_ledger.csv", "truth_params.json", "extra.xlsx", ".hidden.csv"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in default_raw_files(tmp_path)] == ["extra.xlsx", "si_survey_kobo.csv"]


def test_several_files_combine(tmp_path):
    src = MALFORMED / "files"
    a = pd.read_csv(src / "bom_crlf.csv", sep=";", dtype=str, keep_default_na=False,
                    encoding="utf-8-sig")
    a.iloc[:5].to_csv(tmp_path / "part1.csv", sep=";", index=False)
    a.iloc[5:].to_csv(tmp_path / "part2.csv", sep=",", index=False)
    r = clean_data([tmp_path / "part1.csv", tmp_path / "part2.csv"])
    assert len(r.data) == len(a)
    assert r.data["_source_file"].tolist() == ["part1.csv"] * 5 + ["part2.csv"] * (len(a) - 5)
    assert r.data["_source_row"].tolist() == list(range(2, 7)) + list(range(2, len(a) - 3))
    assert r.data["flag_duplicate"].sum() == 0


# --------------------------------------------------------------------------- the malformed corpus


def test_corpus_size():
    files = sorted(p.name for p in (MALFORMED / "files").iterdir())
    assert len(files) >= 30
    assert sorted(CASES) == files


ERRORS = sorted(k for k, v in CASES.items() if v["outcome"] == "error")
READS = sorted(k for k, v in CASES.items() if v["outcome"] == "recovery" and v.get("stage") == "read")
CLEANS = sorted(k for k, v in CASES.items() if v["outcome"] == "recovery" and v.get("stage") == "clean")


@pytest.mark.parametrize("name", ERRORS)
def test_corpus_errors_are_clear_and_leave_outputs_alone(name, tmp_path):
    exp = CASES[name]
    out = tmp_path / "processed"
    out.mkdir()
    (out / "survey.parquet").write_bytes(b"previous run")
    before = _tree_hashes(tmp_path)
    with pytest.raises(InputError) as info:
        clean([MALFORMED / "files" / name], out_dir=out, private_dir=tmp_path / "private")
    err = info.value
    text = str(err)
    assert name in text
    assert exp["contains"] in text, text
    if exp["row"] is not None:
        assert err.row == exp["row"], text
        assert f"row {exp['row']}" in text
    if exp["column"] is not None:
        assert err.column == exp["column"], text
        assert f"column '{exp['column']}'" in text
    assert _tree_hashes(tmp_path) == before
    assert not (tmp_path / "private").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed"]


@pytest.mark.parametrize("name", READS)
def test_corpus_reader_recoveries(name):
    exp = CASES[name]
    df, tables = read_exports([MALFORMED / "files" / name])
    assert len(df) >= 12
    notes = [n for t in tables for n in t.notes]
    if exp.get("note"):
        assert any(exp["note"] in n for n in notes), notes
    base = pd.read_csv(MALFORMED / "files" / "bom_crlf.csv", sep=";", dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")
    for c in ("_uuid", "legal_form", "si_nov_01", "n_members"):
        if c in base.columns:
            assert df[c].tolist()[:12] == base[c].tolist()[:12], c


@pytest.mark.parametrize("name", CLEANS)
def test_corpus_cleaning_recoveries(name):
    exp = CASES[name]
    r = clean_data([MALFORMED / "files" / name])
    if exp.get("note"):
        assert any(exp["note"] in w for w in r.warnings), r.warnings
    if exp.get("validation"):
        assert exp["validation"] in set(r.validation["rule"]), r.validation["rule"].unique()
    if exp.get("log"):
        assert r.log["rule"].str.contains(exp["log"], regex=False).any(), r.log["rule"].unique()
    if exp.get("flag"):
        assert r.data[exp["flag"]].any()
    assert (r.log["rule"] != "other").all()


# --------------------------------------------------------------------------- formula neutralisation (CSV outputs)

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=6), st.none(), st.floats(allow_nan=True), st.integers()), max_size=30))
def test_neutralize_matches_cell_by_cell_rule(values):
    """The column-wise neutralisation (on distinct values) equals the cell-by-cell rule."""
    from analysis.tables import neutralize_formula
    from analysis.tables import neutralize_formula_column as _neutralize

    s = pd.Series(values, dtype=object)
    out = _neutralize(s)
    expected = [neutralize_formula(v) for v in values]
    assert len(out) == len(values)
    for got, exp in zip(out.tolist(), expected):
        if isinstance(exp, float) and np.isnan(exp):
            assert isinstance(got, float) and np.isnan(got)
        elif exp is None:
            assert got is None
        else:
            assert got == exp and type(got) is type(exp)


def test_neutralize_string_dtype_column():
    from analysis.tables import neutralize_formula_column as _neutralize

    s = pd.Series(["=HYPERLINK(\"x\")", "ok", None, "-1", "@a"], dtype="str")
    assert _neutralize(s).tolist()[:2] == ["'=HYPERLINK(\"x\")", "ok"]
    assert _neutralize(s).tolist()[3:] == ["'-1", "'@a"]

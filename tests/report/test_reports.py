"""Tests of analysis.report._reports: the thesis tables and figures.

Two data sets:

* a small fixed data set built here (fast): snapshots of the Markdown and LaTeX output of
  three tables (``tests/snapshots/reports/``), byte-stable reruns, English output, the
  table plan loader;
* the bundled demo export, run once through the whole pipeline (clean + report) in a
  temporary folder (module-scoped fixture, a few minutes): every table of BLUEPRINT
  section 5 in every format, every figure, the numbers in the tables against the analysis
  objects, no published count below the small-cell threshold, the manifest, the stage skip.

After an intended change of the output, regenerate the snapshots with::

    SI_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_reports.py -k snapshot
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import config, pipeline
from analysis.errors import ConfigError
from analysis.report import build_reports, load_table_plan, report_manifest
from analysis.report._common import SUPPRESSED
from analysis.report.writers import ALL_FORMATS
from analysis.study._constructs import load_constructs
from analysis.tables import format_integer, format_number
from analysis.utils.atomic import sha256_file

SNAPSHOTS = Path(__file__).parents[1] / "snapshots" / "reports"
UPDATE = os.environ.get("SI_UPDATE_SNAPSHOTS") == "1"

SMALL_PLAN = """\
version: 1
options:
  small_cell_threshold: 5
  loading_threshold: 0.30
  seed: 2026
  group: legal_form_group
tables:
  - id: t01_flow
    kind: flow
    title: {fr: "Flux des répondants", en: "Respondent flow"}
  - id: t02_sample
    kind: sample
    title: {fr: "Description de l'échantillon", en: "Sample description"}
    categorical: [legal_form, milieu]
    numeric: [n_members]
    weights: design_weight
  - id: t04_reliability
    kind: reliability
    title: {fr: "Fiabilité des échelles", en: "Reliability of the scales"}
    omega_factors: 3
  - id: t08_problems
    kind: problems
    title: {fr: "Problèmes rencontrés", en: "Problems encountered"}
    serious_from: 4
"""

SNAPSHOT_TABLES = ("t01_flow", "t04_reliability", "t08_problems")


# --------------------------------------------------------------------------- small fixed data


def small_survey(n: int = 150, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small cleaned survey with every Likert block and the Annexe 2 problems, and its flow."""
    rng = np.random.default_rng(seed)
    spec = load_constructs()
    legal = rng.choice(["association", "association_rup", "fondation", "cooperative", "union_coop"],
                       p=[0.52, 0.03, 0.05, 0.36, 0.04], size=n)
    df = pd.DataFrame({
        "analysed": True,
        "legal_form": legal,
        "region": rng.choice([f"R{k:02d}" for k in range(1, 13)], size=n),
        "milieu": rng.choice(["urbain", "rural", "mixte"], p=[0.45, 0.45, 0.10], size=n),
        "year_created": rng.integers(1990, 2025, size=n),
        "_submission_time": "2026-04-01T10:00:00",
        "n_members": np.round(np.exp(rng.normal(3.2, 1.0, size=n))),
    })
    items = {}
    for c in spec.reflective:
        z = rng.normal(size=n)
        for d in c.dimensions:
            zd = 0.8 * z + 0.6 * rng.normal(size=n)
            for i in d.items:
                x = np.clip(np.round(3 + 0.9 * zd + rng.normal(0, 0.8, size=n)), 1, 5)
                items[i] = 6 - x if i in d.reverse else x
    probs = [i for g in spec.problem_groups.values() for i in g["items"]]
    for i in probs:
        items[i] = rng.integers(1, 6, size=n).astype(float)
    df = pd.concat([df, pd.DataFrame(items)], axis=1)
    df.loc[rng.choice(n, 6, replace=False), "si_nov_01"] = 98.0  # "je ne sais pas"
    n_assoc = int(df["legal_form"].isin(["association", "association_rup", "fondation"]).sum())
    n_coop = n - n_assoc
    flow = pd.DataFrame({
        "step": ["received", "duplicate", "test", "ineligible", "incomplete", "analysed"],
        "description": ["Soumissions reçues", "Doublons", "Entretiens test ou pilotes", "Organisations non éligibles",
                        "Entretiens incomplets ou refus", "Organisations retenues pour l'analyse"],
        "all": [n + 31, 9, 3, 12, 7, n],
        "association": [n_assoc + 10, 6, 2, 0, 2, n_assoc],
        "cooperative": [n_coop + 7, 3, 1, 0, 3, n_coop],
        "other": [14, 0, 0, 12, 2, 0],
    })
    return df, flow


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The small data set written as a processed folder, its plan, and the French report."""
    root = tmp_path_factory.mktemp("small")
    processed = root / "processed"
    processed.mkdir()
    survey, flow = small_survey()
    survey.to_parquet(processed / "survey.parquet")
    flow.to_csv(processed / "flow.csv", index=False)
    plan_path = root / "tables.yaml"
    plan_path.write_text(SMALL_PLAN, encoding="utf-8")
    plan = load_table_plan(plan_path)
    fr = build_reports(processed, root / "fr", plan=plan, demo=False)
    return {"root": root, "processed": processed, "plan": plan, "fr": fr, "flow": flow}


def _snapshot(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"missing snapshot {path}; run with SI_UPDATE_SNAPSHOTS=1")
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed (SI_UPDATE_SNAPSHOTS=1 to accept)"


@pytest.mark.parametrize("table_id", SNAPSHOT_TABLES)
@pytest.mark.parametrize("ext", ["md", "tex"])
def test_snapshot_small_tables(small, table_id, ext):
    text = (small["root"] / "fr" / ext / f"{table_id}.{ext}").read_text(encoding="utf-8")
    _snapshot(SNAPSHOTS / f"{table_id}.{ext}", text)


def test_second_build_changes_no_byte(small, tmp_path):
    again = build_reports(small["processed"], tmp_path / "again", plan=small["plan"], demo=False)
    first = small["root"] / "fr"
    for p in again.files:
        rel = p.relative_to(tmp_path / "again")
        if rel.suffix in (".md", ".tex", ".html", ".docx", ".xlsx", ".csv", ".txt"):
            assert (first / rel).read_bytes() == p.read_bytes(), rel
    # the manifest too, but for the code fingerprint (others may edit the package meanwhile)
    m1 = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    m2 = json.loads((tmp_path / "again" / "manifest.json").read_text(encoding="utf-8"))
    for m in (m1, m2):
        m.pop("code")
    assert m1 == m2


def test_small_every_format_and_counts(small):
    out = small["root"] / "fr"
    for name in ("tables.html", "tables.md", "tables.docx", "tables.xlsx", "manifest.json", "warnings.txt"):
        assert (out / name).exists(), name
    for tid in small["plan"].ids:
        for sub, ext in (("tex", "tex"), ("md", "md"), ("docx", "docx")):
            assert (out / sub / f"{tid}.{ext}").exists(), (tid, ext)
    _assert_no_small_counts(small["fr"].outputs, 5)


def test_flow_table_adds_up_and_suppresses(small):
    o = small["fr"].outputs["t01_flow"]
    assert o.results["flow_adds_up"] is True
    r = o.tables[0].render()
    rows = [[c.text for c in row] for s in r.sections for row in s.rows]
    # the whole-sample column equals flow.csv where it is published (complementary suppression
    # may hide a count of 5 or more so that a small one cannot be recovered)
    flow = small["flow"]
    for row, v in zip(rows, flow["all"]):
        assert row[1] in (SUPPRESSED, format_integer(v, "fr")), (row, v)
    assert rows[0][1] == format_integer(flow["all"].iloc[0], "fr")
    assert rows[-1][1] == format_integer(flow["all"].iloc[-1], "fr")
    assert rows[2][1] == SUPPRESSED  # 3 test interviews
    assert "masqués" in r.notes[0].text and "aucun questionnaire." in r.notes[0].text


def test_english_report(small, tmp_path):
    en = build_reports(small["processed"], tmp_path / "en", lang="en", plan=small["plan"], demo=False)
    md = (tmp_path / "en" / "tables.md").read_text(encoding="utf-8")
    assert "**Table 1**" in md and "*Source:*" in md and "Submissions received" in md
    for french in ("Tableau", "Ensemble", "Source :", "Écart-type", "Modalités de référence", "Échelle complète"):
        assert french not in md, french
    assert "labels are the English version of the questionnaire" in md
    assert "labels are those of the French questionnaire" not in md
    assert "Social innovation presence" in md  # construct labels translated
    assert en.manifest["lang"] == "en"


def test_english_report_uses_the_english_item_wordings_and_choice_labels(small, tmp_path):
    """The questionnaire's ``label::English (en)`` columns reach every table of the English report:
    question wordings (category rows of the sample table, problem items, Likert items) and answer
    labels; the French ones stay in the French report."""
    build_reports(small["processed"], tmp_path / "en", lang="en", plan=small["plan"], demo=False)
    en = (tmp_path / "en" / "tables.md").read_text(encoding="utf-8")
    fr = (small["root"] / "fr" / "tables.md").read_text(encoding="utf-8")
    pairs = [  # (French, English) of a question, its answers, an item of a table
        ("Forme juridique de l'organisation", "Legal form of the organisation"),
        ("Milieu d'intervention", "Setting of operation"),
        ("Mixte (urbain et rural)", "Mixed (urban and rural)"),
        ("Union de coopératives", "Union of cooperatives"),
        ("Insuffisance des ressources financières", "Insufficient financial resources"),
    ]
    for french, english in pairs:
        assert english in en and french not in en, english
        assert french in fr and english not in fr, french
    table = next(block for block in en.split("**Table ") if "Insufficient financial resources" in block)
    assert "| Insufficient financial resources" in table  # a row of the Markdown table


def test_sample_table_structure(small):
    o = small["fr"].outputs["t02_sample"]
    cat, num = o.tables
    r = cat.render()
    labels = [s.label for s in r.sections]
    assert labels[0] == "Forme juridique de l'organisation"  # nested in its group: no test
    assert re.fullmatch(r"Milieu d'intervention \(p [=<]\s?,\d+\)", labels[1].replace("\u202f", " ").replace("\xa0", " ")), labels[1]
    assert r.column_labels[-1] == "% pondéré"  # the p of the test follows the variable's name
    rnum = num.render()
    assert [row[0].text for row in rnum.sections[0].rows] == ["n", "Méd.", "Q1–Q3", "M", "ÉT"]


# --------------------------------------------------------------------------- plan loader


def _write_plan(tmp_path, tables: str) -> Path:
    p = tmp_path / "plan.yaml"
    p.write_text("version: 1\ntables:\n" + tables, encoding="utf-8")
    return p


def test_plan_errors_name_the_table(tmp_path):
    p = _write_plan(tmp_path, "  - {id: tA, kind: nonsense, title: {fr: A}}\n")
    with pytest.raises(ConfigError, match=r"'tA'.*unknown kind 'nonsense'"):
        load_table_plan(p)
    p = _write_plan(tmp_path, "  - {id: tA, kind: flow, title: {fr: A}}\n  - {id: tA, kind: likert, title: {fr: B}}\n")
    with pytest.raises(ConfigError, match=r"table 2 \('tA'\).*used twice"):
        load_table_plan(p)
    p = _write_plan(tmp_path, "  - {id: tB, kind: flow}\n")
    with pytest.raises(ConfigError, match=r"'tB'.*'title' needs at least a French text"):
        load_table_plan(p)
    p = _write_plan(tmp_path, "  - {id: tC, kind: efa, title: {fr: C}, loading_threshold: 2}\n")
    with pytest.raises(ConfigError, match=r"'tC'.*loading_threshold"):
        load_table_plan(p)
    p = _write_plan(tmp_path, "  - {kind: flow, title: {fr: C}}\n")
    with pytest.raises(ConfigError, match=r"table 1.*needs an 'id'"):
        load_table_plan(p)


def test_default_plan_has_the_ten_blueprint_tables():
    plan = load_table_plan()
    kinds = [t["kind"] for t in plan.tables]
    for kind in ("flow", "sample", "likert", "reliability", "efa", "cfa", "invariance", "funding",
                 "problems", "models", "groups"):
        assert kind in kinds
    assert plan.options["small_cell_threshold"] >= 1


# --------------------------------------------------------------------------- helpers


def _visible(t) -> list[str]:
    return t._visible_columns()  # the columns the rendered table shows, in order


def _assert_no_small_counts(outputs: dict, threshold: int) -> int:
    """Every published count is suppressed, a dash, or at least the threshold."""
    checked = 0
    for tid, o in outputs.items():
        for i, t in enumerate(o.tables):
            cols = o.count_columns[i]
            if not cols:
                continue
            vis = _visible(t)
            r = t.render()
            body = [row for s in r.sections for row in s.rows]
            keep = o.count_rows[i]
            for k, row in enumerate(body):
                if keep is not None and k not in keep:
                    continue
                for c in cols:
                    text = row[vis.index(c)].text.strip()
                    if text in (SUPPRESSED, "—", ""):
                        continue
                    value = int(re.sub(r"[\s\u202f\u00a0]", "", text))
                    assert value >= threshold, (tid, i, c, text)
                    checked += 1
    return checked


def _body(t) -> list[list[str]]:
    r = t.render()
    return [[c.text for c in row] for s in r.sections for row in s.rows]


def _row(t, first: str, section: str | None = None) -> list[str]:
    r = t.render()
    for s in r.sections:
        if section is not None and s.label != section:
            continue
        for row in s.rows:
            if row[0].text == first:
                return [c.text for c in row]
    raise AssertionError(f"no row {first!r} in section {section!r}")


# --------------------------------------------------------------------------- figures in worker processes


def _some_figures() -> dict:
    from analysis.report import likert_diverging_bars, regional_bars

    levels = ["Non", "Plutôt non", "Neutre", "Plutôt oui", "Oui"]
    rng = np.random.default_rng(5)
    figs = {}
    for k in range(2):
        rows = [{"item": f"Item {i} " + "long " * i, "level": lv, "share": s}
                for i in range(3 + 4 * k) for lv, s in zip(levels, rng.dirichlet(np.ones(5)))]
        figs[f"likert_{k}"] = likert_diverging_bars(pd.DataFrame(rows), levels=levels, title=f"Bloc {k}")
        figs[f"regions_{k}"] = regional_bars(pd.DataFrame({"region": [f"R{j}" for j in range(4 + k)],
                                                           "value": rng.integers(5, 50, 4 + k)}))
    return figs


def _with_figures(small, figures: dict) -> dict:
    """The small report's outputs, the figures shared out among them (several tables have figures)."""
    from analysis.report import TableOutput

    outputs = {}
    names = list(figures)
    for k, (tid, o) in enumerate(small["fr"].outputs.items()):
        outputs[tid] = TableOutput(tid, list(o.tables), {n: figures[n] for n in names[k::len(small["fr"].outputs)]},
                                   dict(o.results), o.count_columns, o.count_rows, list(o.landscape))
    return outputs


def _tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_figure_workers_write_the_same_files(small, tmp_path):
    from analysis.report import write_report

    lists, trees = {}, {}
    for workers in (1, 2, 3):
        # new figures each time: a figure rendered once is laid out again from where it was left
        outputs = _with_figures(small, _some_figures())
        out = tmp_path / f"w{workers}"
        lists[workers] = [p.relative_to(out).as_posix()
                          for p in write_report(outputs, ["w"], out, ALL_FORMATS, "fr", workers=workers)]
        trees[workers] = _tree(out)
    assert lists[1] == lists[2] == lists[3]
    assert trees[1] == trees[2] == trees[3]
    assert sum(name.startswith("figures/") for name in trees[1]) == 8


class _FailsInWorker:
    """An artist that fails when drawn in another process than the test's (a figure worker)."""

    def __init__(self, how: str):
        self.parent, self.how = os.getpid(), how

    def attach(self, fig) -> None:
        from matplotlib.artist import Artist

        test = self

        class Boom(Artist):
            def draw(self, renderer):
                if os.getpid() != test.parent:
                    if test.how == "exit":
                        os._exit(3)
                    raise ValueError("boom in the worker")

        fig.add_artist(Boom())


@pytest.mark.parametrize("how", ["raise", "exit"])
def test_figure_worker_failure_is_an_error_and_writes_no_figure(small, tmp_path, how):
    import multiprocessing

    from analysis.errors import SiSurveyError
    from analysis.report import write_report
    from analysis.utils.atomic import staged_directory
    from analysis.utils.forking import RemoteTraceback

    figures = _some_figures()
    for fig in figures.values():  # whichever figures the worker gets, it fails
        _FailsInWorker(how).attach(fig)
    outputs = _with_figures(small, figures)
    expected = (ValueError, "boom in the worker") if how == "raise" else (SiSurveyError, r"exit code 3")
    out = tmp_path / "direct"
    with pytest.raises(expected[0], match=expected[1]) as info:
        write_report(outputs, [], out, ALL_FORMATS, "fr", workers=2)
    if how == "raise":
        assert isinstance(info.value.__cause__, RemoteTraceback)
        assert "boom in the worker" in str(info.value.__cause__)
        assert any(re.search(r"figure '(likert|regions)_\d' in a worker process", note)
                   for note in info.value.__notes__)
    else:
        assert re.search(r"before sending figure\(s\) '(likert|regions)_\d'", str(info.value))
    assert not (out / "figures").exists() or not any((out / "figures").iterdir())
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]
    assert not multiprocessing.active_children()
    # through the staged folder: the previous reports stay as they were
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "old.txt").write_text("previous run")
    with pytest.raises(expected[0]), staged_directory(reports) as stage:
        write_report(outputs, [], stage, ALL_FORMATS, "fr", workers=2)
    assert _tree(reports) == {"old.txt": b"previous run"}
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []


def test_figure_worker_stopped_when_the_tables_fail(small, tmp_path, monkeypatch):
    import multiprocessing

    from analysis.report import write_report
    from analysis.report.writers import WRITERS, Writer

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setitem(WRITERS, "docx", Writer("docx", combined=broken, per_table=broken))
    with pytest.raises(OSError, match="disk full"):
        write_report(_with_figures(small, _some_figures()), [], tmp_path / "out", ALL_FORMATS, "fr",
                             workers=2)
    assert not multiprocessing.active_children()
    assert not (tmp_path / "out" / "figures").exists()


# --------------------------------------------------------------------------- the demo run


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The whole job on the bundled demo export, once, in a temporary folder."""
    root = tmp_path_factory.mktemp("demo")
    result = pipeline.run(processed_dir=root / "processed", out_dir=root / "reports", progress=lambda m: None)
    return {"root": root, "result": result, "processed": root / "processed", "reports": root / "reports"}


BLUEPRINT_TABLES = ("flow", "sample", "likert", "reliability", "efa", "cfa", "funding", "problems", "models", "groups")


def test_demo_every_table_in_every_format(demo):
    rep = demo["reports"]
    plan = load_table_plan()
    outputs = demo["result"].report.outputs
    kinds = {t["kind"]: t["id"] for t in plan.tables}
    for kind in BLUEPRINT_TABLES + ("invariance",):
        tid = kinds[kind]
        assert outputs[tid].tables, tid
        for sub, ext in (("tex", "tex"), ("md", "md"), ("docx", "docx")):
            assert (rep / sub / f"{tid}.{ext}").stat().st_size > 0, (tid, ext)
    n_tables = sum(len(o.tables) for o in outputs.values())
    md = (rep / "tables.md").read_text(encoding="utf-8")
    html = (rep / "tables.html").read_text(encoding="utf-8")
    for k in range(1, n_tables + 1):
        assert f"**Tableau {k}**" in md
        assert f"Tableau {k}" in html
    import docx
    import openpyxl

    word = docx.Document(rep / "tables.docx")
    # one caption per table; a table taller than a page is in several Word tables, one per page
    assert word.element.body.xml.count("SEQ Tableau \\* ARABIC") == n_tables
    assert len(word.tables) >= n_tables
    assert len(openpyxl.load_workbook(rep / "tables.xlsx").sheetnames) == n_tables
    figures = [name for o in outputs.values() for name in o.figures]
    assert len(figures) >= 8
    for name in figures:
        for ext in ("png", "pdf"):
            assert (rep / "figures" / f"{name}.{ext}").stat().st_size > 1000, (name, ext)
    assert demo["result"].recomputed == {"clean": True, "report": True}
    assert "données simulées" in md  # the source says the demo data are simulated


def test_demo_no_published_count_below_threshold(demo):
    threshold = load_table_plan().options["small_cell_threshold"]
    checked = _assert_no_small_counts(demo["result"].report.outputs, threshold)
    assert checked > 100


def test_demo_flow_counts_equal_flow_csv(demo):
    flow = pd.read_csv(demo["processed"] / "flow.csv")
    o = demo["result"].report.outputs["flow"]
    body = _body(o.tables[0])
    assert [row[1] for row in body] == [format_integer(v, "fr") for v in flow["all"]]
    assert o.results["flow_adds_up"] is True
    removed = flow["all"].iloc[1:-1].sum()
    assert flow["all"].iloc[0] - removed == flow["all"].iloc[-1]


def test_demo_alpha_equals_reliability_alpha(demo):
    from analysis.psychometrics._reliability import alpha
    from analysis.study._dataset import load_survey, prepare_analysis_data

    spec = load_constructs()
    data = prepare_analysis_data(load_survey(demo["processed"]), spec)
    o = demo["result"].report.outputs["reliability"]
    construct = spec["si_presence"]
    for d in construct.dimensions[:3]:
        X = data[list(d.items)].apply(pd.to_numeric, errors="coerce")
        X = X.where((X >= 1) & (X <= 5))
        a = alpha(X, keys=[("-" + i) if i in d.reverse else i for i in d.items])
        label = d.label_fr.split(" (97")[0]
        row = _row(o.tables[0], label)
        # APA: no leading zero for values bounded by 1
        assert row[3] == format_number(a.alpha, 2, "fr", leading_zero=False)
        assert row[4] == format_number(a.ci_low, 2, "fr", leading_zero=False)
        assert row[5] == format_number(a.ci_high, 2, "fr", leading_zero=False)


def test_demo_coefficient_equals_regress(demo):
    from analysis.regression import regress
    from analysis.study._analysis_plan import load_analysis_plan
    from analysis.study._dataset import load_survey, prepare_analysis_data
    from analysis.tables import stars_for

    data = prepare_analysis_data(load_survey(demo["processed"]))
    spec = load_analysis_plan().models["h1_impact"]
    res = regress(spec.formula, data, model=spec.model, se=spec.se)
    est = res.coefficients.loc["score_si_presence"]
    o = demo["result"].report.outputs["models"]
    t = o.tables[0]
    body = _body(t)
    k = next(i for i, row in enumerate(body) if row[0] == "Présence de l'innovation sociale")
    assert body[k][1] == format_number(est["estimate"], 2, "fr") + stars_for(est["p_value"])
    assert body[k + 1][1] == "(" + format_number(est["se"], 2, "fr") + ")"
    n_row = next(row for row in body if row[0] == "N")
    assert n_row[1] == format_integer(res.fit["n"], "fr")


def test_demo_cfa_and_efa_numbers_equal_their_results(demo):
    o = demo["result"].report.outputs["cfa"]
    res = o.results["cfa"]
    fit = dict((row[0], row[1]) for row in _body(o.tables[0]))
    assert fit["CFI"] == format_number(float(res.fit["cfi_robust"]), 3, "fr", leading_zero=False)
    assert fit["n"] == format_integer(float(res.fit["ntotal"]), "fr")
    sl = res.std_loadings.set_index("rhs")["estimate"]
    row = next(r for r in _body(o.tables[1]) if "(si_nov_01" in r[0])
    assert row[1] == format_number(float(sl["si_nov_01"]), 2, "fr", leading_zero=False)
    e = demo["result"].report.outputs["efa"]
    threshold = load_table_plan().options["loading_threshold"]
    L = e.results["efa"].loadings
    shown = [c for row in _body(e.tables[0]) if "(si_" in row[0] for c in row[1:-1] if c]
    n_loadings_shown = sum(1 for c in shown if re.fullmatch(r"−?\d?,\d\dᵃ?", c))
    assert n_loadings_shown == int((L.abs() >= threshold).to_numpy().sum())
    assert sum(c.endswith("ᵃ") for c in shown) == len(L)  # one primary loading per item


def test_demo_manifest(demo):
    rep = demo["reports"]
    manifest = json.loads((rep / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["survey.parquet"] == sha256_file(demo["processed"] / "survey.parquet")
    assert manifest["inputs"]["flow.csv"] == sha256_file(demo["processed"] / "flow.csv")
    stage = json.loads((rep / pipeline.STAGE_FILE).read_text())
    # (not compared with code_fingerprint() now: others may edit the package during the tests)
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["code"]["fingerprint"])
    assert manifest["code"]["si_survey_version"] == manifest["versions"]["si-survey"]
    assert manifest["formats"] == sorted(ALL_FORMATS) and manifest["lang"] == "fr"
    assert manifest["seeds"]["plan"] == load_table_plan().options["seed"]
    assert manifest["versions"]["numpy"] and manifest["demo_data"] is True
    assert manifest["stage_key"] == stage["key"]
    for rel, digest in manifest["outputs"].items():
        assert sha256_file(rep / rel) == digest, rel
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", (rep / "manifest.json").read_text(encoding="utf-8"))
    # the same inputs give the same manifest
    files = [rep / rel for rel in manifest["outputs"]]
    again = report_manifest(demo["processed"], rep, files, formats=ALL_FORMATS, lang="fr",
                            plan=load_table_plan(), demo=True)
    assert {k: v for k, v in again.items() if k != "code"} == {
        k: v for k, v in manifest.items() if k not in ("stage_key", "code")}


def test_demo_second_run_is_skipped(demo, monkeypatch):
    # the code as it was for the first run (others may edit the package while the tests run)
    stage = json.loads((demo["reports"] / pipeline.STAGE_FILE).read_text())
    monkeypatch.setattr(pipeline, "code_fingerprint", lambda: stage["code"])
    monkeypatch.setattr(pipeline, "questionnaire_fingerprint", lambda: stage["questionnaire"])
    before = {p: p.read_bytes() for p in demo["reports"].rglob("*") if p.is_file()}
    r = pipeline.run(processed_dir=demo["processed"], out_dir=demo["reports"], progress=lambda m: None)
    assert r.recomputed == {"clean": False, "report": False}
    after = {p: p.read_bytes() for p in demo["reports"].rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.slow
def test_demo_forced_rerun_changes_no_byte(demo):
    rep = demo["reports"]
    texts = {p: p.read_bytes() for p in rep.rglob("*") if p.suffix in (".md", ".tex", ".html", ".csv")}
    r = pipeline.run(processed_dir=demo["processed"], out_dir=rep, force=True, progress=lambda m: None)
    assert r.recomputed == {"clean": True, "report": True}
    for p, content in texts.items():
        assert p.read_bytes() == content, p.relative_to(rep)


def test_demo_source_is_detected(demo):
    assert json.loads((demo["reports"] / "manifest.json").read_text())["demo_data"] is True
    assert config.DEMO_RAW_DIR.exists()


@pytest.mark.parametrize("engine", ["pdflatex", "lualatex"])
def test_demo_latex_master_compiles_and_fits(demo, engine, tmp_path):
    """reports/tables.tex compiles as delivered: no error, no overfull line, no float too large."""
    import shutil
    import subprocess

    if shutil.which(engine) is None:
        pytest.skip(f"{engine} is not installed")
    src = demo["reports"] / "tables.tex"
    (tmp_path / "tables.tex").write_bytes(src.read_bytes())
    for _ in range(2):
        proc = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "tables.tex"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=600)
    log = (tmp_path / "tables.log").read_text(encoding="utf-8", errors="replace")
    assert proc.returncode == 0, log[-3000:]
    problems = [ln for ln in log.splitlines()
                if ln.startswith("!") or "Overfull" in ln or "Float too large" in ln]
    assert not problems, problems
    assert "Liste des tableaux" in subprocess.run(["pdftotext", str(tmp_path / "tables.pdf"), "-"],
                                                  capture_output=True, text=True).stdout \
        if shutil.which("pdftotext") else True


DEMO_TABLE_IDS = [t["id"] for t in load_table_plan().tables]


@pytest.mark.parametrize("table_id", DEMO_TABLE_IDS)
def test_snapshot_demo_tables(demo, table_id):
    """Every table of the demo plan, as normalised text (Markdown): every table kind is covered."""
    text = (demo["reports"] / "md" / f"{table_id}.md").read_text(encoding="utf-8")
    _snapshot(SNAPSHOTS / "demo" / f"{table_id}.md", text)


def test_every_table_kind_has_a_snapshot():
    from analysis.report.kinds import KINDS

    plan_kinds = {t["kind"] for t in load_table_plan().tables}
    small_kinds = {"flow", "reliability", "problems"}
    assert set(KINDS) <= plan_kinds | small_kinds, set(KINDS) - plan_kinds - small_kinds


# --------------------------------------------------------------------------- APA-style results text


def _apa(o) -> str:
    return " ".join(o.results["apa_text"])


def test_reliability_apa_sentence_holds_the_table_cells(small):
    o = small["fr"].outputs["t04_reliability"]
    sentences = o.results["apa_text"]
    scales = o.results["scales"]
    whole = scales[scales["scale"] == "Échelle complète"]
    assert len(sentences) == len(whole) > 0
    for sentence, construct in zip(sentences, whole["construct"]):
        row = _row(o.tables[0], "Échelle complète", section=construct)
        assert f"« {construct} »" in sentence
        # "α = ,84 ; IC 95 % [,82 ; ,86]": the very cells of the table, APA-French
        assert f"α = {row[3]} ; IC 95 % [{row[4]} ; {row[5]}]" in sentence, (sentence, row)
        assert re.search(r"α = ,\d\d ;", sentence)
        assert f"k = {row[1]}, n = {row[2]}" in sentence


def test_results_text_in_markdown_and_html_not_in_word_or_latex(small):
    import html

    import docx

    from analysis.report import results_paragraphs
    from analysis.tables.render_markdown import escape_markdown

    out = small["root"] / "fr"
    o = small["fr"].outputs["t04_reliability"]
    paragraph = results_paragraphs(o, "fr")[-1]
    assert paragraph.startswith("Résultats : ") and o.results["apa_text"][0] in paragraph
    md = (out / "tables.md").read_text(encoding="utf-8")
    assert escape_markdown(paragraph) in md
    # right after its table (the last one of the plan entry), before the next table
    assert md.index("Fiabilité des échelles") < md.index(escape_markdown(paragraph)) < md.index("Problèmes rencontrés")
    assert escape_markdown(paragraph) in (out / "md" / "t04_reliability.md").read_text(encoding="utf-8")
    assert "Résultats :" not in (out / "md" / "t01_flow.md").read_text(encoding="utf-8")  # the flow has none
    assert f'<p class="results-text">{html.escape(paragraph)}</p>' in (out / "tables.html").read_text(encoding="utf-8")
    word = "\n".join(p.text for p in docx.Document(out / "tables.docx").paragraphs)
    assert "Résultats :" not in word and "Cohérence interne" not in word
    for tex in [out / "tables.tex", *(out / "tex").glob("*.tex")]:
        if tex.exists():
            assert "Cohérence interne" not in tex.read_text(encoding="utf-8"), tex


def test_results_text_option_false_removes_it(small, tmp_path):
    from analysis.report import write_report
    from analysis.study._schema import TABLE_PLAN_OPTIONS

    assert "apa_text" in TABLE_PLAN_OPTIONS  # the plan checker accepts the option
    outputs = small["fr"].outputs
    write_report(outputs, [], tmp_path / "off", ["md", "html"], "fr", workers=1, apa_text=False)
    write_report(outputs, [], tmp_path / "on", ["md", "html"], "fr", workers=1)
    for name in ("tables.md", "tables.html", "md/t04_reliability.md"):
        assert "Cohérence interne" not in (tmp_path / "off" / name).read_text(encoding="utf-8"), name
        assert "Résultats :" in (tmp_path / "on" / name).read_text(encoding="utf-8"), name
    # without the text, the files are those of the tables alone
    from analysis.tables import write_markdown

    alone = write_markdown([t for o in outputs.values() for t in o.tables], tmp_path / "alone.md")
    assert (tmp_path / "off" / "tables.md").read_bytes() == alone.read_bytes()


@pytest.mark.slow
def test_results_text_plan_option_false(small, tmp_path):
    import dataclasses

    plan = dataclasses.replace(small["plan"], options={**small["plan"].options, "apa_text": False})
    build_reports(small["processed"], tmp_path / "off", plan=plan, demo=False, formats=["md", "html"])
    for name in ("tables.md", "tables.html"):
        assert "Résultats :" not in (tmp_path / "off" / name).read_text(encoding="utf-8")


def test_english_results_text(small):
    from analysis.report import results_paragraphs

    o = small["fr"].outputs["t04_reliability"]
    assert results_paragraphs(o, "en")[-1].startswith("Results: ")


def test_demo_cfa_apa_sentence_holds_the_fit_cells(demo):
    o = demo["result"].report.outputs["cfa"]
    fit = dict((row[0], row[1]) for row in _body(o.tables[0]))
    sentence = _apa(o)
    p = fit["p"] if fit["p"].startswith("<") else f"= {fit['p']}"
    assert f"χ²({fit['ddl']}) = {fit['χ²']}, p {p} ;" in sentence, (sentence, fit)
    assert f"CFI = {fit['CFI']} ;" in sentence and re.search(r"CFI = ,\d{3}", sentence)
    ci = next(v for k, v in fit.items() if k.startswith("RMSEA IC"))
    assert f"RMSEA = {fit['RMSEA']}, IC 90 % {ci} ;" in sentence
    assert f"SRMR = {fit['SRMR']}." in sentence and f"n = {fit['n']}" in sentence


def test_demo_groups_apa_sentence_holds_the_table_cells(demo):
    o = demo["result"].report.outputs["groups"]
    body = _body(o.tables[0])
    sentences = o.results["apa_text"]
    assert len(sentences) == len(body)
    for s, row in zip(sentences, body):
        _, m1, sd1, m2, sd2, t, p, g, lo, hi = row
        assert s.startswith(f"{row[0]} : ")
        assert f"M = {m1} (ÉT = {sd1})" in s and f"M = {m2} (ÉT = {sd2})" in s
        assert f") = {t}, p {p if p.startswith('<') else '= ' + p} ;" in s, (s, row)
        assert f"g de Hedges = {g}, IC 95 % [{lo} ; {hi}]" in s


@pytest.mark.parametrize("kind", ["sem", "pls"])
def test_demo_path_apa_sentences_hold_the_table_cells(demo, kind):
    o = demo["result"].report.outputs[kind]
    t = next(t for t in o.tables if "β" in t.render().column_labels)
    body = [row for row in _body(t) if row[1]]
    sentences = o.results["apa_text"]
    assert len(sentences) == len(body) > 0
    for s, row in zip(sentences, body):
        assert s.startswith(f"{row[0]} : β = {row[1]}, "), (s, row)
        assert s.endswith(f"{row[-1] if kind == 'sem' else row[4]}."), (s, row)

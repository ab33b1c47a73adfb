"""Regression tests of issue 15, points 1 and 2: numbers and defaults a methodologist
defends, labels that are true.

One module-scoped fixture runs the whole job (clean + report, Markdown only) on two data
sets: the bundled demo export and a second simulated export (n = 800, seed 7). Every test
runs on both.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import pipeline
from analysis.report import load_table_plan

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["demo", "seed7"])
def run(request, tmp_path_factory):
    """The job on one data set: ``{"name", "result", "outputs", "md": {id: text}, "processed"}``."""
    root = tmp_path_factory.mktemp(request.param)
    raw = None
    if request.param == "seed7":
        from analysis.simulate import simulate_export

        raw = [simulate_export(n=800, seed=7, out_dir=root / "raw")["export"]]
    result = pipeline.run(raw=raw, processed_dir=root / "processed", out_dir=root / "reports",
                          formats=("md",), progress=lambda m: None)
    # French typography (thin and no-break spaces) read as plain spaces
    md = {p.stem: p.read_text(encoding="utf-8").replace("\u202f", " ").replace("\xa0", " ")
          for p in (root / "reports" / "md").glob("*.md")}
    return {"name": request.param, "result": result, "outputs": result.report.outputs, "md": md,
            "processed": root / "processed", "plan": load_table_plan()}


def _kind(run, kind):
    tid = next(t["id"] for t in run["plan"].tables if t["kind"] == kind)
    return tid, run["outputs"][tid]


def _rows(md: str, label_start: str) -> list[list[str]]:
    """Cells of the Markdown rows whose first cell starts with ``label_start``."""
    out = []
    for line in md.splitlines():
        if line.startswith("| "):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0].startswith(label_start):
                out.append(cells)
    return out


def _num(text: str) -> float:
    return float(text.replace("\u202f", "").replace(" ", "").replace(",", "."))


# --------------------------------------------------------------------------- 1. EFA derived rows


def test_efa_cumulative_variance_adds_up_in_the_order_shown(run):
    tid, out = _kind(run, "efa")
    md = run["md"][tid]
    prop = [_num(c) for c in _rows(md, "Variance expliquée")[0][1:] if c]
    cum = [_num(c) for c in _rows(md, "Variance cumulée")[0][1:] if c]
    assert len(prop) == len(cum) >= 2
    assert all(b > a for a, b in zip(cum, cum[1:])), cum  # increasing, as shown
    np.testing.assert_allclose(cum, np.cumsum(prop), atol=0.1 * len(prop))
    total = float(out.results["efa"].variance.loc["proportion"].sum()) * 100
    assert abs(cum[-1] - total) < 0.06


# --------------------------------------------------------------------------- 2. omega's group factors


def _analysed(run) -> pd.DataFrame:
    data = pd.read_parquet(run["processed"] / "survey.parquet")
    if "analysed" in data.columns:
        data = data[data["analysed"].astype(bool)]
    return data


def test_omega_has_one_group_factor_per_dimension_and_equals_the_notebook(run):
    from analysis.psychometrics import omega
    from analysis.study._constructs import load_constructs, prepare_items

    tid, out = _kind(run, "reliability")
    spec = load_constructs()
    data = _analysed(run)
    checked = 0
    for c in spec.reflective:
        o = out.results.get(f"omega_{c.name}")
        if len(c.dimensions) < 3:
            assert o is None
            continue
        assert out.results["omega_groups"][c.name] == len(c.dimensions)
        assert o.phi.shape == (len(c.dimensions), len(c.dimensions))
        # the computation of notebook 3.0
        nb = omega(prepare_items(data, spec, construct=c.name), n_factors=len(c.dimensions))
        assert o.omega_h == pytest.approx(nb.omega_h, abs=1e-9)
        assert o.omega_total == pytest.approx(nb.omega_total, abs=1e-9)
        checked += 1
    assert checked >= 1
    assert "un facteur par dimension" in run["md"][tid]
    nb_text = (Path(__file__).parents[2] / "notebooks" / "3.0-construits-fiabilite-afe.ipynb").read_text(encoding="utf-8")
    assert "n_factors=len(spec" in nb_text and "n_factors=6" not in nb_text


# --------------------------------------------------------------------------- 3. sparse categories


def test_sparse_categories_are_pooled_before_a_model_and_the_note_says_so(run):
    tid, out = _kind(run, "models")
    spec = next(t for t in run["plan"].tables if t["id"] == tid)
    min_n = int(spec.get("min_category_n", 20))
    data = _analysed(run)
    counts = data["legal_form"].astype(str).value_counts()
    assert counts["association_rup"] < min_n and counts["fondation"] < min_n  # the defect's levels
    pooled = dict((lv, target) for lv, _, target in out.results["pooled"]["legal_form"])
    assert pooled["association_rup"] == "association" and pooled["fondation"] == "association"
    for name, r in out.results["models"].items():
        terms = [t for t in r.coefficients.index if t.startswith("C(")]
        assert not any("association_rup" in t or "fondation" in t for t in terms), name
        for term in terms:
            m = re.fullmatch(r"C\((\w+)\)\[T\.(.+)\]", term)
            levels = [lv for lv, _, target in out.results["pooled"].get(m.group(1), []) if target == m.group(2)]
            n = int(data[m.group(1)].astype(str).isin([m.group(2), *levels]).sum())
            assert n >= min_n, (name, term, n)
    md = run["md"][tid]
    assert f"moins de {min_n} organisations regroupées" in md
    assert f"Association reconnue d'utilité publique ({counts['association_rup']})" in md
    assert "Forme juridique : Fondation" not in md


def test_sample_table_never_hides_a_whole_legal_form_group(run):
    """A legal form seen fewer than 5 times is counted with its group's largest form (and the note
    says so) instead of being hidden, which forced hiding its only sibling (the 'Coopérative' row
    was all 's')."""
    tid, _ = _kind(run, "sample")
    md = run["md"][tid]
    data = _analysed(run)
    counts = data["legal_form"].astype(str).value_counts()
    block = md.split("**Forme juridique de l'organisation**")[1].split("**")[0]
    rows = [cells for cells in _rows(block, "") if len(cells) > 2 and cells[0]]
    assert rows and all("s" not in cells[1:] for cells in rows), rows
    sparse = [lv for lv, n in counts.items() if n < 5]
    shown = sum(_num(cells[1]) for cells in rows)
    assert shown == len(data), (shown, len(data))
    if sparse:
        assert "comptées avec la plus nombreuse de leur groupe" in md
        assert "(y c. " in block


def test_every_figure_has_a_caption_in_words(run):
    """No figure is captioned by its file name ("pls paths", "sem paths" were), and every one
    sends the reader to its table."""
    for tid, out in run["outputs"].items():
        for name in out.figures:
            caption, note = out.figure_captions[name]
            assert caption and caption != name.replace("_", " ") and "_" not in caption, (tid, name, caption)
            if out.tables:
                assert note, (tid, name)


# --------------------------------------------------------------------------- 4. one weighting policy


def _notes(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("*Note.*")]


def test_every_table_states_the_weighting_policy(run):
    weighted_tables = {t["id"] for t in run["plan"].tables if t.get("weights")}
    assert weighted_tables  # the plan weights Table 2
    n_notes = 0
    for tid, md in run["md"].items():
        notes = _notes(md)
        assert notes, tid
        for note in notes:
            n_notes += 1
            if tid in weighted_tables:
                assert "seules les colonnes marquées « pondéré » utilisent les poids de sondage" in note, tid
                assert "tous les n sont non pondérés" in note, tid
            else:
                assert "Statistiques non pondérées ; n : effectifs non pondérés." in note, (tid, note)
    assert n_notes == sum(len(o.tables) for o in run["outputs"].values())


# --------------------------------------------------------------------------- 5. heavy-tailed counts


def test_heavy_tailed_counts_get_median_iqr_and_a_rank_test(run):
    from scipy import stats

    tid, out = _kind(run, "sample")
    data = _analysed(run)
    group = run["plan"].options["group"]
    data = data[data[group].isin(["association", "cooperative"])]
    md = run["md"][tid]
    block = md.split("variables quantitatives", 1)[1]
    for var, label in (("n_members", "Nombre total de membres"), ("budget_mad", "Budget annuel")):
        x = pd.to_numeric(data[var], errors="coerce")
        assert abs(x.skew()) > 1
        tests = out.results[f"test_{var}"].tests.set_index("test")
        a = x[data[group] == "association"].dropna()
        c = x[data[group] == "cooperative"].dropna()
        ref = stats.mannwhitneyu(a, c, alternative="two-sided", use_continuity=True).pvalue
        assert tests.at["mann_whitney", "p_value"] == pytest.approx(ref, rel=1e-6)
        section = block.split(f"**{label}", 1)[1].split("\n| **", 1)[0]
        rows = {r.split("|")[1].strip(): [c.strip() for c in r.strip().strip("|").split("|")]
                for r in section.splitlines() if r.startswith("| ")}
        assert rows["Q1–Q3"][1].count("–") == 1  # interquartile range shown
        p_med = rows["Méd."][-1]
        assert p_med not in ("", "—")  # the rank test's p on the median row
        assert rows["M"][-1] in ("", "—")  # no Welch p next to the mean
    note = _notes(md.split("variables quantitatives", 1)[1])[0]
    assert "Test de Mann-Whitney" in note and "Nombre total de membres" in note.split("Test de Mann-Whitney", 1)[1]


# --------------------------------------------------------------------------- 6. each item's own scale


def _scale_text(list_name: str) -> str:
    choices = pd.read_csv(Path(__file__).parents[2] / "questionnaire" / "choices.csv", dtype=str)
    c = choices[choices["list_name"] == list_name].set_index("name")["label::Français (fr)"]
    return ", ".join(f"{k} = {c[str(k)]}" for k in range(1, 6))


def test_each_item_is_described_with_its_own_response_scale(run):
    survey = pd.read_csv(Path(__file__).parents[2] / "questionnaire" / "survey.csv", dtype=str)
    list_of = {r["name"]: r["type"].split()[1] for _, r in survey.iterrows()
               if isinstance(r["type"], str) and r["type"].startswith("select_one ")}
    tid, out = _kind(run, "likert")
    shown = {i for i in out.results["distribution"]["item"]}
    lists = {list_of[i] for i in shown}
    assert {"agree5", "impact5"} <= lists
    note = _notes(run["md"][tid])[0]
    agree, impact = _scale_text("agree5"), _scale_text("impact5")
    assert agree in note and impact in note
    # the impact scale is given for the dimension of the imp_dom_* items, and only for it
    after = note.split(impact)[0].rsplit("pour les items de", 1)[1]
    assert "Impact par domaine" in after and "Changement des comportements" not in after
    assert all(list_of[i] == "impact5" for i in shown if i.startswith("imp_dom_"))
    # the problems table reads its scale from its choice list
    tid_p, _ = _kind(run, "problems")
    sev = pd.read_csv(Path(__file__).parents[2] / "questionnaire" / "choices.csv", dtype=str)
    sev = sev[sev["list_name"] == "severity5"].set_index("name")["label::Français (fr)"]
    assert f"1 = {sev['1'].lower()} à 5 = {sev['5'].lower()}" in _notes(run["md"][tid_p])[0]


# --------------------------------------------------------------------------- 7. full wordings


def test_item_wordings_are_never_cut(run):
    from analysis.study._constructs import load_constructs
    from analysis.study._instrument import codebook

    cb = codebook().drop_duplicates("variable").set_index("variable")
    spec = load_constructs()
    assert not [tid for tid, md in run["md"].items() if "…" in md]
    for kind in ("likert", "reliability", "efa", "cfa"):
        tid, _ = _kind(run, kind)
        md = run["md"][tid].replace("\\_", "_")
        items = spec["si_presence"].items if kind == "efa" else [i for c in spec.reflective for i in c.items]
        for item in items:
            if f"({item}" in md:
                assert f"{cb.at[item, 'label_fr'].strip()} ({item}" in md, (kind, item)


def test_a_label_short_column_of_survey_csv_gives_the_short_label(tmp_path):
    import shutil

    from analysis import config
    from analysis.report._common import item_text
    from analysis.report._context import ReportContext
    from analysis.report._plan import load_table_plan
    from analysis.study._instrument import codebook

    folder = tmp_path / "questionnaire"
    shutil.copytree(config.QUESTIONNAIRE_DIR, folder)
    survey = pd.read_csv(folder / "survey.csv", dtype=str, keep_default_na=False)
    survey["label_short"] = ""
    survey.loc[survey["name"] == "has_premises", "label_short"] = "Dispose d'un local"
    survey.to_csv(folder / "survey.csv", index=False)
    ctx = ReportContext(pd.DataFrame(), None, codebook(), None, load_table_plan(), questionnaire_dir=folder)
    full = ctx.label("has_premises")
    assert len(full) > 40 and not full.endswith("…")
    assert ctx.label("has_premises", short=40) == "Dispose d'un local"
    assert ctx.label("si_nov_01", short=20) == ctx.label("si_nov_01")  # no label_short: full, never cut
    assert item_text(ctx, "si_nov_01").startswith(ctx.label("si_nov_01"))


# --------------------------------------------------------------------------- 8. labels and layout


def test_no_bracketed_plurals_and_no_folder_names(run):
    for tid, md in run["md"].items():
        assert not re.search(r"\w\(s\)", md), tid  # "(s)" alone is the suppression mark
        for note in _notes(md):
            assert not re.search(r"\b(results|reports|data)/", note), (tid, note)


def test_categories_in_choice_list_order_with_autre_last(run):
    from analysis.study._instrument import codebook

    cb = codebook().drop_duplicates("variable").set_index("variable")
    tid, _ = _kind(run, "sample")
    md = run["md"][tid]
    for var in ("geographic_scope", "sector"):
        codes = [part.split("=", 1) for part in cb.at[var, "values"].split("; ")]
        labels = [lab for code, lab in codes if code not in ("98", "99")]
        header = f"**{cb.at[var, 'label_fr'].strip()}"
        block = md.split(header, 1)[1].split("\n| **", 1)[0]
        shown = [r.split("|")[1].strip() for r in block.splitlines()[1:] if r.startswith("| ")]
        expected = [lab for lab in labels if lab in shown]
        expected = [lab for lab in expected if lab != "Autre"] + (["Autre"] if "Autre" in expected else [])
        assert shown == expected, var


def test_the_test_p_value_is_not_on_the_first_category_row(run):
    tid, _ = _kind(run, "sample")
    cat = run["md"][tid].split("variables quantitatives", 1)[0]
    header = [line for line in cat.splitlines() if line.startswith("|  |")][0]
    assert not header.rstrip().endswith("| p |")
    assert re.search(r"\*\*Portée géographique des activités \(p \\?[=<] ", cat)


def _md_tables(md: str) -> dict[str, str]:
    """The tables of a Markdown file by the end of their title (after " — ")."""
    out = {}
    for block in md.split("**Tableau ")[1:]:
        title = next(line for line in block.splitlines() if line.startswith("*"))
        out[title.strip("*").rsplit(" — ", 1)[-1]] = block
    return out


_LEADING_ZERO = r"(?:^|[\s|(\[=])−?0,\d"


def test_leading_zeros_follow_one_convention(run):
    # values bounded by 1 (loadings, alpha, omega, r, fit indices, R²) have no leading zero;
    # HTMT, a ratio that can exceed 1, keeps it
    for kind in ("reliability", "efa", "cfa", "invariance"):
        tid, _ = _kind(run, kind)
        tables = _md_tables(run["md"][tid])
        text = "\n".join(line for title, block in tables.items() if "HTMT" not in title
                         for line in block.splitlines()
                         if not line.startswith("| Somme des carrés"))  # not bounded by 1
        found = re.findall(_LEADING_ZERO, text)
        assert not found, (kind, found[:5])
        for title, block in tables.items():
            if "HTMT" in title:
                cells = "\n".join(line for line in block.splitlines() if line.startswith("| "))
                assert re.findall(_LEADING_ZERO, cells) and not re.findall(r"[|(\[] ?,\d", cells), kind
    # PLS: loadings and their interval, reliability, Fornell-Larcker and R² without it, HTMT with it
    tid, _ = _kind(run, "pls")
    tables = _md_tables(run["md"][tid])
    assert len(tables) >= 5, list(tables)
    for title, block in tables.items():
        rows = [line for line in block.splitlines() if line.startswith("| ")]
        if "HTMT" in title:
            cells = "\n".join(rows)
            assert re.findall(_LEADING_ZERO, cells) and not re.findall(r"[|(\[] ?,\d", cells)
        elif "mesure" in title:
            loadings = [r.split("|")[3:6] for r in rows if "| λ |" in r]  # estimate, t, interval
            assert loadings and all(r[0].strip().startswith((",", "−,", "1,")) for r in loadings)
            assert all(not re.search(r"\b0,", r[2]) for r in loadings)  # the interval too
        elif title in ("fiabilité et validité convergente", "critère de Fornell et Larcker"):
            found = re.findall(_LEADING_ZERO, "\n".join(rows))
            assert not found, (title, found[:5])
        elif title == "variance expliquée":  # R² and adjusted R² (not Q², which has no lower bound)
            assert all(not re.findall(_LEADING_ZERO, "|".join(r.split("|")[2:4])) for r in rows)
    tid, _ = _kind(run, "models")
    md = run["md"][tid]
    r2 = _rows(md, "R²")[0]
    assert all(c.startswith(",") for c in r2[1:] if c)


def test_models_name_the_pseudo_r2_and_no_starred_zero(run):
    tid, _ = _kind(run, "models")
    md = run["md"][tid]
    assert "Pseudo-R² de McFadden" in md
    lines = [line.strip().strip("|").split("|") for line in md.splitlines() if line.startswith("| ")]
    for top, below in zip(lines, lines[1:]):
        for a, b in zip(top[1:], below[1:]):
            a, b = a.strip().replace("\\", ""), b.strip()
            if a.endswith("*"):
                assert not re.fullmatch(r"−?0,0+\**", a), a
                assert b != "(0,00)", (a, b)


# --------------------------------------------------------------------------- 9. APA-style sentences


def test_apa_sentences_carry_the_numbers_of_the_tables(run):
    tid, out = _kind(run, "reliability")
    md = run["md"][tid]
    sentences = out.results["apa_text"]
    assert len(sentences) == int((out.results["scales"]["scale"] == "Échelle complète").sum()) >= 1
    for s in sentences:
        alpha = re.search(r"α = (,\d\d) ; IC 95 % \[(,\d\d) ; (,\d\d)\]", s)
        assert alpha, s
        assert f"| {alpha.group(1)} | {alpha.group(2)} | {alpha.group(3)} |" in md.replace("\u202f", " ")
    tid, out = _kind(run, "efa")
    (efa_text,) = out.results["apa_text"]
    cum = _rows(run["md"][tid], "Variance cumulée")[0]
    assert f"explique {[c for c in cum if c][-1]} % de la variance" in efa_text
    tid, out = _kind(run, "models")
    assert out.results["apa_text"] and all(re.search(r"b = −?\d+,\d+, ES = \d+,\d+, p [=<] ", s)
                                           for s in out.results["apa_text"])

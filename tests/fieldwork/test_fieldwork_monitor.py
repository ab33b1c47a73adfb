"""The monitoring page: tables, ranking of the fabricators, self-contained HTML, rendering in Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from analysis.fieldwork._monitor import build_monitor, read_raw, write_monitor
from analysis.simulate._fieldwork import simulate_fieldwork

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if shutil.os.path.exists("/usr/bin/chromium") else None)


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    out = tmp_path_factory.mktemp("field")
    fw = simulate_fieldwork(500, seed=21, enumerators=10, fabricators=2, speeders=1, dont_know=1, days=20)
    paths = fw.write(out)
    return fw, paths, out


def test_monitor_tables_and_ranking(field):
    fw, paths, _ = field
    raw = read_raw([paths["export"]])
    first = raw[raw["start"].str.slice(0, 10) <= "2026-04-15"]
    m = build_monitor(first, targets=paths["allocation"])
    fab = set(fw.enumerators.loc[fw.enumerators["habit"] == "fabricator", "enumerator"])
    assert set(m.enumerators["enumerator"].iloc[:len(fab)]) == fab
    assert m.enumerators.loc[m.enumerators["enumerator"].isin(fab), "suspected_fabrication"].all()
    assert m.target == 500 and m.daily["cumulative"].iloc[-1] == m.n_completes < 500
    assert m.today == "2026-04-15"
    # strata furthest behind first
    prog = m.strata["progress"].dropna().tolist()
    assert prog == sorted(prog)
    assert m.strata["target"].sum() == 500


def test_monitor_html_is_self_contained_and_french(field, tmp_path):
    _, paths, _ = field
    page = write_monitor([paths["export"]], targets=paths["allocation"].parent, out_dir=tmp_path)
    text = page.read_text(encoding="utf-8")
    assert page.name == "monitor.html"
    assert "Suivi de la collecte" in text and "Enquêteurs, classés par risque de fabrication" in text
    assert "<svg" in text
    # nothing to fetch: no external script, style sheet, image or font
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:|//|file:)""", text)
    assert "<link" not in text and "@import" not in text and "url(" not in text
    # PII in free text is masked on the page
    assert "@gmail.com" not in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_monitor_renders_in_headless_chromium_without_script_error(field, tmp_path):
    _, paths, _ = field
    page = write_monitor([paths["export"]], targets=paths["allocation"], out_dir=tmp_path / "m")
    profile = tmp_path / "profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    dom = res.stdout
    assert '<div id="js-status">ok</div>' in dom, dom[-500:]
    assert "Uncaught" not in res.stderr
    assert dom.count("<tr>") > 20


def test_monitor_on_a_messy_export_with_exact_duplicates(tmp_path):
    fw = simulate_fieldwork(400, seed=8, enumerators=8, days=15, clean_only=False)
    assert fw.raw["_uuid"].duplicated().any()           # exact re-submissions are in the export
    paths = fw.write(tmp_path / "fw")
    page = write_monitor([paths["export"]], targets=paths["allocation"], out_dir=tmp_path / "m")
    text = page.read_text(encoding="utf-8")
    m = build_monitor(read_raw([paths["export"]]), targets=paths["allocation"])
    assert m.n_completes < m.n_submissions               # duplicates, tests and refusals are not completes
    personal = fw.survey_ledger
    assert "Soumissions signalées du jour" in text
    flags = m.flags[m.flags["check_id"] == "pii_free_text"]
    for v in flags["value"]:
        assert v not in text                             # personal data never shown on the page
    assert len(personal)


def test_another_form_reads_the_export_as_it_is(field, tmp_path):
    from analysis import config

    fw, _, _ = field
    raw = fw.raw.rename(columns={"org_name": "sec_a/org_name", "target_groups/women": "sec_a/target_groups/women"})
    p = tmp_path / "other.csv"
    raw.to_csv(p, sep=";", index=False)
    got = read_raw([p], form=config.QUESTIONNAIRE_DIR)
    assert "org_name" in got.columns and "target_groups/women" in got.columns
    page = write_monitor([p], form=config.QUESTIONNAIRE_DIR, out_dir=tmp_path / "m")
    assert "Enquêteurs" in page.read_text(encoding="utf-8")

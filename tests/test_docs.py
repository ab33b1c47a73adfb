"""The documentation: links between pages resolve, and docs/parity.md is what the generator
(tools/make_parity_docs.py) writes from the parity catalogue (tests/parity/catalogue.py), with
every comparison within its tolerance.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from analysis.config import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
PARITY = DOCS / "parity.md"
LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _generator():
    spec = importlib.util.spec_from_file_location(
        "make_parity_docs", PROJECT_ROOT / "tools" / "make_parity_docs.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md")) + [PROJECT_ROOT / "README.md"]


def _anchors(path: Path) -> set[str]:
    """GitHub-style anchors of the headings of a Markdown page."""
    out: set[str] = set()
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        title = re.sub(r"[^\w\- ]", "", title)
        out.add(title.replace(" ", "-"))
    return out


def _links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # no links inside code blocks
    text = re.sub(r"`[^`\n]*`", "", text)
    return LINK.findall(text)


# --------------------------------------------------------------------------- links


def test_docs_exist():
    names = {p.name for p in DOCS.glob("*.md")}
    for page in ["index.md", "installation.md", "workflow.md", "questionnaire.md",
                 "simulation.md", "cleaning.md", "constructs.md", "psychometrics.md",
                 "ordinal.md", "survey-design.md", "regression.md", "tables.md", "figures.md",
                 "faq.md", "parity.md"]:  # fmt: skip
        assert page in names, page


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_relative_links_resolve(page):
    broken = []
    for target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(f"{target} (no such file)")
            continue
        if anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target} (no heading '#{anchor}' in {dest.name})")
    assert not broken, f"{page.relative_to(PROJECT_ROOT)}: broken links: {broken}"


def test_index_links_every_page():
    linked = {t.partition("#")[0] for t in _links(DOCS / "index.md")}
    missing = [p.name for p in DOCS.glob("*.md") if p.name != "index.md" and p.name not in linked]
    assert not missing, f"docs/index.md does not link to {missing}"


# --------------------------------------------------------------------------- parity page


def _table_rows(text: str) -> set[tuple]:
    """(section, case, quantity, n, tolerance, ok, why) of each comparison row of parity.md."""
    rows, section = set(), None
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if not line.startswith("| ") or section in (
            None,
            "Reference software",
            "Summary by section",
        ):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) != 10 or cells[0] == "case":
            continue
        rows.add((section, cells[0], cells[1], cells[2], cells[7], cells[8], cells[9]))
    return rows


def _key(mod, r) -> tuple:
    return (r.section, r.case, r.quantity, str(r.n), r.tolerance, "yes" if r.ok else "**no**", r.why)


def test_committed_parity_page_has_no_failure():
    text = PARITY.read_text(encoding="utf-8")
    assert "**no**" not in text
    assert "0 outside tolerance" in text
    mod = _generator()
    for f, v in mod.versions():  # the software versions are those of the reference files
        assert f"| {f} | {v} |" in text


def test_parity_page_regenerates(tmp_path):
    mod = _generator()
    assert mod.main(["--out", str(tmp_path)]) == 0
    fresh = _table_rows((tmp_path / "parity.md").read_text(encoding="utf-8"))
    committed = _table_rows(PARITY.read_text(encoding="utf-8"))
    assert fresh == committed, (
        "docs/parity.md is out of date: run .venv/bin/python tools/make_parity_docs.py; "
        f"new rows {sorted(fresh - committed)[:5]}, gone {sorted(committed - fresh)[:5]}"
    )

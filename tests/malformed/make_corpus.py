"""Write the corpus of malformed raw exports used by tests/test_cleaning.py.

Usage (from the repository root; the files are committed, rerun only to change the corpus)::

    .venv/bin/python tests/malformed/make_corpus.py

Each case is one file in ``tests/malformed/files/`` and one entry of
``tests/malformed/expected.json``:

* ``{"outcome": "error", "contains": ..., "row": ..., "column": ...}``: cleaning
  must raise ``InputError`` whose message contains ``contains`` and names the
  file, and the given row and column (``null`` = not applicable); the output
  folder must be left untouched;
* ``{"outcome": "recovery", "note": ..., "validation": ..., "log": ..., "flag": ...}``:
  cleaning succeeds (``stage`` "read": the readers' recovery, checked with
  ``read_exports``; "clean": the whole ``clean_data``); a warning contains ``note``, ``validation.csv`` has a
  problem with rule ``validation``, ``cleaning_log.csv`` a row with rule
  ``log``, or the column ``flag`` is set on some row (each when not null).

The valid base is a small clean simulated export (12 organisations, seed 5).
"""

from __future__ import annotations

import csv
import io
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

FILES = HERE / "files"


def _base():
    from analysis.simulate import simulate_survey

    df = simulate_survey(n=12, seed=5, clean_only=True).to_frame()
    df = df.astype(str)
    # a few realistic personal/text values so that text cases have something to work on
    df["org_name"] = [f"Association Amal {i}" for i in range(len(df))]
    df["province"] = df["province"].where(df["province"] != "", "Rabat")
    return df


def _csv(df, sep=";", quote=csv.QUOTE_ALL, bom=False, crlf=False, encoding="utf-8") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, quoting=quote, lineterminator="\r\n" if crlf else "\n")
    w.writerow(list(df.columns))
    w.writerows(df.itertuples(index=False, name=None))
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def _encodable(df, encoding: str):
    """Blank the cells that the legacy encoding cannot represent."""

    def ok(v: str) -> str:
        try:
            v.encode(encoding)
            return v
        except UnicodeEncodeError:
            return ""

    return df.map(ok)


def _xlsx(df) -> bytes:
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.created = wb.properties.modified = dt.datetime(2026, 1, 1)
    ws = wb.create_sheet("si_survey")
    ws.append(list(df.columns))
    for r in df.itertuples(index=False, name=None):
        ws.append([v if v != "" else None for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _stat(df, kind: str, path: Path) -> None:
    import pyreadstat

    from analysis.ingest._headers import _spss_name

    out = df.copy()
    names = {c: _spss_name(c)[: 32 if kind == "dta" else 64] for c in out.columns}
    out = out.rename(columns=names)
    for c in out.columns:
        num = __import__("pandas").to_numeric(out[c].replace("", None), errors="coerce")
        if num.notna().sum() == (out[c] != "").sum() and (out[c] != "").any():
            out[c] = num.astype(float)
    if kind == "sav":
        pyreadstat.write_sav(out, str(path))
    else:
        pyreadstat.write_dta(out, str(path))


def build() -> dict:
    import pandas as pd

    from analysis.study._instrument import load_questionnaire

    q = load_questionnaire()
    base = _base()
    n = len(base)
    FILES.mkdir(parents=True, exist_ok=True)
    for p in FILES.iterdir():
        p.unlink()
    exp: dict[str, dict] = {}
    good = _csv(base)
    lines = good.split(b"\n")

    def put(name: str, data: bytes, **expect):
        (FILES / name).write_bytes(data)
        exp[name] = expect

    def err(name, data, contains, row=None, column=None):
        put(name, data, outcome="error", contains=contains, row=row, column=column)

    def rec(name, data, note=None, validation=None, log=None, flag=None):
        # stage "read": the recovery is the readers' (checked with read_exports, fast); "clean": clean_data
        stage = "read" if (validation is None and log is None and flag is None and note not in (
            "without _uuid", "unknown column")) else "clean"
        put(name, data, outcome="recovery", note=note, validation=validation, log=log, flag=flag, stage=stage)

    # ---------------------------------------------------------------- errors
    err("empty.csv", b"", "empty")
    err("header_only.csv", lines[0] + b"\n", "no submission")
    err("blank_lines.csv", b"\n\r\n\n", "no text")
    last = lines[n]
    err("truncated_in_quotes.csv", b"\n".join(lines[:n]) + b"\n" + last[: len(last) // 2], "unbalanced quote",
        row=n + 1)
    cut = last.rfind(b'";"', 0, len(last) // 2) + 2
    err("truncated_between_fields.csv", b"\n".join(lines[:n]) + b"\n" + last[:cut] + b"\n", "fields", row=n + 1)
    k = lines[3].find(b'";"', 200)
    bad = lines[3][:k] + lines[3][k + 1:]  # a closing quote lost in the middle of row 4
    err("unbalanced_quote.csv", b"\n".join(lines[:3] + [bad] + lines[4:]), "quote", row=4)
    commas = _csv(base.iloc[[4]], sep=",").split(b"\n")[1]
    err("wrong_delimiter_on_a_row.csv", b"\n".join(lines[:5] + [commas] + lines[6:]), "separator", row=6)
    err("extra_field.csv", b"\n".join(lines[:7] + [lines[7] + b';"extra"'] + lines[8:]), "fields", row=8)
    rnd = random.Random(1)
    junk = bytes(rnd.randrange(256) for _ in range(5000))
    err("binary_junk.csv", b"\x00\x01" + junk, "binary")
    err("pdf_named_csv.csv", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00\x00<< /Type /Catalog >>\n" + junk[:500],
        "binary")
    err("damaged.xlsx", _xlsx(base)[:700], "workbook")
    err("old_excel.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + junk[:2000], "xls")
    err("other_form.csv", b"id;name;score;date\n1;Ali;12;2026-01-01\n2;Sara;15;2026-01-02\n",
        "does not look like an export", row=1)
    dup = base.copy()
    cols = list(dup.columns)
    i = cols.index("milieu")
    cols[i] = "region"
    dup.columns = cols
    err("duplicated_header.csv", _csv(dup), "more than once", row=1, column="region")
    huge = base.copy()
    huge.loc[5, "comments"] = "x" * 200_000
    err("huge_field.csv", _csv(huge), "characters", row=7, column="comments")
    # one column wrong throughout: set aside (reported), the rest of the file read
    wrong = base.copy()
    wrong["n_members"] = "beaucoup"
    rec("wrong_type_throughout.csv", _csv(wrong), note="column(s) set aside", validation="column_set_aside")
    wrong = base.copy()
    wrong["legal_form"] = "zzz"
    rec("choice_wrong_throughout.csv", _csv(wrong), note="column(s) set aside", validation="column_set_aside")
    # most columns wrong throughout: not this form's export
    from analysis.study._instrument import codebook, load_questionnaire

    cb = codebook(load_questionnaire(ROOT / "questionnaire"))
    typed = set(cb.loc[cb["type"].isin(["integer", "decimal", "select_one"]) & ~cb["personal"], "variable"])
    wrong = base.copy()
    for c in [c for c in wrong.columns if c in typed and c not in ("region", "province")]:
        wrong[c] = "zzz"
    err("another_form_same_headers.csv", _csv(wrong), "does not look like an export of this form", row=2)
    err("no_separator.csv", b"foo\nbar\nbaz\n", "separator", row=1)
    err("empty_workbook.xlsx", b"", "empty")

    # ---------------------------------------------------------------- recoveries
    rec("bom_crlf.csv", _csv(base, bom=True, crlf=True))
    rec("comma_separated.csv", _csv(base, sep=","))
    rec("pipe_separated.csv", _csv(base, sep="|"))
    rec("tab_separated.tsv", _csv(base, sep="\t", quote=csv.QUOTE_MINIMAL))
    ar = base.copy()
    ar["province"] = "الرباط"
    ar["comments"] = "نحتاج إلى دعم أكبر"
    rec("windows_1256.csv", _csv(_encodable(ar, "cp1256"), encoding="cp1256"), note="Windows-1256", log="province_matched")
    fr = base.copy()
    fr["province"] = "Kénitra"
    fr["comments"] = "Très bonne enquête, merci à l'équipe"
    rec("windows_1252.csv", _csv(_encodable(fr, "cp1252"), encoding="cp1252"), note="Windows-1252")
    rec("utf16.csv", b"\xff\xfe" + _csv(base, sep="\t").decode().encode("utf-16-le"), note="UTF-16")
    rec("xlsx_named_csv.csv", _xlsx(base), note="content is XLSX")
    rec("csv_named_xlsx.xlsx", good, note="content is CSV")
    rec("workbook.xlsx", _xlsx(base))
    lab = base.copy()
    for c in ("legal_form", "milieu", "sector", "consent", "org_active", "interview_status", "interview_mode"):
        ch = q.choice_list(q.question(c)["list_name"])
        lab[c] = lab[c].map(dict(zip(ch["name"], ch["label_fr"]))).fillna(lab[c])
    rec("labels_french.csv", _csv(lab), note="labels mapped back")
    lab = base.copy()
    heads = {}
    for c in ("legal_form", "milieu", "sector", "geographic_scope"):
        row = q.question(c)
        ch = q.choice_list(row["list_name"])
        lab[c] = lab[c].map(dict(zip(ch["name"], ch["label_ar"]))).fillna(lab[c])
        heads[c] = row["label::العربية (ar)"]
    lab = lab.rename(columns=heads)
    rec("labels_arabic_headers_arabic.csv", _csv(lab), note="labels mapped back")
    grp = base.rename(columns={"org_name": "sec_a/org_name", "legal_form": "sec_a/legal_form",
                               "si_nov_01": "sec_b/grp_si_nov/si_nov_01"})
    rec("group_headers.csv", _csv(grp), note="renamed")
    _stat(base, "sav", FILES / "spss_export.sav")
    exp["spss_export.sav"] = {"outcome": "recovery", "note": "renamed", "validation": None, "log": None, "flag": None,
                              "stage": "read"}
    _stat(base, "dta", FILES / "stata_export.dta")
    exp["stata_export.dta"] = {"outcome": "recovery", "note": "renamed", "validation": None, "log": None, "flag": None,
                               "stage": "read"}
    big = base.copy()
    big.loc[2, "n_members"] = "1e400"
    rec("number_beyond_float.csv", _csv(big), validation="not_a_number", log="not_a_number")
    txt = base.copy()
    txt.loc[1, "n_members"] = "1 500"
    txt.loc[2, "budget_mad"] = "2,5"
    txt.loc[3, "n_volunteers_regular"] = "١٢"
    rec("numbers_as_text.csv", _csv(txt), log="number_text")
    dates = base.copy()
    dates.loc[1, "start"] = "2026-04-14 10:21:33"
    dates.loc[1, "end"] = "2026-04-14 11:02:10"
    dates.loc[2, "start"] = "14/04/2026 10:21"
    dates.loc[2, "end"] = "14/04/2026 11:05:00"
    rec("dates_three_formats.csv", _csv(dates), log="date_format")
    plain = base.drop(columns=[c for c in base.columns if c.startswith("_")])
    for c in ("budget_mad",):
        plain[c] = plain[c].str.replace(".", ",", regex=False)
    rec("plain_french_csv.csv", _csv(plain, quote=csv.QUOTE_MINIMAL), note="without _uuid",
        validation="missing_column")
    rec("missing_columns.csv", _csv(base.drop(columns=list(base.columns[40:60]))), validation="missing_column")
    extra = base.copy()
    extra["remarque_superviseur"] = "ok"
    extra["poids"] = "1"
    rec("unknown_columns.csv", _csv(extra), validation="unknown_column", note="unknown column")
    inv = base.copy()
    inv.loc[3, "milieu"] = "banlieue"
    rec("invalid_code.csv", _csv(inv), validation="not_allowed", log="not_allowed")
    rel = base.copy()
    m = rel["legal_form"].isin(["association", "association_rup", "fondation"])
    rel.loc[m[m].index[0], "coop_income_members"] = "5000"
    rec("answer_to_hidden_question.csv", _csv(rel), validation="not_relevant", log="skip_logic")
    inj = base.copy()
    inj.loc[1, "province"] = "=HYPERLINK(\"http://x\")"
    inj.loc[2, "province"] = "+212 600"
    rec("formula_injection.csv", _csv(inj), validation="province_unmatched")
    blank = lines[:4] + [b";" * (len(base.columns) - 1)] + lines[4:]
    rec("blank_rows.csv", b"\n".join(blank), note="empty row")
    neg = base.copy()
    neg.loc[2, "end"] = neg.loc[2, "start"].replace("T", "T00:", 0)
    neg.loc[2, "end"] = "2020-01-01T00:00:00.000+01:00"
    rec("end_before_start.csv", _csv(neg), validation="constraint")
    reg = base.copy()
    reg.loc[1, "region"] = "الدار البيضاء-سطات"
    reg.loc[2, "region"] = "Chaouia-Ouardigha"
    reg.loc[2, "province"] = ""
    reg.loc[3, "region"] = "souss massa"
    rec("region_variants.csv", _csv(reg), log="region_matched", validation="region_ambiguous")
    nl = base.copy()
    nl.loc[2, "comments"] = "ligne 1\nligne 2\r\nligne 3; avec ; et \"guillemets\""
    rec("quoted_newlines.csv", _csv(nl))
    twice = pd.concat([base, base.iloc[[3]]], ignore_index=True)
    rec("same_submission_twice.csv", _csv(twice), flag="flag_duplicate")
    sp = base.copy()
    t0 = pd.Timestamp(sp.loc[4, "start"])
    sp.loc[4, "end"] = (t0 + pd.Timedelta(minutes=3)).isoformat(timespec="milliseconds")
    rec("speeder.csv", _csv(sp), flag="flag_speeder")
    (HERE / "expected.json").write_text(json.dumps(exp, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                                        encoding="utf-8")
    return exp


if __name__ == "__main__":
    out = build()
    print(f"{len(out)} files in {FILES}")

"""Read any valid XLSForm (workbook or folder of CSV sheets) into a generic form and its codebook.

:func:`load_xlsform` accepts an ``.xlsx`` or ``.xls`` workbook, or a folder
with ``survey.csv``, ``choices.csv`` and ``settings.csv``, in the syntax
pyxform accepts: any label languages (``label``, ``label::English (en)``,
``label::ar``, the older ``label:English``...), the old syntax (``list
name``, ``select one from x``, ``select all that apply from x``,
``select_one x or_other`` and ``select one from x or specify other``,
``begin group`` with a space, ``string``, ``int``, ``trigger``...),
``select_one_from_file``, metadata types (``imei``, ``deviceid``,
``phonenumber``...), groups and repeats at any depth. An ``.xls`` workbook
(or a workbook whose content is not its extension's) is read with
python-calamine, an ``.xlsx`` one with openpyxl.

:func:`form_codebook` lists the columns of a KoboToolbox export of the form
(main table; questions inside a repeat are in :attr:`XLSForm.repeats`), in
the shape :mod:`analysis.cleaning` reads: ``variable``, ``type``,
``label_fr``/``label_ar`` (the form's first and second label language: the
names are the study's, the content is whatever languages the form has),
``relevant`` (with the enclosing groups' relevance), ``constraint``,
``required``, ``list_name``, ``personal`` (False: cleaning finds personal
data itself), ``min``/``max`` (none), ``missing_codes`` (none).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import ConfigError

__all__ = ["XLSForm", "load_xlsform", "form_codebook", "KOBO_SYSTEM_COLUMNS"]

#: Kobo's system columns of an export (main table), in export order.
KOBO_SYSTEM_COLUMNS = ("_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
                       "_submitted_by", "__version__", "_tags", "_index")
_META = {"start", "end", "today", "deviceid", "imei", "subscriberid", "simserial", "phonenumber", "username",
         "email", "audit", "start-geopoint", "background-audio", "uri:deviceid", "uri:subscriberid",
         "uri:simserial", "uri:phonenumber", "uri:username", "uri:email"}
_NO_DATA = {"note", "begin_group", "end_group", "begin_repeat", "end_repeat", "begin_loop", "end_loop"}


@dataclass
class XLSForm:
    """A form as read: the sheets, normalised (``base_type``, ``list_name``, one label per language).

    Attributes
    ----------
    survey : pandas.DataFrame
        ``type``, ``name``, ``base_type``, ``list_name``, ``or_other``,
        ``relevant``, ``constraint``, ``calculation``, ``required``,
        ``group_relevant``, ``groups`` (enclosing group names), ``repeat``
        (innermost enclosing repeat or ``""``), ``label::<lang>`` columns and
        any other column of the sheet (``pii``...).
    choices : pandas.DataFrame
        ``list_name``, ``name``, ``label::<lang>`` columns.
    settings : dict
    languages : list of str
        Label languages in the order of the sheet (``""`` for a plain ``label``).
    path : Path
    """

    survey: pd.DataFrame
    choices: pd.DataFrame
    settings: dict
    languages: list
    path: Path
    _lists: dict = field(default_factory=dict, repr=False)

    def label_columns(self) -> tuple[str, str]:
        """The survey/choices label columns used as ``label_fr`` and ``label_ar`` (first two languages)."""
        cols = [f"label::{lang}" if lang else "label" for lang in self.languages]
        cols = cols + [""] * (2 - len(cols))
        return cols[0], cols[1]

    def choice_list(self, list_name: str) -> pd.DataFrame:
        """The choices of one list: ``name``, ``label_fr``, ``label_ar`` (first two languages), every label."""
        if list_name not in self._lists:
            ch = self.choices[self.choices["list_name"] == list_name]
            a, b = self.label_columns()
            out = pd.DataFrame({"name": ch["name"].astype(str).to_numpy()})
            out["label_fr"] = ch[a].to_numpy(dtype=object) if a in ch.columns else ""
            out["label_ar"] = ch[b].to_numpy(dtype=object) if b in ch.columns else ""
            for c in ch.columns:
                if c.startswith("label"):
                    out[c] = ch[c].to_numpy(dtype=object)
            self._lists[list_name] = out
        return self._lists[list_name]

    @property
    def repeats(self) -> list:
        """Names of the repeat groups, outermost first."""
        return list(self.survey.loc[self.survey["base_type"] == "begin_repeat", "name"])


def _norm_header(h: str) -> str:
    h = str(h).strip()
    if "::" in h:
        a, b = h.split("::", 1)
        return a.strip().lower().replace(" ", "_") + "::" + b.strip()
    low = h.lower()
    return {"list name": "list_name", "list_name": "list_name"}.get(low, low.replace(" ", "_"))


#: The first bytes of an old Excel (.xls, OLE2 compound document) file.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _cell(v) -> str:
    """A workbook cell as the text of a form sheet: whole numbers without ``.0`` (.xls stores every number as a
    float), dates in ISO 8601, empty cells as ``""``.

    Examples
    --------
    >>> import datetime
    >>> [_cell(v) for v in (None, 8, 8.0, 18.31, True, datetime.date(2010, 6, 15), " a ")]
    ['', '8', '8', '18.31', 'TRUE', '2010-06-15', ' a ']
    """
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if v != v:
            return ""
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _calamine_sheets(path: Path) -> dict:
    """Every sheet of a workbook (``.xls`` or ``.xlsx``, whatever its extension) as text, read with python-calamine."""
    from python_calamine import CalamineWorkbook

    with open(path, "rb") as fh:  # from the content, not the extension: a workbook named .xls may be an .xlsx
        wb = CalamineWorkbook.from_filelike(fh)
    out = {}
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        if not rows:
            out[name] = pd.DataFrame()
            continue
        width = max(len(r) for r in rows)
        head = [_cell(h).strip() or f"Unnamed: {i}" for i, h in enumerate(list(rows[0]) + [None] * width)][:width]
        body = [[_cell(v) for v in r] + [""] * (width - len(r)) for r in rows[1:]]
        out[name] = pd.DataFrame(body, columns=head, dtype=object) if body else pd.DataFrame(columns=head)
    return out


def _read_sheets(path: Path) -> dict:
    if path.is_dir():
        out = {}
        for name in ("survey", "choices", "settings"):
            p = path / f"{name}.csv"
            if p.exists():
                with open(p, encoding="utf-8-sig", newline="") as fh:
                    rows = list(csv.reader(fh))
                out[name] = pd.DataFrame(rows[1:], columns=rows[0]) if rows else pd.DataFrame()
        if "survey" not in out:
            raise ConfigError(f"the form folder '{path}' has no survey.csv")
        return out
    if not path.exists():
        raise ConfigError(f"the form '{path}' does not exist")
    with open(path, "rb") as fh:
        old_excel = fh.read(8).startswith(_OLE_MAGIC)
    try:
        if old_excel or path.suffix.lower() == ".xls":
            sheets = _calamine_sheets(path)
        else:
            sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl", keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - any reader error is a bad form file
        raise ConfigError(f"the form '{path}' cannot be read as an XLSForm workbook "
                          f"({type(exc).__name__}: {exc})") from None
    out = {str(k).strip().lower(): v for k, v in sheets.items()}
    if "survey" not in out:
        raise ConfigError(f"the form '{path}' has no 'survey' sheet (sheets: {', '.join(sheets)})")
    return out


#: Headers that pyxform splits on a single colon (``label:English``) when no header of the sheet uses ``::``.
_TRANSLATED = ("label", "hint", "guidance_hint", "constraint_message", "required_message", "image", "audio", "video",
               "media")


def _clean_sheet(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    heads = [str(c).strip() for c in df.columns]
    if not any("::" in h for h in heads):  # the older single colon: label:English
        heads = [f"{h.split(':', 1)[0]}::{h.split(':', 1)[1]}"
                 if ":" in h and h.split(":", 1)[0].strip().lower().replace(" ", "_") in _TRANSLATED else h
                 for h in heads]
    df.columns = [_norm_header(c) for c in heads]
    df = df.loc[:, ~pd.Index(df.columns).duplicated()]
    df = df.fillna("").astype(str)
    for c in df.columns:
        df[c] = df[c].str.strip()
    return df


_SELECT = re.compile(r"^(select_one|select_multiple|select one|select all that apply|select_one_from_file|"
                     r"select_multiple_from_file|select one from file|select multiple from file|rank)"
                     r"(?:\s+from)?\s+(\S+)(\s+(?:or_other|or specify other|or other))?$", re.I)


def _base_type(t: str) -> tuple[str, str, bool]:
    t = " ".join(str(t).strip().split())
    low = t.lower()
    m = _SELECT.match(t)
    if m:
        kind = m.group(1).lower().replace(" ", "_")
        kind = {"select_all_that_apply": "select_multiple", "select_one_from_file": "select_one_from_file",
                "select_multiple_from_file": "select_multiple_from_file"}.get(kind, kind)
        return kind, m.group(2), bool(m.group(3))
    low = low.replace(" ", "_")
    return _TYPE_ALIASES.get(low, low), "", False


#: pyxform's other names of question types (lower case, spaces as ``_``): the old syntax and the ``q ...``,
#: ``add ... prompt`` and ``get ...`` forms.
_TYPE_ALIASES = {
    **dict.fromkeys(("string", "q_string", "add_text_prompt", "phone_number"), "text"),
    **dict.fromkeys(("int", "q_int", "add_integer_prompt"), "integer"),
    **dict.fromkeys(("q_decimal", "add_decimal_prompt"), "decimal"),
    **dict.fromkeys(("q_date", "add_date_prompt"), "date"),
    **dict.fromkeys(("add_time_prompt",), "time"),
    **dict.fromkeys(("datetime", "date_time", "q_datetime", "q_date_time", "add_datetime_prompt",
                     "add_date_time_prompt"), "dateTime"),
    **dict.fromkeys(("trigger", "q_acknowledge", "add_acknowledge_prompt"), "acknowledge"),
    **dict.fromkeys(("q_note", "add_note_prompt"), "note"),
    **dict.fromkeys(("geo_point", "q_geopoint", "q_location", "location", "gps", "add_location_prompt"),
                    "geopoint"),
    "q_geotrace": "geotrace",
    "q_geoshape": "geoshape",
    **dict.fromkeys(("q_image", "q_picture", "photo", "add_image_prompt"), "image"),
    **dict.fromkeys(("q_audio", "add_audio_prompt"), "audio"),
    **dict.fromkeys(("q_video", "add_video_prompt"), "video"),
    **dict.fromkeys(("q_barcode", "add_barcode_prompt"), "barcode"),
    **dict.fromkeys(("q_calculate", "add_calculate_prompt"), "calculate"),
    **dict.fromkeys(("start_time", "get_start_time"), "start"),
    **dict.fromkeys(("end_time", "get_end_time"), "end"),
    "get_today": "today",
    **dict.fromkeys(("device_id", "get_device_id"), "deviceid"),
    **dict.fromkeys(("subscriber_id", "get_subscriber_id"), "subscriberid"),
    **dict.fromkeys(("sim_id", "get_sim_id"), "simserial"),
    "get_phone_number": "phonenumber",
}


def load_xlsform(path: str | Path) -> XLSForm:
    """Read an XLSForm (``.xlsx``/``.xls`` workbook or a folder of CSV sheets).

    Raises
    ------
    ConfigError
        The file is not an XLSForm (no survey sheet, no ``type``/``name``
        columns, unreadable workbook), in one sentence.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "survey.csv").write_text("type,name,label::English (en)\\n"
    ...     "select one from yn,water,Water?\\ninteger,n,People\\n", encoding="utf-8")
    >>> _ = (d / "choices.csv").write_text("list name,name,label::English (en)\\nyn,yes,Yes\\nyn,no,No\\n",
    ...     encoding="utf-8")
    >>> form = load_xlsform(d)
    >>> form.languages, list(form.survey["base_type"]), list(form.choice_list("yn")["name"])
    (['English (en)'], ['select_one', 'integer'], ['yes', 'no'])
    """
    p = Path(path)
    sheets = _read_sheets(p)
    survey = _clean_sheet(sheets["survey"])
    for need in ("type", "name"):
        if need not in survey.columns:
            raise ConfigError(f"the survey sheet of '{p}' has no '{need}' column")
    survey = survey[(survey["type"] != "") | (survey["name"] != "")].reset_index(drop=True)
    choices = _clean_sheet(sheets.get("choices", pd.DataFrame(columns=["list_name", "name"])))
    if "list_name" not in choices.columns:
        choices["list_name"] = ""
    if "name" not in choices.columns:
        choices["name"] = choices["value"] if "value" in choices.columns else ""
    choices = choices[choices["list_name"] != ""].reset_index(drop=True)
    st = _clean_sheet(sheets.get("settings", pd.DataFrame()))
    settings = {c: st[c].iloc[0] for c in st.columns} if len(st) else {}
    langs = []
    for c in list(survey.columns) + list(choices.columns):
        if c == "label" and "" not in langs:
            langs.append("")
        elif c.startswith("label::") and c[7:] not in langs:
            langs.append(c[7:])
    default = settings.get("default_language", "")
    if default and default in langs:
        langs.remove(default)
        langs.insert(0, default)
    if not langs:
        langs = [""]
    bt = [_base_type(t) for t in survey["type"]]
    survey["base_type"] = [b[0] for b in bt]
    if "list_name" in survey.columns:  # a stray list_name column of the survey sheet
        survey = survey.drop(columns=["list_name"])
    survey["list_name"] = [b[1] for b in bt]
    survey["or_other"] = [b[2] for b in bt]
    other_lists = sorted({ln for ln, o in zip(survey["list_name"], survey["or_other"]) if o and ln})
    for ln in other_lists:  # or_other: Kobo's "other" choice
        if not ((choices["list_name"] == ln) & (choices["name"] == "other")).any():
            extra = {c: "" for c in choices.columns}
            extra.update({"list_name": ln, "name": "other"})
            for c in choices.columns:
                if c.startswith("label"):
                    extra[c] = "Other"
            choices = pd.concat([choices, pd.DataFrame([extra])], ignore_index=True)
    for c in ("relevant", "constraint", "calculation", "required", "appearance"):
        if c not in survey.columns:
            survey[c] = ""
    # groups, repeats and inherited relevance
    stack: list = []
    groups, repeat, grel = [], [], []
    for row in survey.itertuples(index=False):
        b = row.base_type
        if b in ("begin_group", "begin_repeat", "begin_loop"):
            groups.append(tuple(s[0] for s in stack))
            repeat.append(next((s[0] for s in reversed(stack) if s[1]), ""))
            grel.append(" and ".join(f"({s[2]})" for s in stack if s[2]))
            stack.append((row.name, b == "begin_repeat", row.relevant))
        elif b in ("end_group", "end_repeat", "end_loop"):
            if stack:
                stack.pop()
            groups.append(tuple(s[0] for s in stack))
            repeat.append(next((s[0] for s in reversed(stack) if s[1]), ""))
            grel.append("")
        else:
            groups.append(tuple(s[0] for s in stack))
            repeat.append(next((s[0] for s in reversed(stack) if s[1]), ""))
            grel.append(" and ".join(f"({s[2]})" for s in stack if s[2]))
    survey["groups"] = groups
    survey["repeat"] = repeat
    survey["group_relevant"] = grel
    for t, ln in zip(survey["base_type"], survey["list_name"]):
        if t in ("select_one", "select_multiple", "rank") and ln and ln not in set(choices["list_name"]):
            raise ConfigError(f"the form '{p}' uses the choice list '{ln}', which its choices sheet does not have")
    return XLSForm(survey, choices, settings, langs, p)


def _required(v: str) -> bool:
    return str(v).strip().lower() in ("yes", "true", "true()", "1")


def form_codebook(form: XLSForm, repeat: str = "") -> pd.DataFrame:
    """The export columns of the form's main table (or of one repeat), in export order (see the module notes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "survey.csv").write_text("type,name,label\\nselect_multiple src,sources,Sources\\n"
    ...     "geopoint,gps,Where\\n", encoding="utf-8")
    >>> _ = (d / "choices.csv").write_text("list_name,name,label\\nsrc,well,Well\\nsrc,tap,Tap\\n", encoding="utf-8")
    >>> list(form_codebook(load_xlsform(d))["variable"])[:7]
    ['sources', 'sources/well', 'sources/tap', 'gps', '_gps_latitude', '_gps_longitude', '_gps_altitude']
    """
    a, b = form.label_columns()
    rows = []

    def add(var, qname, typ, lab_a="", lab_b="", rel="", cons="", req=False, ln=""):
        rows.append({"variable": var, "question": qname, "type": typ, "label_fr": lab_a, "label_ar": lab_b,
                     "values": "", "relevant": rel, "constraint": cons, "required": req, "construct": "",
                     "dimension": "", "reverse": False, "list_name": ln, "section": "", "personal": False,
                     "min": np.nan, "max": np.nan, "missing_codes": ""})

    sv = form.survey
    for row in sv.to_dict("records"):
        bt, name = row["base_type"], row["name"]
        if bt in _NO_DATA or not name or row["repeat"] != repeat:
            if bt == "begin_repeat" and row["repeat"] == repeat and not repeat:
                add(f"{name}_count", name, "repeat_count", f"{row.get(a, '') or name}: count")
            continue
        rel = " and ".join(x for x in (row["group_relevant"], f"({row['relevant']})" if row["relevant"] else "")
                           if x)
        la, lb = row.get(a, "") if a else "", row.get(b, "") if b else ""
        typ = bt if bt not in _META else ("start" if bt == "start" else "end" if bt == "end" else bt)
        if bt in ("select_one_from_file", "select_multiple_from_file"):
            typ = "text"
        add(name, name, typ, la, lb, rel, row["constraint"], _required(row["required"]), row["list_name"])
        if bt == "select_multiple":
            ch = form.choice_list(row["list_name"])
            for code, ca, cb_ in zip(ch["name"], ch["label_fr"], ch["label_ar"]):
                add(f"{name}/{code}", name, "select_multiple_option", f"{la} : {ca}", f"{lb} : {cb_}", rel,
                    "", False, "")
        if row["or_other"]:
            add(f"{name}_other", name, "text", f"{la} (other)", "", rel, "", False, "")
        if bt == "geopoint":
            for part in ("latitude", "longitude", "altitude", "precision"):
                add(f"_{name}_{part}", name, "geopoint_part", f"{la} ({part})", "", rel)
    if not repeat:
        for c in KOBO_SYSTEM_COLUMNS:
            add(c, c, "system")
    return pd.DataFrame(rows)

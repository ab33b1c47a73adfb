"""The questionnaire as the single source of truth: load, check, convert, document.

The questionnaire lives in ``questionnaire/`` as three UTF-8 CSV files that
follow the XLSForm standard sheet by sheet (``survey.csv``, ``choices.csv``,
``settings.csv``), so that every change is a readable line in git. This module

* loads them into a :class:`Questionnaire` (three DataFrames plus helpers),
* checks them (names, labels in French and Arabic, English complete when the
  form has it, choice lists, skip-logic references) and raises :class:`analysis.errors.ConfigError` naming the file,
  the line and the variable when something is wrong,
* converts them with pyxform into the XForm that KoboToolbox runs
  (:func:`build_xform`),
* derives the codebook, one row per column of a KoboToolbox export
  (:func:`codebook`),
* writes the XLSForm to upload and the codebook (:func:`build_instrument`).

Coding conventions (the whole toolkit relies on them)
-----------------------------------------------------
* Likert items: codes 1..5, each point labelled in both languages.
* "Je ne sais pas" = ``98`` and "Refus" = ``99`` in every choice list where a
  person may not know (the same codes everywhere); ``97`` = "Sans objet" in the
  impact-by-domain list only. These codes are missing values for scoring.
* Numeric questions (counts, amounts): ``-98`` = "Je ne sais pas", ``-99`` =
  "Refus", accepted by the constraint when the question allows them (see the
  codebook column ``missing_codes``).
* yes/no questions: ``1`` = Oui, ``0`` = Non.
* select_multiple questions are exported as the question column (space
  separated codes) plus one ``question/option`` column coded 1/0.
* Funding shares ``fund_<source>`` are percentages (0 by default, required),
  asked on one screen; they must sum to 100 (to within 0.5, checked by the
  ``fund_check`` field against the calculated ``fund_total``). For scoring, an
  empty share counts as 0.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.errors import ConfigError
from analysis.study._construct_spec import ConstructSpec, read_constructs
from analysis.study._problems import did_you_mean
from analysis.study._yaml import display_path

__all__ = [
    "Questionnaire",
    "load_questionnaire",
    "validate_questionnaire",
    "build_xform",
    "java_available",
    "xlsform_bytes",
    "codebook",
    "build_instrument",
    "CODEBOOK_COLUMNS",
    "LANG_FR",
    "LANG_AR",
    "LANG_EN",
    "DONT_KNOW",
    "REFUSED",
    "NOT_APPLICABLE",
    "NUMERIC_DONT_KNOW",
    "NUMERIC_REFUSED",
    "LIKERT_MIN",
    "LIKERT_MAX",
    "SYSTEM_COLUMNS",
]

LANG_FR = "Français (fr)"
LANG_AR = "العربية (ar)"
#: English: optional; when the form has it, every labelled row has it (see :func:`validate_questionnaire`).
LANG_EN = "English (en)"
#: Two-letter code of a language (``fr``, ``ar``, ``en``) -> the language as the XLSForm columns name it.
_LANG_NAMES = {"fr": LANG_FR, "ar": LANG_AR, "en": LANG_EN}
#: The translated columns of the survey sheet (``<kind>::<language>``).
_TEXT_KINDS = ("label", "label_short", "hint", "required_message", "constraint_message")
#: Code of "Je ne sais pas" in every choice list where a person may not know.
DONT_KNOW = 98
#: Code of "Refus" in every choice list.
REFUSED = 99
#: Code of "Sans objet" (impact-by-domain list only).
NOT_APPLICABLE = 97
#: Numeric questions: "Je ne sais pas" and "Refus" as typed values.
NUMERIC_DONT_KNOW = -98
NUMERIC_REFUSED = -99
LIKERT_MIN = 1
LIKERT_MAX = 5

_CHOICE_MISSING = {str(NOT_APPLICABLE), str(DONT_KNOW), str(REFUSED)}
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_REF_RE = re.compile(r"\$\{([^}]*)\}")
_NUM = r"(-?\d+(?:\.\d+)?)"
_MIN_RE = re.compile(r"(?<![\w}])\.\s*>=\s*" + _NUM)
_MAX_RE = re.compile(r"(?<![\w}])\.\s*<=\s*" + _NUM)
_MISSING_RE = re.compile(r"(?<![\w}])\.\s*=\s*(-\d+)")

#: Types that are layout only (no data column).
_LAYOUT_TYPES = {"begin_group", "end_group", "begin_repeat", "end_repeat", "note"}
#: Metadata types: a data column, no label.
_META_TYPES = {"start", "end", "today", "deviceid", "username", "phonenumber", "audit", "calculate"}
#: Types whose answer is free text that may identify a person.
_PERSONAL_NAMES = {"resp_name", "resp_phone", "resp_email", "gps", "org_name", "deviceid", "comments"}

#: Columns that KoboToolbox adds to every export (after the form's own columns).
SYSTEM_COLUMNS: tuple[tuple[str, str, str, str, bool], ...] = (
    # (name, type, label_fr, label_ar, personal)
    ("_id", "integer", "Identifiant numérique de la soumission (KoboToolbox)", "المعرف الرقمي للاستمارة", False),
    ("_uuid", "text", "Identifiant unique de la soumission (UUID)", "المعرف الفريد للاستمارة", False),
    ("_submission_time", "dateTime", "Date et heure de réception par le serveur", "تاريخ وساعة التوصل", False),
    ("_validation_status", "text", "Statut de validation (KoboToolbox)", "وضعية المصادقة", False),
    ("_notes", "text", "Notes ajoutées sur le serveur", "ملاحظات مضافة على الخادم", False),
    ("_status", "text", "Statut de la soumission", "وضعية الإرسال", False),
    ("_submitted_by", "text", "Compte de l'enquêteur qui a envoyé la soumission", "حساب الباحث الميداني", True),
    ("__version__", "text", "Version du formulaire", "نسخة الاستمارة", False),
    ("_tags", "text", "Étiquettes (KoboToolbox)", "وسوم", False),
    ("_index", "integer", "Numéro de ligne dans l'export", "رقم السطر في الملف المصدَّر", False),
)

#: English labels of :data:`SYSTEM_COLUMNS` (the codebook's ``label_en``).
_SYSTEM_LABELS_EN = {
    "_id": "Numeric identifier of the submission (KoboToolbox)",
    "_uuid": "Unique identifier of the submission (UUID)",
    "_submission_time": "Date and time received by the server",
    "_validation_status": "Validation status (KoboToolbox)",
    "_notes": "Notes added on the server",
    "_status": "Submission status",
    "_submitted_by": "Account of the interviewer who sent the submission",
    "__version__": "Form version",
    "_tags": "Tags (KoboToolbox)",
    "_index": "Row number in the export",
}

_FILES = ("survey", "choices", "settings")

#: XLSForm question types pyxform knows (first word of the ``type`` column).
_KNOWN_TYPES = {
    "integer", "decimal", "range", "text", "select_one", "select_multiple", "select_one_from_file",
    "select_multiple_from_file", "rank", "note", "geopoint", "geotrace", "geoshape", "date", "time",
    "dateTime", "image", "audio", "background-audio", "video", "file", "barcode", "calculate",
    "acknowledge", "hidden", "xml-external", "csv-external", "start", "end", "today", "deviceid",
    "subscriberid", "simserial", "phonenumber", "username", "email", "audit", "start-geopoint",
    "begin_group", "end_group", "begin_repeat", "end_repeat", "trigger",
}


def _label_col(kind: str, lang: str) -> str:
    return f"{kind}::{lang}"


@dataclass(frozen=True, eq=False)
class Questionnaire:
    """The questionnaire: the three XLSForm sheets as DataFrames, plus helpers.

    Attributes
    ----------
    survey : pandas.DataFrame
        The ``survey`` sheet, one row per line of ``survey.csv`` (strings, ``""``
        for empty cells), with five derived columns: ``line`` (line number in
        the file, header = 1), ``base_type`` (``select_one``, ``integer``...),
        ``list_name`` (choice list of select questions, else ``""``),
        ``section`` (``A``..``E`` from the enclosing ``sec_<x>`` group, ``meta``
        outside them), ``group_relevant`` (the ``relevant`` of the enclosing
        groups joined with ``and``).
    choices : pandas.DataFrame
        The ``choices`` sheet (``list_name``, ``name``, labels), plus ``line``.
        French and Arabic label columns always exist (empty when the file lacks them);
        the English ones only when the files have them (:attr:`languages`).
    settings : pandas.DataFrame
        The ``settings`` sheet (one row).
    path : pathlib.Path
        Folder the files were read from.
    """

    survey: pd.DataFrame
    choices: pd.DataFrame
    settings: pd.DataFrame
    path: Path
    _index: dict = field(default_factory=dict, repr=False)

    # -- basic look-ups -------------------------------------------------
    @property
    def default_language(self) -> str:
        """The form's default language (``Français (fr)``)."""
        return str(self.settings["default_language"].iloc[0]) if "default_language" in self.settings else ""

    @property
    def languages(self) -> list[str]:
        """The languages of the form's labels (``label::<language>`` columns of ``survey.csv``), in
        file order: French and Arabic always, English when the files have it.

        Examples
        --------
        >>> load_questionnaire().languages
        ['Français (fr)', 'العربية (ar)', 'English (en)']
        """
        return [c.split("::", 1)[1] for c in self.survey.columns if c.startswith("label::")]

    @property
    def fields(self) -> pd.DataFrame:
        """Survey rows that produce a data column (no groups, no notes), in form order."""
        return self.survey.loc[~self.survey["base_type"].isin(_LAYOUT_TYPES)]

    @property
    def names(self) -> list[str]:
        """Names of all fields (rows that produce a data column)."""
        return list(self.fields["name"])

    @property
    def data_columns(self) -> list[str]:
        """Columns of a KoboToolbox export of this form, in order (see :func:`codebook`)."""
        return list(codebook(self)["variable"])

    def question(self, variable: str) -> pd.Series:
        """Return the survey row of ``variable``.

        Raises
        ------
        KeyError
            If no survey row has this name.
        """
        if "rows" not in self._index:
            records = self.survey.to_dict("records")
            self._index["rows"] = {r["name"]: r for r in reversed(records) if r["name"]}
        try:
            return pd.Series(self._index["rows"][variable], dtype=object)
        except KeyError:
            raise KeyError(f"no question named {variable!r} in the questionnaire") from None

    def choices_for(self, variable: str) -> pd.DataFrame:
        """Choices (``name``, ``label_fr``, ``label_ar``, ``label_en``) of a select question, in form order."""
        row = self.question(variable)
        if not row["list_name"]:
            raise KeyError(f"question {variable!r} has no choice list (type {row['type']!r})")
        return self.choice_list(row["list_name"])

    def choice_list(self, list_name: str) -> pd.DataFrame:
        """The choices of one list (``name``, ``label_fr``, ``label_ar``, ``label_en``; ``label_en``
        is empty when the form has no English)."""
        cache = self._index.setdefault("lists", {})
        if list_name not in cache:
            sub = self.choices.loc[self.choices["list_name"] == list_name]
            en = _label_col("label", LANG_EN)
            cache[list_name] = pd.DataFrame(
                {
                    "name": sub["name"].to_numpy(),
                    "label_fr": sub[_label_col("label", LANG_FR)].to_numpy(),
                    "label_ar": sub[_label_col("label", LANG_AR)].to_numpy(),
                    "label_en": sub[en].to_numpy() if en in sub.columns else [""] * len(sub),
                }
            )
        return cache[list_name].copy()

    def is_likert_list(self, list_name: str) -> bool:
        """True if the list codes its substantive answers exactly 1..5 (plus 97/98/99)."""
        codes = set(self.choice_list(list_name)["name"])
        substantive = codes - _CHOICE_MISSING
        return substantive == {str(k) for k in range(LIKERT_MIN, LIKERT_MAX + 1)}

    @property
    def likert_items(self) -> list[str]:
        """Names of the select_one questions on a labelled 1-5 scale (constructs, grids)."""
        f = self.fields
        mask = (f["base_type"] == "select_one") & f["list_name"].map(self.is_likert_list)
        return list(f.loc[mask, "name"])

    @property
    def select_one(self) -> list[str]:
        """Names of the select_one questions."""
        return list(self.fields.loc[self.fields["base_type"] == "select_one", "name"])

    @property
    def select_multiple(self) -> list[str]:
        """Names of the select_multiple questions (each exported as one column per option)."""
        return list(self.fields.loc[self.fields["base_type"] == "select_multiple", "name"])

    @property
    def numeric(self) -> list[str]:
        """Names of the integer and decimal questions."""
        return list(self.fields.loc[self.fields["base_type"].isin(["integer", "decimal"]), "name"])

    @property
    def personal(self) -> list[str]:
        """Names of the fields holding personal or identifying data (to keep out of shared data)."""
        return [n for n in self.names if _is_personal(n, self.question(n)["base_type"])]

    def missing_codes(self, variable: str) -> list[int]:
        """Codes of a field that mean "no substantive answer" (97/98/99, or -98/-99 for numbers)."""
        row = self.question(variable)
        if row["list_name"]:
            codes = set(self.choice_list(row["list_name"])["name"])
            return sorted((int(c) for c in codes & _CHOICE_MISSING), key=abs)
        return sorted({int(c) for c in _MISSING_RE.findall(row.get("constraint", ""))}, key=abs)

    def numeric_range(self, variable: str) -> tuple[float | None, float | None]:
        """(min, max) allowed by the constraint of a numeric field (``None`` when open)."""
        return _range_from_constraint(self.question(variable).get("constraint", ""))


def _is_personal(name: str, base_type: str) -> bool:
    free_text_other = name.endswith("_other") and base_type == "text"
    return name in _PERSONAL_NAMES or free_text_other or base_type == "geopoint"


def _range_from_constraint(constraint: str) -> tuple[float | None, float | None]:
    if not constraint:
        return None, None
    lo = [float(x) for x in _MIN_RE.findall(constraint)]
    hi = [float(x) for x in _MAX_RE.findall(constraint)]
    low = min(lo) if lo else None
    high = max(hi) if hi else None
    if high is None and re.search(r"\.\s*<=\s*number\(format-date\(today\(\)", constraint):
        high = float(date.today().year)
    return low, high


def _read_sheet(folder: Path, sheet: str) -> pd.DataFrame:
    path = folder / f"{sheet}.csv"
    if not path.exists():
        raise ConfigError(f"questionnaire file '{path}' is missing")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read '{path}': {exc}") from exc
    df.columns = [c.strip() for c in df.columns]
    df = df.apply(lambda s: s.str.strip())
    return df


def load_questionnaire(path: str | Path | None = None) -> Questionnaire:
    """Load the questionnaire text files and add derived columns.

    Parameters
    ----------
    path : str or Path, optional
        Folder holding ``survey.csv``, ``choices.csv`` and ``settings.csv``;
        default ``config.QUESTIONNAIRE_DIR`` (read when called).

    Returns
    -------
    Questionnaire

    Raises
    ------
    ConfigError
        If a file is missing or unreadable, or a group is not closed.

    Examples
    --------
    >>> q = load_questionnaire()
    >>> list(q.choices_for("milieu")["name"])
    ['urbain', 'rural', 'mixte']
    >>> "si_nov_01" in q.likert_items
    True
    """
    folder = Path(path) if path is not None else config.QUESTIONNAIRE_DIR
    survey, choices, settings = (_read_sheet(folder, s) for s in _FILES)
    for col in ("type", "name"):
        if col not in survey.columns:
            raise ConfigError(f"'{folder / 'survey.csv'}' has no column '{col}'")
    for col in ("list_name", "name"):
        if col not in choices.columns:
            raise ConfigError(f"'{folder / 'choices.csv'}' has no column '{col}'")
    for kind in ("label", "hint", "constraint_message"):
        for lang in (LANG_FR, LANG_AR):
            if _label_col(kind, lang) not in survey.columns:
                survey[_label_col(kind, lang)] = ""
    for col in ("relevant", "constraint", "required", "calculation", "appearance"):
        if col not in survey.columns:
            survey[col] = ""
    for lang in (LANG_FR, LANG_AR):
        if _label_col("label", lang) not in choices.columns:
            choices[_label_col("label", lang)] = ""

    survey = survey.loc[(survey["type"] != "") | (survey["name"] != "")].copy()
    survey["line"] = survey.index + 2
    survey = survey.reset_index(drop=True)
    choices = choices.loc[(choices["list_name"] != "") | (choices["name"] != "")].copy()
    choices["line"] = choices.index + 2
    choices = choices.reset_index(drop=True)

    types = survey["type"].str.split(n=1)
    survey["base_type"] = types.str[0].fillna("")
    survey["list_name"] = [
        t[1].split()[0] if len(t) > 1 and t[0] in ("select_one", "select_multiple") else ""
        for t in types
    ]
    # 'begin group' / 'end repeat' may be written with a space
    spaced = survey["type"].isin(["begin group", "end group", "begin repeat", "end repeat"])
    survey.loc[spaced, "base_type"] = survey.loc[spaced, "type"].str.replace(" ", "_")

    sections, group_rel = [], []
    stack: list[tuple[str, str]] = []
    for row in survey.itertuples(index=False):
        bt = row.base_type
        if bt == "end_group" or bt == "end_repeat":
            if not stack:
                raise ConfigError(
                    f"'{folder / 'survey.csv'}' line {row.line}: 'end_group' without a matching 'begin_group'"
                )
            stack.pop()
            sections.append("")
            group_rel.append("")
            continue
        top = stack[0][0] if stack else (row.name if bt in ("begin_group", "begin_repeat") else "")
        rels = [f"({r})" for _, r in stack if r]
        sections.append(top[4:].upper() if top.startswith("sec_") else "meta")
        group_rel.append(" and ".join(rels))
        if bt in ("begin_group", "begin_repeat"):
            stack.append((row.name, row.relevant))
    if stack:
        raise ConfigError(f"'{folder / 'survey.csv'}': group '{stack[-1][0]}' is never closed (missing 'end_group')")
    survey["section"] = sections
    survey["group_relevant"] = group_rel
    return Questionnaire(survey=survey, choices=choices, settings=settings, path=folder)


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def _where(q: Questionnaire, sheet: str, line: int, name: str = "") -> str:
    text = f"file '{display_path(q.path / (sheet + '.csv'))}', line {line}"
    return text + (f" ('{name}')" if name else "")


def validate_questionnaire(q: Questionnaire) -> None:
    """Check the questionnaire; raise :class:`ConfigError` naming the first problem.

    Checks: names present, unique, snake_case XML names; French and Arabic
    labels on every question, group and choice; choice lists used exist and are
    not empty, choice codes unique within a list; every ``${name}`` in
    ``relevant``, ``constraint``, ``calculation`` and labels refers to a field;
    the default language is French. Another language (English) is optional, but
    a form that has it has it everywhere: every label, hint, required or
    constraint message written in French has its English text, in
    ``survey.csv`` and in ``choices.csv`` (the error names the file, the line,
    the row and the column).

    Examples
    --------
    >>> validate_questionnaire(load_questionnaire())  # the bundled questionnaire is valid
    """
    seen: dict[str, int] = {}
    for row in q.survey.itertuples(index=False):
        bt = row.base_type
        if bt in ("end_group", "end_repeat"):
            continue
        name = row.name
        if not name:
            raise ConfigError(f"{_where(q, 'survey', row.line)}: a row of type '{row.type}' has no name")
        if not _NAME_RE.match(name):
            raise ConfigError(
                f"{_where(q, 'survey', row.line, name)}: name must be snake_case "
                "(lower-case letters, digits, '_', starting with a letter)"
            )
        if name in seen:
            raise ConfigError(
                f"{_where(q, 'survey', row.line, name)}: name already used on line {seen[name]}"
            )
        seen[name] = row.line
        if bt not in _KNOWN_TYPES:
            raise ConfigError(f"{_where(q, 'survey', row.line, name)}: unknown question type '{row.type}'")
        if bt in ("select_one", "select_multiple"):
            if not row.list_name:
                raise ConfigError(f"{_where(q, 'survey', row.line, name)}: '{row.type}' names no choice list")
            if not (q.choices["list_name"] == row.list_name).any():
                hint = did_you_mean(row.list_name, set(q.choices["list_name"]))
                raise ConfigError(
                    f"{_where(q, 'survey', row.line, name)}: choice list '{row.list_name}' does not exist "
                    f"in choices.csv{hint or '.'}"
                )
    lab_fr, lab_ar = _label_col("label", LANG_FR), _label_col("label", LANG_AR)
    for _, row in q.survey.iterrows():
        if row["base_type"] in _META_TYPES or row["base_type"] in ("end_group", "end_repeat"):
            continue
        for col, lang in ((lab_fr, "French"), (lab_ar, "Arabic")):
            if not row[col]:
                raise ConfigError(f"{_where(q, 'survey', row['line'], row['name'])}: no {lang} label ({col})")
    names = set(seen)
    text_cols = ["relevant", "constraint", "calculation", "choice_filter"] + [
        c for c in q.survey.columns if c.startswith("label::")]
    for _, row in q.survey.iterrows():
        for col in text_cols:
            if col not in q.survey.columns:
                continue
            for ref in _REF_RE.findall(row[col]):
                if ref not in names:
                    raise ConfigError(
                        f"{_where(q, 'survey', row['line'], row['name'])}: column '{col}' refers to "
                        f"${{{ref}}}, which is not a question of the form{did_you_mean(ref, names) or '.'}"
                    )
                if col in ("relevant", "constraint", "calculation") and seen[ref] > row["line"]:
                    raise ConfigError(
                        f"{_where(q, 'survey', row['line'], row['name'])}: column '{col}' refers to "
                        f"${{{ref}}}, which is asked later (line {seen[ref]})"
                    )
        if row["constraint"]:
            for lang in (LANG_FR, LANG_AR):
                if not row[_label_col("constraint_message", lang)]:
                    raise ConfigError(
                        f"{_where(q, 'survey', row['line'], row['name'])}: a constraint needs a message "
                        f"in both languages (constraint_message::{lang} is empty)"
                    )
    seen_codes: set[tuple[str, str]] = set()
    for _, row in q.choices.iterrows():
        if not row["list_name"] or not row["name"]:
            raise ConfigError(f"{_where(q, 'choices', row['line'])}: list_name and name are both required")
        key = (row["list_name"], row["name"])
        if key in seen_codes:
            raise ConfigError(
                f"{_where(q, 'choices', row['line'], row['name'])}: code repeated in list '{row['list_name']}'"
            )
        seen_codes.add(key)
        if not re.match(r"^[A-Za-z0-9_]+$", row["name"]):
            raise ConfigError(
                f"{_where(q, 'choices', row['line'], row['name'])}: choice codes may hold only letters, "
                "digits and '_' (they become column names of select_multiple options)"
            )
        for col, lang in ((lab_fr, "French"), (lab_ar, "Arabic")):
            if not row[col]:
                raise ConfigError(f"{_where(q, 'choices', row['line'], row['name'])}: no {lang} label ({col})")
    for lang in _optional_languages(q):
        _check_complete_language(q, lang)
    if q.default_language != LANG_FR:
        raise ConfigError(
            f"'{q.path / 'settings.csv'}': default_language must be '{LANG_FR}', found '{q.default_language}'"
        )


def _optional_languages(q: Questionnaire) -> list[str]:
    """The languages besides French and Arabic that a column of either sheet is written in."""
    found: list[str] = []
    for df in (q.survey, q.choices):
        for col in df.columns:
            kind, sep, lang = col.partition("::")
            if sep and kind in _TEXT_KINDS and lang not in (LANG_FR, LANG_AR) and lang not in found:
                found.append(lang)
    return found


def _check_complete_language(q: Questionnaire, lang: str) -> None:
    """An optional language, once present, is complete: each French text of ``survey.csv`` (label,
    label_short, hint, required and constraint messages) and each choice label has its ``lang``
    text, and both files have the ``label::<lang>`` column."""
    label = _label_col("label", lang)
    for sheet, df in (("survey", q.survey), ("choices", q.choices)):
        if label not in df.columns:
            other = "choices" if sheet == "survey" else "survey"
            raise ConfigError(
                f"file '{display_path(q.path / (sheet + '.csv'))}': no column '{label}', but "
                f"{other}.csv has {lang} texts; a language of the form must label every question and "
                f"every choice (add the column, or remove the {lang} columns)")
    for sheet, df in (("survey", q.survey), ("choices", q.choices)):
        kinds = _TEXT_KINDS if sheet == "survey" else ("label",)
        for kind in kinds:
            col, fr = _label_col(kind, lang), _label_col(kind, LANG_FR)
            if col not in df.columns or fr not in df.columns:
                continue
            empty = (df[fr] != "") & (df[col] == "")
            if empty.any():
                row = df.loc[empty].iloc[0]
                more = int(empty.sum()) - 1
                raise ConfigError(
                    f"{_where(q, sheet, row['line'], row['name'])}: column '{col}' is empty, but the "
                    f"French text is '{row[fr]}'; a language of the form must be complete"
                    + (f" ({more} other empty cell{'s' if more > 1 else ''} in this column)" if more else ""))


# ---------------------------------------------------------------------------
# XLSForm and XForm
# ---------------------------------------------------------------------------

_SHEET_DROP = {"line", "base_type", "list_name", "section", "group_relevant"}


def _workbook(q: Questionnaire):
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet, df in (("survey", q.survey), ("choices", q.choices), ("settings", q.settings)):
        cols = [c for c in df.columns if c not in _SHEET_DROP or (sheet == "choices" and c == "list_name")]
        ws = wb.create_sheet(sheet)
        ws.append(cols)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for values in df[cols].itertuples(index=False):
            ws.append([v if v != "" else None for v in values])
        ws.freeze_panes = "A2"
    return wb


def xlsform_bytes(questionnaire: Questionnaire | None = None) -> bytes:
    """The XLSForm workbook (``.xlsx``) built from the text files, as bytes."""
    q = questionnaire if questionnaire is not None else load_questionnaire()
    buf = io.BytesIO()
    _workbook(q).save(buf)
    return buf.getvalue()


def build_xform(questionnaire: Questionnaire | None = None, *, validate: bool = True,
                odk_validate: bool = False, warnings: list[str] | None = None) -> str:
    """Convert the questionnaire with pyxform and return the XForm XML.

    Parameters
    ----------
    questionnaire : Questionnaire, optional
        Default: :func:`load_questionnaire` of ``config.QUESTIONNAIRE_DIR``.
    validate : bool, default True
        Run :func:`validate_questionnaire` first.
    odk_validate : bool, default False
        Also check the XForm with ODK Validate (JavaRosa, shipped with pyxform;
        needs ``java``), which parses every XPath expression as ODK Collect and
        KoboToolbox will.
    warnings : list, optional
        Receives pyxform's warnings.

    Raises
    ------
    ConfigError
        If the questionnaire is invalid or pyxform rejects it (pyxform's message
        names the row of the ``survey`` sheet, i.e. the line of ``survey.csv``).

    Examples
    --------
    >>> xml = build_xform(validate=False)
    >>> "<h:html" in xml[:500]
    True
    """
    from pyxform.errors import PyXFormError
    from pyxform.validators.odk_validate import ODKValidateError
    from pyxform.xls2xform import convert

    q = questionnaire if questionnaire is not None else load_questionnaire()
    if validate:
        validate_questionnaire(q)
    warn = warnings if warnings is not None else []
    try:
        result = convert(xlsform_bytes(q), warnings=warn, file_type=".xlsx", pretty_print=False,
                         validate=odk_validate)
    except PyXFormError as exc:
        raise ConfigError(f"pyxform rejects the questionnaire: {_locate_pyxform_error(q, str(exc))}") from exc
    except ODKValidateError as exc:
        text = " ".join(str(exc).split())
        raise ConfigError(f"ODK Validate rejects the questionnaire: {_locate_pyxform_error(q, text)}") from exc
    return result.xform


def java_available() -> bool:
    """True if ``java`` is on the PATH (needed by ODK Validate)."""
    import shutil

    return shutil.which("java") is not None


def _locate_pyxform_error(q: Questionnaire, message: str) -> str:
    """Prefix pyxform's message with the file and line it is about."""
    m = re.search(r"\[row\s*:\s*(\d+)\]", message)
    if m:  # workbook row (header = 1) -> line of survey.csv (blank lines are dropped on load)
        k = int(m.group(1)) - 2
        if 0 <= k < len(q.survey):
            row = q.survey.iloc[k]
            return f"{_where(q, 'survey', int(row['line']), row['name'])}: {message}"
    for token in re.findall(r"node \[\$\{(\w+)\}\]|'([^']+)'", message):
        token = token[0] or token[1]
        for col in ("name", "type"):
            hit = q.survey.loc[q.survey[col] == token]
            if not hit.empty:
                row = hit.iloc[0]
                return f"{_where(q, 'survey', int(row['line']), row['name'])}: {message}"
    return f"'{q.path / 'survey.csv'}': {message}"


# ---------------------------------------------------------------------------
# codebook
# ---------------------------------------------------------------------------

CODEBOOK_COLUMNS = [
    "variable", "question", "type", "label_fr", "label_ar", "label_en", "values", "values_en", "relevant",
    "constraint", "required", "construct", "dimension", "reverse", "list_name", "section", "personal",
    "min", "max", "missing_codes",
]


def _values_text(choices: pd.DataFrame, column: str = "label_fr") -> str:
    """``code=label`` pairs separated by ``; `` (empty when a label of ``column`` is missing)."""
    if column != "label_fr" and (choices[column] == "").any():
        return ""
    return "; ".join(f"{c}={lab}" for c, lab in zip(choices["name"], choices[column]))


def _joined_en(question: str, part: str) -> str:
    """``question: part`` in English (empty when either is missing)."""
    return f"{question}: {part}" if question and part else ""


def _effective_relevant(row: pd.Series) -> str:
    parts = [p for p in (row["group_relevant"], f"({row['relevant']})" if row["relevant"] else "") if p]
    return " and ".join(parts)


def _construct_lookup(q: Questionnaire, spec: ConstructSpec | None = None) -> dict[str, tuple[str, str, bool]]:
    if spec is None:
        path = q.path / "constructs.yaml"
        if not path.exists():
            return {}
        spec = read_constructs(path)
    out: dict[str, tuple[str, str, bool]] = {}
    for c in spec.reflective:
        for d in c.dimensions:
            for item in d.items:
                out[item] = (c.name, d.name, item in d.reverse)
    return out


def codebook(questionnaire: Questionnaire | None = None, *, system_columns: bool = True,
             constructs: ConstructSpec | None = None) -> pd.DataFrame:
    """One row per column of a KoboToolbox export of the form, in export order.

    Parameters
    ----------
    questionnaire : Questionnaire, optional
        Default: :func:`load_questionnaire` of ``config.QUESTIONNAIRE_DIR``.
    system_columns : bool, default True
        Append the columns KoboToolbox adds itself (``_id``, ``_uuid``,
        ``_submission_time``...; :data:`SYSTEM_COLUMNS`).
    constructs : ConstructSpec, optional
        Gives the columns ``construct``, ``dimension``, ``reverse``. Default: the
        ``constructs.yaml`` beside the questionnaire (checked by
        :func:`analysis.study.validate_study`, not here).

    Returns
    -------
    pandas.DataFrame
        Columns: ``variable`` (export column name), ``question`` (form field it
        comes from), ``type`` (XLSForm type; ``select_multiple_option`` for the
        0/1 column of one option, ``geopoint_part`` for the ``_gps_latitude``...
        columns, ``system`` for KoboToolbox's own columns), ``label_fr``,
        ``label_ar``, ``label_en`` (empty when the form has no English),
        ``values`` (``code=label`` pairs separated by ``; ``), ``values_en``
        (the same with the English labels; empty without them),
        ``relevant`` (the condition under which the field is asked, groups
        included; empty = always), ``constraint``, ``required`` (bool),
        ``construct``, ``dimension`` and ``reverse`` (from
        ``questionnaire/constructs.yaml``), ``list_name``, ``section``
        (``A``..``E``, ``meta``, ``system``), ``personal`` (True for personal or
        identifying data), ``min``, ``max`` (numeric range; Likert 1-5, options
        0-1), ``missing_codes`` (``;``-separated codes meaning no answer).

    Examples
    --------
    >>> cb = codebook()
    >>> cb.set_index("variable").loc["target_groups/women", "type"]
    'select_multiple_option'
    >>> cb.set_index("variable").loc["n_members", "missing_codes"]
    '-98;-99'
    >>> cb.set_index("variable").loc["milieu", ["label_en", "values_en"]].tolist()
    ['Setting of operation', 'urbain=Urban; rural=Rural; mixte=Mixed (urban and rural)']
    """
    q = questionnaire if questionnaire is not None else load_questionnaire()
    lab_fr, lab_ar = _label_col("label", LANG_FR), _label_col("label", LANG_AR)
    lab_en = _label_col("label", LANG_EN)
    cons = _construct_lookup(q, constructs)
    records: list[dict] = []
    for _, row in q.fields.iterrows():
        name, bt = row["name"], row["base_type"]
        personal = _is_personal(name, bt)
        rel = _effective_relevant(row)
        label_en = row.get(lab_en, "")
        base = {
            "variable": name, "question": name, "type": bt, "label_fr": row[lab_fr], "label_ar": row[lab_ar],
            "label_en": label_en, "values": "", "values_en": "", "relevant": rel, "constraint": row["constraint"],
            "required": row["required"].lower() in ("yes", "true", "true()"),
            "construct": "", "dimension": "", "reverse": False, "list_name": row["list_name"],
            "section": row["section"], "personal": personal, "min": None, "max": None, "missing_codes": "",
        }
        if name in cons:
            base["construct"], base["dimension"], base["reverse"] = cons[name]
        if bt in ("select_one", "select_multiple"):
            ch = q.choice_list(row["list_name"])
            base["values"] = _values_text(ch)
            base["values_en"] = _values_text(ch, "label_en")
            base["missing_codes"] = ";".join(str(c) for c in q.missing_codes(name))
            if bt == "select_one" and q.is_likert_list(row["list_name"]):
                base["min"], base["max"] = float(LIKERT_MIN), float(LIKERT_MAX)
        elif bt in ("integer", "decimal"):
            base["min"], base["max"] = q.numeric_range(name)
            base["missing_codes"] = ";".join(str(c) for c in q.missing_codes(name))
        elif bt == "acknowledge":
            base["values"] = "OK=Confirmé"
            base["values_en"] = "OK=Confirmed"
        elif bt == "calculate":
            base["label_fr"] = base["label_fr"] or f"Calcul : {row['calculation']}"
            base["label_en"] = base["label_en"] or f"Calculation: {row['calculation']}"
        elif bt in ("start", "end", "today", "deviceid"):
            base["label_fr"] = base["label_fr"] or {
                "start": "Début de l'entretien (horodatage)", "end": "Fin de l'entretien (horodatage)",
                "today": "Date de l'entretien", "deviceid": "Identifiant de l'appareil",
            }[bt]
            base["label_en"] = base["label_en"] or {
                "start": "Start of the interview (timestamp)", "end": "End of the interview (timestamp)",
                "today": "Date of the interview", "deviceid": "Device identifier",
            }[bt]
        records.append(base)
        if bt == "select_multiple":
            for _, opt in q.choice_list(row["list_name"]).iterrows():
                records.append({
                    **base, "variable": f"{name}/{opt['name']}", "type": "select_multiple_option",
                    "label_fr": f"{row[lab_fr]} : {opt['label_fr']}",
                    "label_ar": f"{row[lab_ar]} : {opt['label_ar']}",
                    "label_en": _joined_en(label_en, opt["label_en"]),
                    "values": "1=Sélectionné; 0=Non sélectionné", "values_en": "1=Selected; 0=Not selected",
                    "constraint": "",
                    "min": 0.0, "max": 1.0, "missing_codes": "", "personal": False,
                })
        if bt == "geopoint":
            for part, fr, ar in (("latitude", "Latitude", "خط العرض"), ("longitude", "Longitude", "خط الطول"),
                                 ("altitude", "Altitude (m)", "الارتفاع (م)"), ("precision", "Précision (m)", "الدقة (م)")):
                en = {"precision": "Accuracy (m)"}.get(part, fr)
                records.append({**base, "variable": f"_{name}_{part}", "type": "geopoint_part",
                                "label_fr": f"{row[lab_fr]} : {fr}", "label_ar": f"{row[lab_ar]} : {ar}",
                                "label_en": _joined_en(label_en, en)})
    if system_columns:
        for name, typ, label, label_ar, personal in SYSTEM_COLUMNS:
            records.append({
                "variable": name, "question": name, "type": typ, "label_fr": label, "label_ar": label_ar,
                "label_en": _SYSTEM_LABELS_EN.get(name, ""), "values": "", "values_en": "", "relevant": "", "constraint": "", "required": False, "construct": "",
                "dimension": "", "reverse": False, "list_name": "", "section": "system",
                "personal": personal, "min": None, "max": None, "missing_codes": "",
            })
    cb = pd.DataFrame.from_records(records, columns=CODEBOOK_COLUMNS)
    cb["min"] = pd.to_numeric(cb["min"], errors="coerce").astype("float64")
    cb["max"] = pd.to_numeric(cb["max"], errors="coerce").astype("float64")
    for col in ("required", "reverse", "personal"):
        cb[col] = cb[col].astype(bool)
    return cb


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------


def _atomic_write(path: Path, writer) -> Path:
    """Write through a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _md_escape(text: object) -> str:
    s = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    return s.replace("|", "\\|").replace("\n", " ")


def _codebook_markdown(cb: pd.DataFrame, title: str) -> str:
    lines = [f"# Codebook: {title}", "",
             "One row per column of the KoboToolbox export (select_multiple: one 0/1 column per option).",
             "Choice lists: 98 = Je ne sais pas, 99 = Refus, 97 = Sans objet; numbers: -98 = Je ne sais pas, "
             "-99 = Refus. Personal data (personal = yes) must not leave the private folder.", ""]
    names = {"meta": "Métadonnées", "A": "A. Identification", "B": "B. Besoins et présence de l'IS",
             "C": "C. Processus : environnement interne", "D": "D. Résultats",
             "E": "E. Environnement externe et défis", "system": "Colonnes ajoutées par KoboToolbox"}
    cols = ["variable", "type", "label_fr", "values", "relevant", "min", "max", "missing_codes",
            "construct", "reverse", "personal"]
    if "label_en" in cb.columns and (cb["label_en"].fillna("") != "").any():
        cols.insert(cols.index("label_fr") + 1, "label_en")
    for sec, sub in cb.groupby("section", sort=False):
        lines += [f"## {names.get(sec, sec)}", "", "| " + " | ".join(cols) + " |",
                  "|" + "---|" * len(cols)]
        for _, r in sub.iterrows():
            vals = []
            for c in cols:
                v = r[c]
                if c in ("reverse", "personal"):
                    v = "yes" if v else ""
                elif c in ("min", "max"):
                    v = "" if pd.isna(v) else f"{v:g}"
                vals.append(_md_escape(v))
            lines.append("| " + " | ".join(vals) + " |")
        lines.append("")
    return "\n".join(lines)


def build_instrument(out_dir: str | Path = config.QUESTIONNAIRE_BUILD_DIR,
                     questionnaire: Questionnaire | None = None, *,
                     odk_validate: bool | None = None) -> dict[str, Path]:
    """Check the questionnaire and write the XLSForm, the XForm and the codebook.

    Parameters
    ----------
    out_dir : str or Path, default ``questionnaire/build/``
        Folder to write to (created if needed).
    questionnaire : Questionnaire, optional
        Default: :func:`load_questionnaire` of ``config.QUESTIONNAIRE_DIR``.
    odk_validate : bool, optional
        Check the XForm with ODK Validate too (see :func:`build_xform`).
        Default: when ``java`` is available.

    Returns
    -------
    dict of str to Path
        ``xlsform`` (``si_survey.xlsx``, to upload to KoboToolbox), ``xform``
        (``si_survey.xml``), ``codebook_csv``, ``codebook_xlsx``,
        ``codebook_md``. Each file is written atomically (temporary file, then
        rename), and nothing is written if the form does not convert.

    Raises
    ------
    ConfigError
        If the questionnaire is invalid or pyxform rejects it.

    Examples
    --------
    >>> written = build_instrument("questionnaire/build")  # doctest: +SKIP
    >>> written["xlsform"].name                              # doctest: +SKIP
    'si_survey.xlsx'
    """
    out = Path(out_dir)
    q = questionnaire if questionnaire is not None else load_questionnaire()
    if odk_validate is None:
        odk_validate = java_available()
    xform = build_xform(q, odk_validate=odk_validate)  # raises before anything is written
    cb = codebook(q)
    title = str(q.settings["form_title"].iloc[0]) if "form_title" in q.settings else "si_survey"
    written: dict[str, Path] = {}
    xls = xlsform_bytes(q)
    written["xlsform"] = _atomic_write(out / "si_survey.xlsx", lambda p: p.write_bytes(xls))
    written["xform"] = _atomic_write(out / "si_survey.xml", lambda p: p.write_text(xform, encoding="utf-8"))
    written["codebook_csv"] = _atomic_write(
        out / "codebook.csv", lambda p: cb.to_csv(p, index=False, encoding="utf-8"))

    def _xlsx(p: Path) -> None:
        with pd.ExcelWriter(p, engine="openpyxl") as xw:
            cb.to_excel(xw, sheet_name="codebook", index=False)

    written["codebook_xlsx"] = _atomic_write(out / "codebook.xlsx", _xlsx)
    written["codebook_md"] = _atomic_write(
        out / "codebook.md", lambda p: p.write_text(_codebook_markdown(cb, title), encoding="utf-8"))
    return written

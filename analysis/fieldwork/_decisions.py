"""Decisions on flagged answers: read, check and apply the researcher's decision files.

A decision file is what ``si-survey review`` writes (``review.xlsx``) once the researcher or
the field team has filled its ``change_type`` (and ``new_value``) column, or a CSV with the
same columns. Its vocabulary is the one of IMPACT's ``cleaningtools`` cleaning log:

=================  =========================================================================
``uuid``           the submission (KoboToolbox ``_uuid``)
``question``       the question (XLSForm ``name``; empty for ``remove_survey``)
``old_value``      the answer as exported (checked against the export when given)
``new_value``      the answer to use (``change_response`` only)
``issue``          what the check found (free text)
``check_id``       the check that raised the point (or ``manual``)
``change_type``    ``change_response``, ``blank_response``, ``remove_survey`` or ``no_action``
=================  =========================================================================

Rows whose ``change_type`` is empty are points still to decide: they are skipped. Every other
row is checked before anything is cleaned: an unknown ``change_type``, an unknown question, a
new value outside the question's choices or range, a decision on a submission that is in no
export, an answer that changed since it was decided, and two contradicting decisions each stop
the run with one sentence that names the file and the row.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError

__all__ = [
    "CHANGE_TYPES",
    "DECISION_COLUMNS",
    "Decision",
    "DecisionSet",
    "AppliedDecisions",
    "read_decisions",
    "apply_decisions",
    "decision_files",
    "same_answer",
]

#: What a decision does to the answer (cleaningtools' vocabulary).
CHANGE_TYPES: tuple[str, ...] = ("change_response", "blank_response", "remove_survey", "no_action")
#: The columns a decision file must have (others, such as ``enumerator``, are ignored).
DECISION_COLUMNS: tuple[str, ...] = (
    "uuid",
    "question",
    "old_value",
    "new_value",
    "issue",
    "check_id",
    "change_type",
)
_SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class Decision:
    """One decision, with where it was written (``file``, 1-based spreadsheet ``row``)."""

    uuid: str
    question: str
    old_value: str
    new_value: str
    issue: str
    check_id: str
    change_type: str
    file: str
    row: int

    @property
    def where(self) -> str:
        return f"{Path(self.file).name}, row {self.row}"


@dataclass(frozen=True)
class DecisionSet:
    """The decisions read from one or more files (duplicates removed, in file order)."""

    decisions: tuple[Decision, ...] = ()
    files: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.decisions)

    def to_frame(self) -> pd.DataFrame:
        """One row per decision: the :data:`DECISION_COLUMNS` plus ``file`` and ``row``."""
        cols = [*DECISION_COLUMNS, "file", "row"]
        return pd.DataFrame([[getattr(d, c) for c in cols] for d in self.decisions], columns=cols)

    def decided_keys(self) -> set[tuple[str, str, str]]:
        """``(uuid, question, check_id)`` of every decision, ``no_action`` included."""
        return {(d.uuid, d.question, d.check_id) for d in self.decisions}


@dataclass
class AppliedDecisions:
    """The raw table with the decisions applied.

    Attributes
    ----------
    data : pandas.DataFrame
        The raw table (strings) without the removed submissions, answers changed or blanked.
    log : pandas.DataFrame
        One row per decision that changed or removed something: ``file`` (raw export),
        ``_uuid``, ``column``, ``old_value``, ``new_value``, ``rule`` (``decision``),
        ``check_id``, ``issue``, ``change_type``, ``decision_file``, ``decision_row``.
    removed : pandas.DataFrame
        The removed submissions: ``_uuid``, ``file``, ``reason`` (the decision's issue).
    closed : int
        Number of ``no_action`` decisions (points closed without a change).
    """

    data: pd.DataFrame
    log: pd.DataFrame
    removed: pd.DataFrame
    closed: int = 0
    notes: list[str] = field(default_factory=list)


LOG_COLUMNS = ["file", "_uuid", "column", "old_value", "new_value", "rule", "check_id", "issue",
               "change_type", "decision_file", "decision_row"]


def decision_files(source: str | Path | Sequence[str | Path] | None) -> list[Path]:
    """The decision files of a folder (``*.csv`` and ``*.xlsx``, sorted) or of a list.

    Examples
    --------
    >>> decision_files([]) == []
    True
    """
    if source is None:
        return []
    items = [source] if isinstance(source, str | Path) else list(source)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.suffix.lower() in _SUFFIXES
                          and not f.name.startswith(("~$", ".")))
        elif p.exists():
            out.append(p)
        else:
            raise InputError("the decision file does not exist", file=p,
                             expected="a .xlsx or .csv decision file, or a folder of them")
    return out


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            ws = wb["decisions"] if "decisions" in wb.sheetnames else wb.worksheets[0]
            rows = list(ws.iter_rows(values_only=True))
            wb.close()
            if not rows:
                return pd.DataFrame(columns=list(DECISION_COLUMNS))
            header = ["" if h is None else str(h).strip() for h in rows[0]]
            body = [["" if v is None else _cell_text(v) for v in r] for r in rows[1:]]
            return pd.DataFrame(body, columns=header)
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python",
                               encoding="utf-8-sig")
    except InputError:
        raise
    except Exception as exc:  # a corrupt workbook, a binary file named .csv ...
        raise InputError(f"the decision file cannot be read ({type(exc).__name__}: {exc})",
                         file=path, expected="a .xlsx or .csv file written by si-survey review") \
            from None
    raise InputError("unsupported decision file type", file=path, value=path.suffix,
                     expected=".xlsx or .csv")


def _cell_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_value(d: Decision, cb_row: pd.Series) -> None:
    """A ``change_response`` value must be one the question can take."""
    qtype = str(cb_row["type"])
    value = d.new_value
    expected = None
    missing = {c.strip() for c in str(cb_row.get("missing_codes", "") or "").split(";") if c.strip()}
    if value == "":
        raise InputError("change_response without a new value (use blank_response to empty an "
                         "answer)", file=d.file, row=d.row, column="new_value", value=value,
                         expected=f"a new value for {d.question}")
    if qtype in ("select_one", "select_multiple"):
        codes = [part.split("=", 1)[0].strip() for part in str(cb_row["values"]).split("; ")
                 if part.strip()]
        given = value.split() if qtype == "select_multiple" else [value]
        bad = [g for g in given if g not in codes and g not in missing]
        if bad:
            expected = "one of " + ", ".join(codes) if qtype == "select_one" else \
                "codes among " + ", ".join(codes) + " separated by spaces"
            raise InputError(f"the new value is not a choice of {d.question}", file=d.file,
                             row=d.row, column="new_value", value=bad[0], expected=expected)
    elif qtype in ("integer", "decimal"):
        try:
            x = float(value.replace(",", ".")) if value not in missing else None
        except ValueError:
            raise InputError(f"the new value of {d.question} is not a number", file=d.file,
                             row=d.row, column="new_value", value=value,
                             expected="an integer" if qtype == "integer" else "a number") from None
        if x is not None:
            if qtype == "integer" and not float(x).is_integer():
                raise InputError(f"the new value of {d.question} is not an integer", file=d.file,
                                 row=d.row, column="new_value", value=value, expected="an integer")
            lo, hi = cb_row.get("min"), cb_row.get("max")
            if (pd.notna(lo) and x < float(lo)) or (pd.notna(hi) and x > float(hi)):
                rng = f"between {lo:g} and {hi:g}" if pd.notna(lo) and pd.notna(hi) else \
                    (f">= {lo:g}" if pd.notna(lo) else f"<= {hi:g}")
                raise InputError(f"the new value of {d.question} is out of range", file=d.file,
                                 row=d.row, column="new_value", value=value, expected=rng)
    elif qtype in ("date", "datetime", "start", "end"):
        if pd.isna(pd.to_datetime(value, errors="coerce", utc=True)):
            raise InputError(f"the new value of {d.question} is not a date", file=d.file,
                             row=d.row, column="new_value", value=value,
                             expected="an ISO date such as 2026-03-01")


def read_decisions(source, codebook: pd.DataFrame) -> DecisionSet:
    """Read and check decision files (``.xlsx`` from ``si-survey review`` or ``.csv``).

    Parameters
    ----------
    source : path, folder or list of paths
        Decision files, or a folder (``data/decisions/``) whose ``.xlsx`` and ``.csv`` are read
        in name order.
    codebook : pandas.DataFrame
        The questionnaire's codebook (``analysis.study.codebook``): question names, types,
        choices and ranges used to check each decision.

    Returns
    -------
    DecisionSet
        The decisions taken (rows with an empty ``change_type`` are points still open).

    Raises
    ------
    InputError
        A missing column, an unknown ``change_type`` or question, a new value the question
        cannot take, or two decisions that contradict each other; the message names the file
        and the row.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.study import codebook, load_questionnaire
    >>> cb = codebook(load_questionnaire())
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "decisions.csv"
    >>> _ = f.write_text("uuid,question,old_value,new_value,issue,check_id,change_type\\n"
    ...                  "u1,year_created,1019,2019,typo,out_of_range,change_response\\n")
    >>> ds = read_decisions(f, cb)
    >>> ds.decisions[0].new_value, ds.decisions[0].row
    ('2019', 2)
    """
    cb = codebook.set_index("variable", drop=False)
    out: list[Decision] = []
    files = decision_files(source)
    for path in files:
        frame = _read_table(path)
        frame.columns = [str(c).strip() for c in frame.columns]
        missing = [c for c in DECISION_COLUMNS if c not in frame.columns]
        if missing:
            raise InputError(f"the decision file lacks the column(s) {', '.join(missing)}",
                             file=path, row=1, column=missing[0],
                             expected="the columns " + ", ".join(DECISION_COLUMNS))
        for i, rec in enumerate(frame[list(DECISION_COLUMNS)].fillna("").astype(str)
                                .itertuples(index=False), start=2):
            vals = {c: str(v).strip() for c, v in zip(DECISION_COLUMNS, rec)}
            if vals["change_type"] == "":
                continue
            d = Decision(**vals, file=str(path), row=i)
            if d.change_type not in CHANGE_TYPES:
                raise InputError("unknown change_type" + _suggest(d.change_type, CHANGE_TYPES),
                                 file=path, row=i, column="change_type", value=d.change_type,
                                 expected="one of " + ", ".join(CHANGE_TYPES))
            if d.uuid == "":
                raise InputError("a decision without a submission uuid", file=path, row=i,
                                 column="uuid", value="", expected="the _uuid of a submission")
            if d.change_type in ("change_response", "blank_response") or d.question:
                if d.question not in cb.index:
                    raise InputError("unknown question" + _suggest(d.question, cb.index),
                                     file=path, row=i, column="question", value=d.question,
                                     expected="a question name of the questionnaire")
                if d.change_type == "change_response":
                    _check_value(d, cb.loc[d.question])
                if d.change_type == "blank_response" and d.new_value:
                    raise InputError("blank_response with a new value (use change_response to "
                                     "replace an answer)", file=path, row=i, column="new_value",
                                     value=d.new_value, expected="an empty cell")
            out.append(d)
    return DecisionSet(tuple(_deduplicate(out)), tuple(str(f) for f in files))


def _outcome(d: Decision) -> tuple:
    if d.change_type == "change_response":
        return ("change", d.new_value)
    if d.change_type == "blank_response":
        return ("change", "")
    return (d.change_type,)


def _deduplicate(decisions: list[Decision]) -> list[Decision]:
    """Same decision written twice: keep the first; different outcomes: contradiction."""
    seen: dict[tuple[str, str], Decision] = {}
    out = []
    for d in decisions:
        key = (d.uuid, d.question if d.change_type != "remove_survey" else "")
        if d.change_type == "no_action":
            key = (d.uuid, d.question, d.check_id)
        prev = seen.get(key)
        if prev is None:
            seen[key] = d
            out.append(d)
        elif _outcome(prev) != _outcome(d):
            raise InputError(f"this decision contradicts {prev.where} (same submission and "
                             f"question, another outcome)", file=d.file, row=d.row,
                             column="change_type", value=f"{d.change_type} {d.new_value}".strip(),
                             expected=f"{prev.change_type} {prev.new_value}".strip())
    changed = {(d.uuid, d.question): d for d in out if d.change_type in ("change_response",
                                                                       "blank_response")}
    for d in out:
        if d.change_type == "no_action" and (d.uuid, d.question) in changed:
            other = changed[(d.uuid, d.question)]
            raise InputError(f"no_action contradicts {other.where}, which changes the same answer",
                             file=d.file, row=d.row, column="change_type", value="no_action",
                             expected=other.change_type)
    return out


def same_answer(a: str, b: str) -> bool:
    """The same answer written two ways (spaces around it, ``12`` and ``12.0``, ``2,5`` and ``2.5``).

    Examples
    --------
    >>> same_answer(" 12", "12.0"), same_answer("2,5", "2.5"), same_answer("oui", "non")
    (True, True, False)
    """
    if a.strip() == b.strip():
        return True
    try:
        return float(a.replace(",", ".")) == float(b.replace(",", "."))
    except ValueError:
        return False


def apply_decisions(raw: pd.DataFrame, decisions: DecisionSet, *,
                    uuid_column: str = "_uuid") -> AppliedDecisions:
    """Apply decisions to the raw table (strings), before the automatic cleaning rules.

    Parameters
    ----------
    raw : pandas.DataFrame
        Raw answers as read (strings), with ``uuid_column`` and ``_source_file``.
    decisions : DecisionSet
        From :func:`read_decisions`.
    uuid_column : str
        The submission identifier.

    Returns
    -------
    AppliedDecisions

    Raises
    ------
    InputError
        A decision on a submission that is in no export, on a question that is not a column
        of the export, or whose ``old_value`` is no longer the exported answer.

    Examples
    --------
    >>> raw = pd.DataFrame({"_uuid": ["u1", "u2"], "year_created": ["1019", "2001"],
    ...                     "_source_file": ["a.csv", "a.csv"]})
    >>> d = Decision("u1", "year_created", "1019", "2019", "typo", "out_of_range",
    ...              "change_response", "d.csv", 2)
    >>> applied = apply_decisions(raw, DecisionSet((d,)))
    >>> applied.data["year_created"].tolist()
    ['2019', '2001']
    >>> applied.log[["_uuid", "column", "old_value", "new_value", "change_type"]].values.tolist()
    [['u1', 'year_created', '1019', '2019', 'change_response']]
    """
    data = raw.copy()
    uuids = data[uuid_column].astype(str).str.strip()
    position = {u: i for i, u in enumerate(uuids) if u}
    src = data["_source_file"].astype(str).to_numpy() if "_source_file" in data else \
        np.array([""] * len(data), dtype=object)
    log, removed, drop = [], [], set()
    closed = 0
    for d in decisions.decisions:
        i = position.get(d.uuid)
        if i is None:
            raise InputError("the decision names a submission that is in no export",
                             file=d.file, row=d.row, column="uuid", value=d.uuid,
                             expected="the _uuid of a submission of the exports read")
        if d.change_type == "no_action":
            closed += 1
            continue
        if d.change_type == "remove_survey":
            if i not in drop:
                drop.add(i)
                removed.append({"_uuid": d.uuid, "file": src[i], "reason": d.issue or d.check_id})
                log.append([src[i], d.uuid, "", "", "", "decision", d.check_id, d.issue,
                            d.change_type, Path(d.file).name, d.row])
            continue
        if d.question not in data.columns:
            raise InputError("the decision names a question that is not a column of the export",
                             file=d.file, row=d.row, column="question", value=d.question,
                             expected="a column of the raw export")
        col = data.columns.get_loc(d.question)
        current = "" if pd.isna(data.iat[i, col]) else str(data.iat[i, col])
        if d.old_value and not same_answer(current, d.old_value):
            raise InputError(f"the answer changed since the decision was taken (the export now "
                             f"holds '{current}')", file=d.file, row=d.row, column="old_value",
                             value=d.old_value, expected=current)
        new = d.new_value if d.change_type == "change_response" else ""
        data.iat[i, col] = new
        log.append([src[i], d.uuid, d.question, current, new, "decision", d.check_id, d.issue,
                    d.change_type, Path(d.file).name, d.row])
        # a select_multiple answer: its 0/1 option columns follow the new answer
        prefix = d.question + "/"
        chosen = set(new.split())
        for c in (c for c in data.columns if c.startswith(prefix)):
            j = data.columns.get_loc(c)
            before = "" if pd.isna(data.iat[i, j]) else str(data.iat[i, j])
            after = "" if not new else ("1" if c[len(prefix):] in chosen else "0")
            if not same_answer(before, after):
                data.iat[i, j] = after
                log.append([src[i], d.uuid, c, before, after, "decision", d.check_id, d.issue,
                            d.change_type, Path(d.file).name, d.row])
    if drop:
        data = data.drop(index=data.index[sorted(drop)])
    return AppliedDecisions(
        data=data,
        log=pd.DataFrame(log, columns=LOG_COLUMNS),
        removed=pd.DataFrame(removed, columns=["_uuid", "file", "reason"]),
        closed=closed,
    )

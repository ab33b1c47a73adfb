"""The state a cleaning run carries from one step to the next, and its array helpers.

:class:`CleaningState` is the one object every cleaning step reads and
extends (see :data:`analysis.cleaning._clean.STEPS` for the order). A step is
a function ``step(state) -> None``: it reads the fields filled by the steps
before it and fills its own. :class:`Changes` records which rule touched
which cells; the cleaning log is built at the end from the difference between
the values as read and the analysis file, each changed cell named by the
rules recorded here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["CleaningState", "Changes"]


class Changes:
    """Which rule touched which cells (sparse); the log itself is built from the final diff.

    Parameters
    ----------
    n : int
        Number of rows.

    Examples
    --------
    >>> import numpy as np
    >>> ch = Changes(3)
    >>> ch.add("x", [True, False, True], "rule_a")
    >>> ch.add("x", [True, False, False], "rule_b")
    >>> ch.rules("x", np.array([0, 2])).tolist()
    ['rule_a; rule_b', 'rule_a']
    """

    def __init__(self, n: int):
        self.n = n
        self.parts: dict[str, list] = {}

    def add(self, column: str, mask, rule: str) -> None:
        """Record that ``rule`` changed the cells of ``column`` where ``mask`` is true."""
        pos = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(pos):
            self.parts.setdefault(column, []).append((pos, rule))

    def rules(self, column: str, positions: np.ndarray) -> np.ndarray:
        """The rules (``"; "``-joined, in the order applied) of the cells at ``positions``."""
        out = np.full(len(positions), "", dtype=object)
        for pos, rule in self.parts.get(column, []):
            hit = np.isin(positions, pos, assume_unique=False)
            out[hit] = np.where(out[hit] == "", rule, out[hit] + "; " + rule)
        return out


@dataclass
class CleaningState:
    """Everything a cleaning run knows, filled step by step.

    Inputs (set before the first step)

    Attributes
    ----------
    paths : list of Path
        The raw export files.
    cfg : dict
        The cleaning options (``cleaning.yaml``, see
        :func:`analysis.cleaning._config.load_cleaning_config`).
    qdir : Path
        The questionnaire folder (for the manifest's hashes).
    q : Questionnaire
        The questionnaire (survey, choices, settings).
    cb : pandas.DataFrame
        Its codebook (one row per variable).
    hmap : dict
        Header map of the readers (export header -> variable).
    recode : pandas.DataFrame
        The "autre (précisez)" recode table (``question``, ``text``, ``code``).
    say : callable
        Progress messages.
    study : bool
        True for the study's own questionnaire; False for a form given with
        ``--form`` (generic rules only: the study steps and derived columns
        are skipped, see :data:`analysis.cleaning._clean.STUDY_STEPS`).

    Read step

    raw : pandas.DataFrame
        Every raw row as text; after harmonising only ``_source_file`` and
        ``_source_row`` are kept (the values as read are in ``asread``).
    tables : list
        The readers' :class:`~analysis.ingest._readers.RawTable` of each file
        (header and notes; their cells are released after harmonising).
    table_rows : list of int
        Rows of each file (for the manifest).
    n : int
        Number of submissions received.
    warnings : list of str
        Things worth the researcher's attention (manifest and summary).
    cbi : pandas.DataFrame
        The codebook indexed by variable.
    types : dict
        Variable -> XLSForm type.
    personal : set of str
        Personal columns (never in the analysis file, the log or a report).
    personal_reasons : dict of str to str
        Why each personal column is personal (``manifest.json``).
    personal_answers : dict of str to int
        Number of answers of each personal column present (``manifest.json``).
    files, rows : numpy.ndarray
        Source file and row of each submission.
    uuid : numpy.ndarray
        ``_uuid`` of each submission (``row:<file>:<row>`` when missing).
    problems : ProblemLog
        The validation problems (``validation.csv``).
    changes : Changes
        Which rule changed which cells (the rules of ``cleaning_log.csv``).
    known : list of str
        The codebook's variables (every one has a column, empty when absent).
    unknown_columns : list of str
        Columns of the exports that are not in the codebook (dropped).
    absent : dict of str to numpy.ndarray
        Per variable, the rows of the files that have no such column.

    Values

    asread : dict of str to numpy.ndarray
        Each variable's cells as read (the reference of the cleaning log).
    cur : dict of str to numpy.ndarray
        Each variable's cells as text after harmonising (and recoding of
        select_multiple "other" answers and hidden answers).
    fac : dict of str to tuple
        ``(codes, distinct values)`` of each raw column (reused while the
        column is unchanged).
    final : dict of str to array
        The cleaned values of each variable (float for numbers and numeric
        codes, text codes otherwise, timestamps as Series).
    dt : dict of str to pandas.Series
        Parsed timestamps (UTC).
    numeric_columns : list of str
        Variables parsed as numbers.
    set_aside : list of tuple
        ``(file, column, reason)`` of every column set aside in a file (a
        whole column matching nothing its question allows: the cells are set
        missing and reported, the rest of the file is read).
    text_calculates : set of str
        ``calculate`` fields kept as text (their use is not a number).
    time_zone : dict
        ``offset`` given to local timestamps written without one and its
        ``source`` (``option``, ``inferred``, ``export`` or ``none``).
    timestamp_columns : list of str
        The columns parsed as timestamps (start, end, _submission_time,
        dateTime questions, timestamp calculates).
    numbers : dict of str to numpy.ndarray
        The numbers as recorded (missing codes kept, for the skip logic).
    multi : dict of str to list
        select_multiple variable -> its option codes.
    year : int
        The year of the latest interview (a bound of ``year_created``).
    evaluator : RelevanceEvaluator
        Skip logic and constraints evaluated on the answers as recorded.
    relevant : dict of str to numpy.ndarray
        Per variable, the rows where the question is shown.
    filled : dict of str to numpy.ndarray
        Per variable, the rows answered as recorded.
    likert : set of str
        select_one variables with numeric codes (stored as float codes).
    multi_frames : dict of str to pandas.DataFrame
        select_multiple 0/1 option columns and ``<question>_count``.

    Flags

    flags : dict of str to numpy.ndarray
        The :data:`~analysis.cleaning._clean.FLAG_COLUMNS`.
    decisions : DecisionSet or None
        The researcher's decisions on flagged answers (``data/decisions/``), study exports only.
    removed : numpy.ndarray
        Submissions removed by a ``remove_survey`` decision (out of the analysis file, in the flow).
    analysed : numpy.ndarray
        Rows kept for analysis (no excluding flag).
    excluded_steps : set of str
        Flow steps that exclude rows (``exclude`` in the options).
    legal_form_group : numpy.ndarray
        ``association``, ``cooperative`` or ``""``.
    duration : numpy.ndarray
        Interview duration in minutes (NaN when unknown or not positive).
    speeder_threshold : float
        Speeder threshold in minutes.
    kept : numpy.ndarray
        Positions of the rows kept among duplicates.
    duplicate_kind : numpy.ndarray
        ``same_uuid``, ``same_organisation`` or ``""`` per row.

    Outputs

    data, log, flow, validation, link : pandas.DataFrame
        The analysis file, the cleaning log, the flow, the problems and the
        private link table.
    labels : dict
        ``labels.json``.
    manifest : dict
        ``manifest.json`` (without the output hashes).
    """

    paths: list
    cfg: dict
    qdir: Path
    q: object
    cb: pd.DataFrame
    hmap: dict
    recode: pd.DataFrame
    say: Callable[[str], None] = field(default=lambda _m: None, repr=False)
    study: bool = True
    # read
    raw: pd.DataFrame | None = field(default=None, repr=False)
    tables: list = field(default_factory=list, repr=False)
    table_rows: list = field(default_factory=list)
    n: int = 0
    warnings: list = field(default_factory=list)
    cbi: pd.DataFrame | None = field(default=None, repr=False)
    types: dict = field(default_factory=dict, repr=False)
    personal: set = field(default_factory=set)
    personal_reasons: dict = field(default_factory=dict)
    personal_answers: dict = field(default_factory=dict)
    files: np.ndarray | None = field(default=None, repr=False)
    rows: np.ndarray | None = field(default=None, repr=False)
    uuid: np.ndarray | None = field(default=None, repr=False)
    problems: object = field(default=None, repr=False)
    changes: Changes | None = field(default=None, repr=False)
    known: list = field(default_factory=list, repr=False)
    unknown_columns: list = field(default_factory=list)
    absent: dict = field(default_factory=dict, repr=False)
    # values
    asread: dict = field(default_factory=dict, repr=False)
    cur: dict = field(default_factory=dict, repr=False)
    fac: dict = field(default_factory=dict, repr=False)
    final: dict = field(default_factory=dict, repr=False)
    dt: dict = field(default_factory=dict, repr=False)
    numeric_columns: list = field(default_factory=list, repr=False)
    set_aside: list = field(default_factory=list)
    text_calculates: set = field(default_factory=set)
    time_zone: dict = field(default_factory=dict)
    timestamp_columns: list = field(default_factory=list)
    numbers: dict = field(default_factory=dict, repr=False)
    multi: dict = field(default_factory=dict, repr=False)
    year: int = 2026
    evaluator: object = field(default=None, repr=False)
    relevant: dict = field(default_factory=dict, repr=False)
    filled: dict = field(default_factory=dict, repr=False)
    likert: set = field(default_factory=set, repr=False)
    multi_frames: dict = field(default_factory=dict, repr=False)
    # decisions (data/decisions/): see analysis.cleaning._decide
    decisions: object = field(default=None, repr=False)
    removed: np.ndarray | None = field(default=None, repr=False)
    removal_reasons: dict = field(default_factory=dict, repr=False)
    decided: dict = field(default_factory=dict, repr=False)
    personal_decisions: list = field(default_factory=list, repr=False)
    # flags
    flags: dict = field(default_factory=dict, repr=False)
    analysed: np.ndarray | None = field(default=None, repr=False)
    excluded_steps: set = field(default_factory=set)
    legal_form_group: np.ndarray | None = field(default=None, repr=False)
    duration: np.ndarray | None = field(default=None, repr=False)
    speeder_threshold: float = float("nan")
    kept: np.ndarray | None = field(default=None, repr=False)
    duplicate_kind: np.ndarray | None = field(default=None, repr=False)
    # outputs
    data: pd.DataFrame | None = field(default=None, repr=False)
    labels: dict = field(default_factory=dict, repr=False)
    log: pd.DataFrame | None = field(default=None, repr=False)
    flow: pd.DataFrame | None = field(default=None, repr=False)
    validation: pd.DataFrame | None = field(default=None, repr=False)
    link: pd.DataFrame | None = field(default=None, repr=False)
    manifest: dict = field(default_factory=dict, repr=False)

    def set_aside_wrong_columns(self, column: str, bad: np.ndarray, status: np.ndarray, reason: str) -> np.ndarray:
        """Set aside, file by file, a column whose every non-empty cell (3 or more) is wrong.

        A whole column matching nothing its question allows is another column
        or another form version: it is reported once per file
        (``column_set_aside``, with ``reason``), its cells are set missing by
        the caller (each already reported), and the rest of the file is read.

        Returns
        -------
        numpy.ndarray of bool
            Rows of the files where the column was set aside.
        """
        out = np.zeros(self.n, dtype=bool)
        if not bad.any():
            return out
        nonempty = status != "empty"
        for f in pd.unique(self.files[bad]):
            m = self.files == f
            k = int((nonempty & m).sum())
            if k >= 3 and int((bad & m).sum()) == k:
                out |= m
                name = Path(str(f)).name
                self.set_aside.append((name, column, reason))
                self.problems.add_column(name, column, "column_set_aside",
                                         f"set aside (cells set missing): {reason}")
        return out

    def distinct(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """``(codes, distinct values)`` of the column's current cells (from the raw column when unchanged)."""
        if column in self.fac and self.cur[column] is self.asread[column]:
            return self.fac[column]
        codes, uniq = pd.factorize(S(self.cur[column]))
        return codes, np.asarray(uniq, dtype=object)


# --------------------------------------------------------------------------- array helpers


def code_dtype(k: int) -> type:
    """The smallest signed integer type for the codes of ``k`` distinct values.

    Examples
    --------
    >>> code_dtype(10).__name__
    'int8'
    """
    for t in (np.int8, np.int16, np.int32):
        if k < np.iinfo(t).max:
            return t
    return np.int64


def S(x) -> pd.Series:
    """An object Series (no string-dtype inference: cheap for large arrays)."""
    return pd.Series(np.asarray(x, dtype=object), dtype=object)


def to_float(x) -> np.ndarray:
    """Text cells -> float via their distinct values (NaN where not a plain number).

    Examples
    --------
    >>> to_float(["1", "x", "2.5"]).tolist()
    [1.0, nan, 2.5]
    """
    codes, uniq = pd.factorize(x if isinstance(x, pd.Series) else S(x))
    if len(uniq) == 0:
        return np.full(len(codes), np.nan)
    un = pd.to_numeric(pd.Series(np.asarray(uniq, dtype=object), dtype=object), errors="coerce").to_numpy(dtype=float)
    return np.where(codes >= 0, un[np.maximum(codes, 0)], np.nan)


def str_array(x) -> pd.api.extensions.ExtensionArray:
    """Object cells -> pandas string array (``""`` = missing), built from the distinct values (fast)."""
    codes, uniq = pd.factorize(S(x))
    u = np.asarray(uniq, dtype=object)
    u = np.where(u == "", None, u) if len(u) else u
    arr = pd.array(u, dtype="str") if len(u) else pd.array([None], dtype="str")
    return arr.take(codes, allow_fill=True)


def num_text(v: np.ndarray) -> np.ndarray:
    """Numbers as the log writes them (integers without ``.0``; ``""`` for NaN).

    Examples
    --------
    >>> num_text(np.array([1.0, 2.5, np.nan])).tolist()
    ['1', '2.5', '']
    """
    out = np.full(len(v), "", dtype=object)
    ok = np.isfinite(v)
    if ok.any():
        vals = v[ok]
        integral = (vals == np.round(vals)) & (np.abs(vals) < 1e15)
        txt = np.empty(len(vals), dtype=object)
        txt[integral] = vals[integral].astype(np.int64).astype(str)
        txt[~integral] = [format(float(x), ".15g") for x in vals[~integral]]
        out[ok] = txt
    return out

"""Checks of raw survey data against the codebook, and the table of problems found.

Validation looks at the data **as read** (:mod:`analysis.ingest._readers`) and reports
every problem, one row each, in a table written as ``validation.csv``:

``file``
    The raw file.
``row``
    The submission's ``_uuid`` (empty for problems about a whole column).
``source_row``
    The row number in the file (header = 1).
``column``
    The variable.
``value``
    The value found (``<personal data>`` for personal columns, which never
    leave the private folder).
``rule``
    What is wrong: ``unknown_column``, ``missing_column``, ``not_a_number``,
    ``not_allowed``, ``invalid_date``, ``out_of_range``, ``constraint``,
    ``not_relevant`` (an answer to a question that the skip logic hides),
    ``required_missing``, ``funding_sum``, ``region_ambiguous``,
    ``region_unmatched``, ``province_unmatched``.
``action``
    What cleaning did about it (``set missing``, ``re-normalised``, ``dropped``,
    ``reported only``...).

The skip logic is evaluated with the XLSForm expression evaluator of
:mod:`analysis.xlsform._form` (the subset the questionnaire uses: ``${x}``,
comparisons, ``and``/``or``/``not``, ``selected``, ``count-selected``...),
vectorised over all rows; answers count as the device recorded them (a "Je
ne sais pas" code is an answer).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["VALIDATION_COLUMNS", "ProblemLog", "RelevanceEvaluator", "PERSONAL_MASK"]

VALIDATION_COLUMNS = ["file", "row", "source_row", "column", "value", "rule", "action"]
#: What validation.csv shows instead of a personal value.
PERSONAL_MASK = "<personal data>"


class ProblemLog:
    """Accumulates validation problems (vectorised: one call per column and rule).

    Parameters
    ----------
    files, uuids, rows : array-like
        ``_source_file``, ``_uuid`` and ``_source_row`` of every data row.
    personal : set of str
        Personal columns: their values are masked.
    """

    def __init__(self, files, uuids, rows, personal=()):
        self.files = np.asarray(files, dtype=object)
        self.uuids = np.asarray(uuids, dtype=object)
        self.rows = np.asarray(rows)
        self.personal = set(personal)
        self.parts: list[pd.DataFrame] = []

    def add(self, mask, column: str, values, rule: str, action: str) -> int:
        """Report the rows where ``mask`` is True; return how many."""
        m = np.asarray(mask, dtype=bool)
        k = int(m.sum())
        if not k:
            return 0
        vals = np.asarray(values, dtype=object)
        vals = vals[m] if vals.ndim and len(vals) == len(m) else np.full(k, vals.item() if vals.ndim == 0 else "", dtype=object)
        if column in self.personal:
            vals = np.array([PERSONAL_MASK if str(x).strip() else "" for x in vals], dtype=object)
        self.parts.append({
            "file": self.files[m], "row": self.uuids[m], "source_row": self.rows[m],
            "column": np.full(k, column, dtype=object),
            "value": np.array([str(x) for x in vals], dtype=object), "rule": np.full(k, rule, dtype=object),
            "action": np.full(k, action, dtype=object),
        })
        return k

    def add_column(self, file: str, column: str, rule: str, action: str, value: str = "") -> None:
        """Report a problem about a whole column of a file."""
        if column in self.personal and value:
            value = PERSONAL_MASK
        self.parts.append({
            "file": np.array([file], dtype=object), "row": np.array([""], dtype=object),
            "source_row": np.array([-1]), "column": np.array([column], dtype=object),
            "value": np.array([value], dtype=object), "rule": np.array([rule], dtype=object),
            "action": np.array([action], dtype=object),
        })

    def frame(self) -> pd.DataFrame:
        """All problems, in the order found (columns :data:`VALIDATION_COLUMNS`)."""
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in VALIDATION_COLUMNS})
        cols = {c: np.concatenate([p[c] for p in self.parts]) for c in VALIDATION_COLUMNS}
        rows = cols.pop("source_row").astype(np.int64)
        df = pd.DataFrame({c: np.asarray(v, dtype=object) for c, v in cols.items()}, dtype=object)
        df.insert(2, "source_row", pd.array(np.where(rows < 0, 0, rows), dtype="Int64"))
        df.loc[rows < 0, "source_row"] = pd.NA
        return df[VALIDATION_COLUMNS]

    def counts(self) -> pd.Series:
        """Number of problems per rule."""
        f = self.frame()
        return f["rule"].value_counts().sort_index() if len(f) else pd.Series(dtype=int)


class RelevanceEvaluator:
    """Evaluate ``relevant`` and ``constraint`` expressions on whole columns.

    Parameters
    ----------
    text : dict of str -> numpy.ndarray
        Cells (trimmed strings) of select_one, text and other columns.
    numbers : dict of str -> numpy.ndarray
        Parsed numeric columns (float; codes such as -98 kept as numbers).
    multiple : dict of str -> list of str
        select_multiple questions and their option codes.
    n : int
        Number of rows.
    options : dict, optional
        ``{question: (matrix of selected options, answered)}`` from the 0/1
        option columns (faster than parsing the space-separated codes).
    """

    def __init__(self, text: dict, numbers: dict, multiple: dict, n: int, today_year: int = 2026,
                 options: dict | None = None):
        self.options = options or {}
        self.text = text
        self.numbers = numbers
        self.multiple = multiple
        self.n = n
        self.year = today_year
        self._values: dict = {}
        self._cache: dict = {}

    def value(self, name: str):
        """The evaluator's Value of a question."""
        from analysis.xlsform._form import Value

        if name in self._values:
            return self._values[name]
        if name in self.numbers:
            v = Value("num", np.asarray(self.numbers[name], dtype=float))
        elif name in self.options:
            v = Value("multi", self.options[name], list(self.multiple[name]))
        elif name in self.multiple:
            s = pd.Series(self.text.get(name, np.full(self.n, "", dtype=object)), dtype=object).astype(str)
            codes = list(self.multiple[name])
            padded = " " + s.str.strip() + " "
            mat = np.column_stack([padded.str.contains(" " + re.escape(c) + " ", regex=True).to_numpy(dtype=bool)
                                   for c in codes]) if codes else np.zeros((self.n, 0), dtype=bool)
            v = Value("multi", (mat, (s.str.strip() != "").to_numpy()), codes)
        elif name in self.text:
            v = Value("str", np.asarray(self.text[name], dtype=object))
        else:
            v = Value("str", np.full(self.n, "", dtype=object))
        self._values[name] = v
        return v

    def relevant(self, expression: str) -> np.ndarray:
        """Boolean mask of rows where ``expression`` holds (all True when empty)."""
        from analysis.xlsform._form import evaluate

        if not expression or not expression.strip():
            return np.ones(self.n, dtype=bool)
        if expression not in self._cache:
            self._cache[expression] = np.asarray(
                evaluate(expression, self.value, self.n, today_year=self.year).as_bool(), dtype=bool)
        return self._cache[expression]

    def constraint(self, expression: str, name: str) -> np.ndarray:
        """Boolean mask of rows where the constraint of ``name`` holds for its current value."""
        from analysis.xlsform._form import evaluate

        cur = self.value(name)
        return np.asarray(evaluate(expression, self.value, self.n, current=cur, today_year=self.year).as_bool(),
                          dtype=bool)

"""Formula neutralisation: text cells a spreadsheet would run as formulas (OWASP CSV injection).

Used by the Excel and CSV writers of the tables, by the results CSVs of the report
and by the cleaned-data CSVs: public names of :mod:`analysis.tables`.

Examples
--------
>>> neutralize_formula("=SUM(A1:A2)")
"'=SUM(A1:A2)"
>>> neutralize_formula("Association")
'Association'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FORMULA_PREFIXES", "neutralize_formula", "neutralize_formula_column"]


#: First characters that make a spreadsheet treat a text cell as a formula (OWASP CSV injection).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(text: object) -> object:
    """Prefix with ``'`` a text that a spreadsheet would run as a formula.

    Non-text values are returned unchanged.

    Parameters
    ----------
    text : object

    Returns
    -------
    object

    Examples
    --------
    >>> neutralize_formula("+33 6"), neutralize_formula("@x"), neutralize_formula(-1.5)
    ("'+33 6", "'@x", -1.5)
    """
    if isinstance(text, str) and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def neutralize_formula_column(values: pd.Series) -> pd.Series:
    """:func:`neutralize_formula` on every cell of a column, checked on its distinct values.

    Returns the column itself when no cell needs it, else an object copy.

    Examples
    --------
    >>> import pandas as pd
    >>> neutralize_formula_column(pd.Series(["=1+1", "ok", None, 2.5])).tolist()
    ["'=1+1", 'ok', None, 2.5]
    """
    if not len(values):
        return values
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    fixed = np.array([neutralize_formula(u) for u in np.asarray(uniq, dtype=object)], dtype=object)
    bad = np.array([f is not u for f, u in zip(fixed, np.asarray(uniq, dtype=object))], dtype=bool)
    if not bad.any():
        return values
    hit = codes >= 0
    hit[hit] = bad[codes[hit]]
    out = values.astype(object).copy()
    out[hit] = fixed[codes[hit]]
    return out

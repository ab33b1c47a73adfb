"""Side-by-side regression tables (like R ``modelsummary`` or Stata ``esttab``).

Each model is a column: the coefficient (with stars) on one row and its standard
error (or confidence interval) in parentheses on the row below; fit statistics
(N, R², AIC...) at the bottom, in a row group of their own. The result is a
:class:`~analysis.tables.builder.Table`, so it is written by every writer and
formatted for the locale at render time.

A result object needs two attributes (see :mod:`analysis.regression._results`):
``coefficients``, a DataFrame indexed by term with columns ``estimate, se,
statistic, p_value, ci_low, ci_high``, and ``fit``, a Series with some of
``n, r2, adj_r2, pseudo_r2, aic, bic, llf``.

Examples
--------
>>> import pandas as pd
>>> from types import SimpleNamespace
>>> coefs = pd.DataFrame({"estimate": [1.0, 0.5], "se": [0.2, 0.1], "statistic": [5.0, 5.0],
...     "p_value": [0.001, 0.0004], "ci_low": [0.6, 0.3], "ci_high": [1.4, 0.7]},
...     index=["Intercept", "x"])
>>> m = SimpleNamespace(coefficients=coefs, fit=pd.Series({"n": 120, "r2": 0.21}))
>>> model_table({"(1)": m}).render().body_text()
[['Constante', '1,00**'], ['', '(0,20)'], ['x', '0,50***'], ['', '(0,10)'], ['N', '120'], ['R²', ',210']]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.errors import ConfigError, InputError
from analysis.tables.builder import Table
from analysis.tables.formatting import (
    DEFAULT_LEVELS,
    Locale,
    format_integer,
    format_number,
    get_locale,
    is_missing,
    stars_for,
)

__all__ = ["model_table", "FIT_LABELS", "INTERCEPT_TERMS"]

#: Labels of the fit rows, by locale.
FIT_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "n": "N",
        "r2": "R²",
        "adj_r2": "R² ajusté",
        "pseudo_r2": "Pseudo-R² de McFadden",
        "aic": "AIC",
        "bic": "BIC",
        "llf": "Log-vraisemblance",
    },
    "en": {
        "n": "N",
        "r2": "R²",
        "adj_r2": "Adjusted R²",
        "pseudo_r2": "McFadden pseudo R²",
        "aic": "AIC",
        "bic": "BIC",
        "llf": "Log-likelihood",
    },
}
_BOUNDED_FIT = ("r2", "adj_r2", "pseudo_r2")
_FIT_DECIMALS = {"n": 0, "r2": 3, "adj_r2": 3, "pseudo_r2": 3, "aic": 1, "bic": 1, "llf": 1}

#: Term names read as the intercept (labelled "Constante" / "Constant").
INTERCEPT_TERMS = ("Intercept", "const", "(Intercept)", "_cons")

_TEXTS = {
    "fr": {
        "term": "Variable",
        "constant": "Constante",
        "thresholds": "Seuils",
        "se_note": "Erreurs types entre parenthèses.",
        "ci_note": "Intervalles de confiance à {level} entre crochets.",
        "reference": "Modalités de référence{colon} {items}.",
        "colon": "\u00a0:",
    },
    "en": {
        "term": "Variable",
        "constant": "Constant",
        "thresholds": "Cut points",
        "se_note": "Standard errors in parentheses.",
        "ci_note": "{level} confidence intervals in brackets.",
        "reference": "Reference categories{colon} {items}.",
        "colon": ":",
    },
}
_REQUIRED = ("estimate", "se", "p_value", "ci_low", "ci_high")


@dataclass(frozen=True)
class _Coef:
    """A cell of the coefficient row: estimate with stars, formatted at render time."""

    estimate: float
    p_value: float
    stars: bool
    levels: tuple[float, ...]
    decimals: int

    def format(self, loc: Locale) -> str:
        text = format_number(self.estimate, self.decimals, loc)
        return text + (stars_for(self.p_value, self.levels) if self.stars else "")


@dataclass(frozen=True)
class _Stat:
    """A cell of the row under a coefficient: ``(se)`` or ``[low ; high]``."""

    low: float
    high: float | None
    decimals: int

    def format(self, loc: Locale) -> str:
        if self.high is None:
            return f"({format_number(self.low, self.decimals, loc)})"
        lo = format_number(self.low, self.decimals, loc)
        hi = format_number(self.high, self.decimals, loc)
        return f"[{lo}{loc.interval_sep}{hi}]"


@dataclass(frozen=True)
class _Fit:
    value: float
    decimals: int
    leading_zero: bool = True

    def format(self, loc: Locale) -> str:
        if self.decimals == 0:
            return format_integer(self.value, loc)
        return format_number(self.value, self.decimals, loc, leading_zero=self.leading_zero)


def _decimals_for(estimate: float, below: Sequence[float], decimals: int, most: int = 4,
                  significant: bool = False) -> int:
    """Decimals of a coefficient and its SE (or CI): ``decimals``, more while the SE (or a
    significant estimate) would round to zero, so that no "−0,01** (0,00)" is printed.

    Examples
    --------
    >>> _decimals_for(-0.012, [0.004], 2), _decimals_for(0.53, [0.03], 2), _decimals_for(0.0, [0.0], 2)
    (3, 2, 2)
    >>> _decimals_for(0.003, [0.07], 2), _decimals_for(0.003, [0.0009], 2, significant=True)
    (2, 3)
    """
    d = decimals
    values = [abs(v) for v in below if v != 0] + ([abs(estimate)] if estimate != 0 and significant else [])
    while d < most and any(round(v, d) == 0 for v in values):
        d += 1
    return d


def _format_cell(value: object, loc: Locale) -> str:
    if isinstance(value, _Coef | _Stat | _Fit):
        return value.format(loc)
    return "" if is_missing(value) else str(value)


def _check_result(name: str, res: object) -> tuple[pd.DataFrame, pd.Series]:
    coefs = getattr(res, "coefficients", None)
    fit = getattr(res, "fit", None)
    if not isinstance(coefs, pd.DataFrame):
        raise InputError(
            f"Model {name!r} has no 'coefficients' DataFrame.",
            value=type(res).__name__,
            expected="a result with .coefficients (DataFrame) and .fit (Series)",
        )
    missing = [c for c in _REQUIRED if c not in coefs.columns]
    if missing:
        raise InputError(
            f"Model {name!r}: the coefficients table lacks columns {missing}.",
            column=missing[0],
            expected=f"columns {list(_REQUIRED)}",
        )
    if fit is None:
        fit = pd.Series(dtype=float)
    elif not isinstance(fit, pd.Series):
        fit = pd.Series(fit)
    return coefs, fit


def model_table(
    results: Mapping[str, object],
    stat: str = "se",
    stars: bool = True,
    fit_rows: Sequence[str] = ("n", "r2", "adj_r2", "pseudo_r2", "aic", "bic"),
    coef_labels: Mapping[str, str] | None = None,
    reference_notes: str | Sequence[str] | Mapping[str, str] | None = None,
    *,
    decimals: int = 2,
    levels: Sequence[float] = DEFAULT_LEVELS,
    ci_level: float | None = None,
    locale: str | Locale = "fr",
    coef_omit: Sequence[str] = (),
) -> Table:
    """Put several regression models side by side in one Table.

    Parameters
    ----------
    results : mapping of str to result
        Column name (e.g. ``"(1)"`` or ``"MCO"``) to a result with ``.coefficients`` and ``.fit``.
    stat : {"se", "ci"}, default "se"
        What goes under each coefficient: ``(se)`` or ``[ci_low ; ci_high]``.
    stars : bool, default True
        Append significance stars to the coefficients (and add the legend note).
    fit_rows : sequence of str
        Fit statistics shown at the bottom, in this order; rows missing from every model
        are dropped (``pseudo_r2`` for OLS, ``r2`` for a logit).
    coef_labels : mapping of str to str, optional
        Term to label. Listed terms come first, in the mapping's order; the other terms
        follow in order of appearance.
    reference_notes : str, list of str or mapping, optional
        Reference categories of factors, written in the note; a mapping
        ``{"Forme juridique": "association"}`` gives ``Forme juridique = association``.
    decimals : int, default 2
        Decimals of coefficients and their SE/CI.
    levels : sequence of float, default (0.05, 0.01, 0.001)
    ci_level : float, optional
        Level of the intervals, only used in the note text; default the models'
        ``conf_level`` attribute when they agree, else 0.95.
    locale : {"fr", "en"}, default "fr"
        Language of the labels (numbers follow the Table's locale at render time).
    coef_omit : sequence of str
        Terms left out of the table.

    Returns
    -------
    Table
        Stub column ``term``; one column per model.

    Raises
    ------
    InputError
        If a result lacks the expected attributes or columns.
    ConfigError
        For an unknown ``stat`` or fit row, or no model.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> c = pd.DataFrame({"estimate": [0.5], "se": [0.25], "statistic": [2.0], "p_value": [0.046],
    ...                   "ci_low": [0.01], "ci_high": [0.99]}, index=["x"])
    >>> m = SimpleNamespace(coefficients=c, fit=pd.Series({"n": 50}))
    >>> model_table({"A": m}, stat="ci", locale="en").with_locale("en").render().body_text()
    [['x', '0.50*'], ['', '[0.01, 0.99]'], ['N', '50']]
    """
    if not results:
        raise ConfigError("model_table() needs at least one model.")
    if stat not in ("se", "ci"):
        raise ConfigError(f"model_table(): stat must be 'se' or 'ci', got {stat!r}.")
    loc = get_locale(locale)
    texts = _TEXTS[loc.code]
    fit_labels = FIT_LABELS[loc.code]
    unknown = [f for f in fit_rows if f not in fit_labels]
    if unknown:
        raise ConfigError(
            f"model_table(): unknown fit row(s) {unknown}; expected some of {list(fit_labels)}."
        )
    levels = tuple(levels)
    names = [str(k) for k in results]
    checked = {str(k): _check_result(str(k), v) for k, v in results.items()}

    terms: list[str] = []
    for coefs, _ in checked.values():
        for t in coefs.index:
            if str(t) not in terms and str(t) not in coef_omit:
                terms.append(str(t))
    labels = dict(coef_labels or {})
    cuts = {str(t) for res in results.values() for t in (getattr(res, "thresholds", None) or ())}
    ordered = [t for t in labels if t in terms] + [t for t in terms if t not in labels]
    # cut points of ordinal models go last, in a group of their own, without stars
    ordered = [t for t in ordered if t not in cuts] + [t for t in ordered if t in cuts]
    n_cut_terms = sum(t in cuts for t in ordered)
    if ci_level is None:
        levels_found = {getattr(res, "conf_level", None) for res in results.values()}
        ci_level = levels_found.pop() if len(levels_found) == 1 and None not in levels_found else 0.95

    def term_label(t: str) -> str:
        if t in labels:
            return labels[t]
        return texts["constant"] if t in INTERCEPT_TERMS else t

    rows: list[dict[str, object]] = []
    for t in ordered:
        top: dict[str, object] = {"term": term_label(t)}
        below: dict[str, object] = {"term": ""}
        for name in names:
            coefs, _ = checked[name]
            match = [i for i in coefs.index if str(i) == t]
            if not match:
                top[name] = below[name] = None
                continue
            row = coefs.loc[match[0]]
            if is_missing(row["estimate"]):
                top[name] = below[name] = None
                continue
            shown = [row["se"]] if stat == "se" else [row["ci_low"], row["ci_high"]]
            sig = not is_missing(row["p_value"]) and float(row["p_value"]) < max(levels)
            d = _decimals_for(float(row["estimate"]), [float(v) for v in shown if not is_missing(v)], decimals,
                              significant=sig)
            top[name] = _Coef(float(row["estimate"]), row["p_value"], stars and t not in cuts, levels, d)
            if stat == "se":
                below[name] = None if is_missing(row["se"]) else _Stat(float(row["se"]), None, d)
            else:
                lo, hi = row["ci_low"], row["ci_high"]
                below[name] = None if is_missing(lo) or is_missing(hi) else _Stat(float(lo), float(hi), d)
        rows += [top, below]
    n_coef_rows = len(rows)
    for f in fit_rows:
        values = {name: checked[name][1].get(f) for name in names}
        if all(is_missing(v) for v in values.values()):
            continue
        row_f: dict[str, object] = {"term": fit_labels[f]}
        for name, v in values.items():
            # APA: no leading zero for the R² (bounded by 1)
            row_f[name] = None if is_missing(v) else _Fit(float(v), _FIT_DECIMALS[f], f not in _BOUNDED_FIT)
        rows.append(row_f)

    frame = pd.DataFrame(rows, columns=["term", *names], dtype=object)
    table = (
        Table(frame)
        .tab_stub("term")
        .cols_label({"term": texts["term"]})
        .fmt(names, _format_cell, numeric=True)
        .cols_align("center", names)
        .with_locale(loc)
        .sub_missing("")
    )
    if n_cut_terms:
        first_cut = n_coef_rows - 2 * n_cut_terms
        table = table.tab_row_group(texts["thresholds"], list(range(first_cut, n_coef_rows)))
    if len(rows) > n_coef_rows:
        # An empty group label draws a rule between coefficients and fit statistics.
        table = table.tab_row_group("", list(range(n_coef_rows, len(rows))))
    note = texts["se_note"] if stat == "se" else texts["ci_note"].format(
        level=f"{format_number(ci_level * 100, 0, loc)}{loc.percent}"
    )
    table = table.tab_note(note)
    if reference_notes:
        if isinstance(reference_notes, str):
            items = [reference_notes]
        elif isinstance(reference_notes, Mapping):
            items = [f"{k} = {v}" for k, v in reference_notes.items()]
        else:
            items = [str(x) for x in reference_notes]
        table = table.tab_note(texts["reference"].format(colon=texts["colon"], items=loc.list_sep.join(items)))
    if stars:
        table = table.tab_stars_note(levels)
    return table

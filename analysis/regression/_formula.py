"""Formulas to design matrices: outcome, design matrix and terms, listwise on the formula's variables.

:func:`_design` builds them with patsy (names in a formula are looked up in the data, then in
this module - ``np``, ``pd`` - then in patsy's builtins such as ``C`` and ``I``); text columns
become pandas Categoricals first, which patsy codes at once.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.errors import InputError

__all__: list[str] = []


def _ordinal_labels(values) -> list[str]:
    out = []
    for v in values:
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            out.append(str(int(v)))
        else:
            out.append(str(v))
    return out


def _categorical_text(data: pd.DataFrame, rhs: str) -> pd.DataFrame:
    """Text columns named in ``rhs`` as pandas Categoricals (sorted levels, as patsy's own).

    patsy sniffs the levels of a text column value by value in Python (slow on large
    data, slower still on Arrow-backed strings); a Categorical gives them at once. The
    design matrix is the same: patsy sorts the observed levels of a text column, and
    ``pd.Categorical`` sorts its categories the same way; missing values stay missing.
    """
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", rhs))
    conv = {}
    for c in data.columns:
        if c not in names:
            continue
        dt = data[c].dtype
        if isinstance(dt, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dt):
            continue
        if isinstance(dt, pd.StringDtype) or (
            pd.api.types.is_object_dtype(dt) and pd.api.types.infer_dtype(data[c], skipna=True) == "string"
        ):
            conv[c] = pd.Categorical(data[c].astype(object).where(data[c].notna(), None))
    return data.assign(**conv) if conv else data


def _categorical_C(data, contrast=None, levels=None):
    """patsy's ``C()``, passing a pandas Categorical through unboxed when nothing is set.

    ``C(x)`` boxes its argument, and patsy then maps a boxed column to level codes value by
    value in Python; a bare Categorical is coded at once from its own codes. Both give the
    same levels (the Categorical's categories), the same default treatment coding and the
    same column names (taken from the formula text, ``C(x)[T.level]``).
    """
    from patsy.builtins import C
    from patsy.util import safe_is_pandas_categorical

    if contrast is None and levels is None and safe_is_pandas_categorical(data):
        return data
    return C(data, contrast, levels)


def _design(formula: str, data: pd.DataFrame, model: str):
    """Outcome vector, design matrix (DataFrame) and term -> columns, listwise on formula vars."""
    import patsy

    if "~" not in formula:
        raise InputError("a formula needs '~'", value=formula, expected="'outcome ~ predictors'")
    lhs, rhs = formula.split("~", 1)
    lhs = lhs.strip()
    data = _categorical_text(data, rhs)
    # names are looked up as before (data, then this module, then patsy's builtins), with C()
    # first: the fast path for Categoricals above
    env = patsy.EvalEnvironment.capture(0)
    env = patsy.EvalEnvironment([{"C": _categorical_C}, env.namespace], env.flags)
    try:
        X = patsy.dmatrix(rhs, data, return_type="dataframe", NA_action="drop", eval_env=env)
    except patsy.PatsyError as exc:
        raise InputError(f"cannot build the design matrix: {exc}", value=rhs) from exc
    term_columns = {
        name: list(X.columns[sl]) for name, sl in X.design_info.term_name_slices.items()
    }
    if model == "ordinal":
        if lhs not in data.columns:
            raise InputError("the outcome of an ordinal model must be a column name", value=lhs)
        y_raw = data.loc[X.index, lhs]
        keep = y_raw.notna()
        X, y_raw = X.loc[keep], y_raw.loc[keep]
        if isinstance(y_raw.dtype, pd.CategoricalDtype):
            levels = [c for c in y_raw.cat.categories if (y_raw == c).any()]
            codes = pd.Categorical(y_raw, categories=levels).codes
        else:
            try:
                levels = sorted(pd.unique(y_raw))
            except TypeError as exc:
                raise InputError("ordinal outcome levels cannot be ordered; give an ordered "
                                 "categorical", column=lhs) from exc
            codes = pd.Categorical(y_raw, categories=levels).codes
        if len(levels) < 3:
            raise InputError("an ordinal outcome needs at least 3 observed levels", column=lhs,
                             value=len(levels))
        X = X.drop(columns=[c for c in X.columns if c == "Intercept"])
        term_columns.pop("Intercept", None)
        y = pd.Series(codes.astype(float), index=X.index, name=lhs)
        return y, X, term_columns, _ordinal_labels(levels)
    try:
        Y = patsy.dmatrix(lhs + " - 1", data.loc[X.index], return_type="dataframe",
                          NA_action="drop", eval_env=env)
    except patsy.PatsyError as exc:
        raise InputError(f"cannot evaluate the outcome: {exc}", value=lhs) from exc
    if Y.shape[1] == 2:  # a two-level factor or boolean: success = second level
        Y = Y.iloc[:, [1]]
    if Y.shape[1] != 1:
        raise InputError("the outcome must be one numeric column (or a two-level factor for logit)",
                         value=lhs)
    X = X.loc[Y.index]
    y = Y.iloc[:, 0].astype(float).rename(lhs)
    if model == "logit" and not np.isin(y.unique(), [0.0, 1.0]).all():
        raise InputError("a logit outcome must be 0/1, boolean or a two-level factor", column=lhs,
                         value=sorted(y.unique())[:5])
    if model in ("poisson", "negbin") and ((y < 0).any() or (y != np.floor(y)).any()):
        raise InputError("a count outcome must hold non-negative integers", column=lhs)
    return y, X, term_columns, None


def _variables_in(formula: str, data: pd.DataFrame) -> list[str]:
    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", formula)
    seen = []
    for t in tokens:
        if t in data.columns and t not in seen:
            seen.append(t)
    return seen

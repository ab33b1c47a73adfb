"""Descriptive statistics of survey variables.

* :func:`describe`: the right summary for each kind of variable (numeric, categorical,
  multiple-choice), overall and by group, unweighted or with frequency-style weights, in one
  tidy long table.
* :func:`likert_distribution`: share of each scale point of Likert items, with n, mean, SD,
  top-2-box and bottom-2-box, in a tidy long table (one row per item and scale point).

Weights here are *frequency-style*: a weight ``w_i`` counts observation ``i`` ``w_i`` times,
so means, shares and quantiles are the weighted (population-scale) point estimates. Their
standard errors under the sampling design are given by :mod:`analysis.survey`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.errors import InputError

__all__ = ["DESCRIBE_COLUMNS", "LIKERT_COLUMNS", "describe", "likert_distribution",
           "weighted_quantile"]

#: Columns of the table returned by :func:`describe`.
DESCRIBE_COLUMNS: tuple[str, ...] = (
    "variable", "label", "kind", "group", "level", "level_label", "n", "missing",
    "n_weighted", "mean", "sd", "median", "q1", "q3", "min", "max", "count", "percent",
)

#: Columns of the table returned by :func:`likert_distribution`.
LIKERT_COLUMNS: tuple[str, ...] = (
    "item", "label", "group", "value", "value_label", "count", "percent", "n", "missing",
    "mean", "sd", "top2_box", "bottom2_box",
)

TOTAL = "Total"


# ====================================================================== weighted helpers
def weighted_quantile(x: np.ndarray, w: np.ndarray | None, q: float) -> float:
    """Quantile of ``x`` (with weights ``w``).

    Notes
    -----
    Unweighted: R's default ``quantile(type = 7)`` (linear interpolation of order statistics).
    Weighted: inverse of the weighted empirical distribution function, the smallest ``x`` with
    ``sum(w[x_j <= x]) >= q * sum(w)`` (``survey::svyquantile(qrule = "math")``; with integer
    weights, R's ``quantile(rep(x, w), type = 1)``).

    Examples
    --------
    >>> from analysis.descriptives._describe import weighted_quantile
    >>> weighted_quantile(np.array([1.0, 2, 3, 4]), None, 0.5)  # R: quantile(1:4, 0.5)
    2.5
    >>> weighted_quantile(np.array([1.0, 2, 3]), np.array([1.0, 1, 2]), 0.5)
    2.0
    """
    x = np.asarray(x, dtype=float)
    if len(x) == 0:
        return np.nan
    if w is None:
        return float(np.quantile(x, q))
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], np.asarray(w, dtype=float)[order]
    cw = np.cumsum(ws)
    total = cw[-1]
    idx = np.searchsorted(cw, q * total * (1 - 1e-12), side="left")
    return float(xs[min(idx, len(xs) - 1)])


def _weighted_mean_sd(x: np.ndarray, w: np.ndarray | None) -> tuple[float, float]:
    if len(x) == 0:
        return np.nan, np.nan
    if w is None:
        return float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else np.nan
    sw = w.sum()
    m = float(np.sum(w * x) / sw)
    var = float(np.sum(w * (x - m) ** 2) / (sw - 1)) if sw > 1 else np.nan
    return m, float(np.sqrt(var)) if np.isfinite(var) else np.nan


# ====================================================================== codebook handling
def _parse_values(text) -> dict[str, str]:
    out: dict[str, str] = {}
    if not isinstance(text, str) or not text.strip():
        return out
    for part in text.split("; "):
        if "=" in part:
            code, lab = part.split("=", 1)
            out[code.strip()] = lab.strip()
    return out


class _Spec:
    """What :func:`describe` needs to know about one variable."""

    def __init__(self, name, kind, label=None, levels=None, options=None, missing_codes=()):
        self.name = name
        self.kind = kind
        self.label = label if label is not None else name
        self.levels = levels  # dict code -> label (ordered), categorical
        self.options = options  # dict column -> option label, multi
        self.missing_codes = set(missing_codes)
        self.order = None  # levels of a categorical without codebook (from the whole data)


def _sorted_levels(vals: pd.Series) -> list:
    if isinstance(vals.dtype, pd.CategoricalDtype):
        return list(vals.cat.categories)
    return sorted(pd.unique(vals.dropna()), key=lambda v: (str(type(v)), v))


def _codebook_frame(codebook) -> pd.DataFrame | None:
    if codebook is None:
        return None
    if isinstance(codebook, pd.DataFrame):
        if "variable" not in codebook.columns or "type" not in codebook.columns:
            raise InputError("a codebook needs the columns 'variable' and 'type'",
                             expected="the table of analysis.study._instrument.codebook()")
        return codebook.set_index("variable", drop=False)
    raise InputError("codebook must be a DataFrame", value=type(codebook).__name__)


def _spec_for(name: str, data: pd.DataFrame, cb: pd.DataFrame | None) -> _Spec:
    option_cols = [c for c in data.columns if c.startswith(f"{name}/")]
    if cb is not None and name in cb.index:
        row = cb.loc[name]
        label = row.get("label_fr", name)
        label = label if isinstance(label, str) and label else name
        codes = [c for c in str(row.get("missing_codes", "") or "").split(";") if c]
        typ = row["type"]
        if typ == "select_multiple":
            opts = {}
            for c in option_cols:
                lab = cb.loc[c, "label_fr"] if c in cb.index else c
                opts[c] = str(lab).split(" : ", 1)[-1]
            return _Spec(name, "multi", label, options=opts, missing_codes=codes)
        if typ in ("integer", "decimal", "select_multiple_option") and name in data.columns:
            # exports hold text: the codebook type decides, values are converted
            return _Spec(name, "numeric", label, missing_codes=codes)
        if typ == "select_one":
            return _Spec(name, "categorical", label, levels=_parse_values(row.get("values")),
                         missing_codes=codes)
    if name not in data.columns:
        if option_cols:
            return _Spec(name, "multi", options={c: c.split("/", 1)[1] for c in option_cols})
        raise InputError("variable not found", column=name, expected="a column of data")
    s = data[name]
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        return _Spec(name, "categorical")
    return _Spec(name, "numeric")


def _clean(series: pd.Series, spec: _Spec) -> pd.Series:
    """Missing codes and empty texts (how exports write a skipped question) -> missing."""
    if not pd.api.types.is_numeric_dtype(series):
        blank = series.astype("string").str.strip().eq("").fillna(False).astype(bool)
        if blank.any():
            series = series.mask(blank)
    if not spec.missing_codes:
        return series
    as_text = series.astype("string")
    codes = {str(c) for c in spec.missing_codes}
    # numeric codes such as 98 also match "98.0"
    alt = {f"{float(c):g}" for c in codes if _is_number(c)}
    mask = as_text.isin(codes) | as_text.map(lambda v: _fmt_num(v) in alt,
                                             na_action="ignore").fillna(False).astype(bool)
    return series.mask(mask)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _fmt_num(v) -> str:
    try:
        return f"{float(v):g}"
    except (TypeError, ValueError):
        return ""


# ====================================================================== describe
def _summaries(spec: _Spec, sub: pd.DataFrame, w: np.ndarray | None, group) -> list[dict]:
    base = {"variable": spec.name, "label": spec.label, "kind": spec.kind, "group": group}
    rows: list[dict] = []
    if spec.kind == "numeric":
        s = pd.to_numeric(_clean(sub[spec.name], spec), errors="coerce")
        ok = s.notna().to_numpy()
        x = s.to_numpy(dtype=float)[ok]
        ww = None if w is None else w[ok]
        m, sd = _weighted_mean_sd(x, ww)
        rows.append({
            **base, "n": int(ok.sum()), "missing": int((~ok).sum()),
            "n_weighted": float(ok.sum() if ww is None else ww.sum()), "mean": m, "sd": sd,
            "median": weighted_quantile(x, ww, 0.5), "q1": weighted_quantile(x, ww, 0.25),
            "q3": weighted_quantile(x, ww, 0.75),
            "min": float(x.min()) if len(x) else np.nan,
            "max": float(x.max()) if len(x) else np.nan,
        })
    elif spec.kind == "categorical":
        s = _clean(sub[spec.name], spec)
        ok = s.notna().to_numpy()
        vals = s[ok]
        ww = np.ones(int(ok.sum())) if w is None else w[ok]
        n_w = float(ww.sum())
        if spec.levels:
            keys = list(spec.levels)
            as_text = vals.map(lambda v: _fmt_num(v) if _fmt_num(v) and not isinstance(v, str)
                               else str(v))
            known = [k for k in keys if k not in spec.missing_codes]
            extra = sorted(set(as_text) - set(known))
            order = known + extra
            labels = {**{k: spec.levels.get(k, k) for k in order}}
            grouped = pd.Series(ww, index=as_text.index).groupby(as_text.to_numpy()).sum()
        else:
            order = spec.order if spec.order is not None else _sorted_levels(vals)
            labels = {v: str(v) for v in order}
            grouped = pd.Series(ww, index=vals.index).groupby(vals.to_numpy()).sum()
        for level in order:
            count = float(grouped.get(level, 0.0))
            rows.append({
                **base, "level": level, "level_label": labels.get(level, str(level)),
                "n": int(ok.sum()), "missing": int((~ok).sum()), "n_weighted": n_w,
                "count": count, "percent": 100 * count / n_w if n_w > 0 else np.nan,
            })
    else:  # multi
        cols = list(spec.options)
        block = sub[cols].apply(pd.to_numeric, errors="coerce")
        ok = block.notna().any(axis=1).to_numpy()
        ww = np.ones(int(ok.sum())) if w is None else w[ok]
        n_w = float(ww.sum())
        for c in cols:
            sel = block[c].to_numpy()[ok]
            count = float(np.nansum(ww * (sel == 1)))
            rows.append({
                **base, "level": c.split("/", 1)[-1], "level_label": spec.options[c],
                "n": int(ok.sum()), "missing": int((~ok).sum()), "n_weighted": n_w,
                "count": count, "percent": 100 * count / n_w if n_w > 0 else np.nan,
            })
    return rows


def _weights(data: pd.DataFrame, weights) -> np.ndarray | None:
    if weights is None:
        return None
    if isinstance(weights, str) and weights not in data.columns:
        raise InputError("weight column not found", column=weights)
    w = data[weights] if isinstance(weights, str) else pd.Series(weights, index=data.index)
    w = pd.to_numeric(w, errors="coerce")
    if w.isna().any() or (w < 0).any():
        raise InputError("weights must be non-negative numbers without missing values",
                         column=weights if isinstance(weights, str) else None)
    return w.to_numpy(dtype=float)


def describe(
    data: pd.DataFrame,
    variables: Sequence[str] | None = None,
    by: str | None = None,
    weights: str | Sequence[float] | None = None,
    codebook: pd.DataFrame | None = None,
    *,
    total: bool = True,
) -> pd.DataFrame:
    """Summaries of survey variables, overall and by group, in one tidy table.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    variables : sequence of str, optional
        Variables to describe (default: every column except ``by`` and the weight column).
        A multiple-choice question is named by its stem: ``target_groups`` describes the 0/1
        columns ``target_groups/women``, ``target_groups/children``...
    by : str, optional
        Grouping column (e.g. ``sector``); rows with a missing group are left out
        of the groups but kept in the total.
    weights : str or array-like, optional
        Frequency-style weights (column name or values).
    codebook : pandas.DataFrame, optional
        :func:`analysis.study._instrument.codebook`: gives the kind of each variable (``integer``,
        ``decimal`` -> numeric; ``select_one`` -> categorical with the levels in form order and
        their French labels; ``select_multiple`` -> multiple choice), its label and its
        missing codes ("Je ne sais pas", "Refus"), which count as missing, as do empty
        texts (a skipped question in an export). Without it: numeric
        dtypes are numeric, other columns categorical (levels sorted), stems with ``stem/...``
        columns multiple choice.
    total : bool
        Add the rows of the whole sample (``group = "Total"``) when ``by`` is given.

    Returns
    -------
    pandas.DataFrame
        Columns (:data:`DESCRIBE_COLUMNS`): ``variable``, ``label``, ``kind`` (``numeric``,
        ``categorical``, ``multi``), ``group`` (``"Total"`` or the group value), ``level`` and
        ``level_label`` (categorical level or option; NaN for numeric), ``n`` (valid
        answers, unweighted), ``missing`` (unweighted), ``n_weighted`` (sum of weights of the
        valid answers; = n unweighted), ``mean``, ``sd``, ``median``, ``q1``, ``q3``, ``min``,
        ``max`` (numeric), ``count`` (weighted count of the level or of the option selected)
        and ``percent`` (``100 count / n_weighted``: valid percent; for a multiple choice the
        share of respondents selecting the option, so options may sum above 100).

    Raises
    ------
    analysis.errors.InputError
        A variable or the group or weight column is missing, or weights are invalid.

    Notes
    -----
    Weighted mean ``sum w x / sum w``; SD ``sqrt(sum w (x - m)^2 / (sum w - 1))`` (frequency
    weights, ``Hmisc::wtd.var(normwt = FALSE)``); quantiles: :func:`weighted_quantile`.
    Unweighted SD uses ``n - 1`` and quantiles R's type 7 (``sd``, ``quantile``).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.descriptives._describe import describe
    >>> d = pd.DataFrame({"age": [3, 8, 15, 4], "form": ["asso", "coop", "asso", "coop"]})
    >>> t = describe(d, ["age", "form"])  # R: summary(d$age); prop.table(table(d$form))
    >>> t.loc[t["variable"] == "age", ["n", "mean", "median"]].to_numpy().tolist()
    [[4.0, 7.5, 6.0]]
    >>> t.loc[t["variable"] == "form", "percent"].tolist()
    [50.0, 50.0]
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a pandas DataFrame", value=type(data).__name__)
    if by is not None and by not in data.columns:
        raise InputError("group column not found", column=by)
    cb = _codebook_frame(codebook)
    w_all = _weights(data, weights)
    if variables is None:
        skip = {by, weights if isinstance(weights, str) else None}
        stems: list[str] = []
        for c in data.columns:
            if c in skip:
                continue
            stem = c.split("/", 1)[0] if "/" in c else c
            if stem not in stems:
                stems.append(stem)
        variables = stems
    specs = [_spec_for(v, data, cb) for v in variables]
    for spec in specs:
        if spec.kind == "categorical" and not spec.levels:
            spec.order = _sorted_levels(_clean(data[spec.name], spec))
    rows: list[dict] = []
    groups: list[tuple[object, np.ndarray]] = []
    if by is None or total:
        groups.append((TOTAL, np.ones(len(data), dtype=bool)))
    if by is not None:
        gcol = data[by]
        levels = (list(gcol.cat.categories) if isinstance(gcol.dtype, pd.CategoricalDtype)
                  else sorted(gcol.dropna().unique(), key=lambda v: (str(type(v)), v)))
        groups += [(g, (gcol == g).to_numpy()) for g in levels]
    for spec in specs:
        # only this variable's columns are subset (not the whole frame for each variable and group)
        cols = [spec.name] if spec.name in data.columns else []
        cols += [c for c in (spec.options or {}) if c in data.columns and c not in cols]
        frame = data[cols]
        for g, mask in groups:
            sub = frame if mask.all() else frame.loc[mask]
            w = None if w_all is None else w_all[mask]
            rows.extend(_summaries(spec, sub, w, g))
    out = pd.DataFrame(rows).reindex(columns=list(DESCRIBE_COLUMNS))
    for c in ["n", "missing", "n_weighted", "mean", "sd", "median", "q1", "q3", "min", "max",
              "count", "percent"]:
        out[c] = out[c].astype("float64")
    out.attrs["by"] = by
    out.attrs["weights"] = weights if isinstance(weights, str) else (
        None if weights is None else "values")
    return out


# ====================================================================== Likert items
def likert_distribution(
    data: pd.DataFrame,
    items: Sequence[str],
    labels: Mapping[str, str] | None = None,
    *,
    points: Sequence[float] = (1, 2, 3, 4, 5),
    point_labels: Mapping[float, str] | None = None,
    by: str | None = None,
    weights: str | Sequence[float] | None = None,
) -> pd.DataFrame:
    """Distribution of Likert items: share per scale point, n, mean, top- and bottom-2-box.

    Parameters
    ----------
    data : pandas.DataFrame
    items : sequence of str
        Item columns (numeric codes).
    labels : mapping, optional
        Item -> label (default: the item name).
    points : sequence of float
        Scale points, in order (default 1-5). Values outside them (e.g. 98 "Je ne sais pas")
        count as missing.
    point_labels : mapping, optional
        Scale point -> label (e.g. ``{1: "Pas du tout d'accord", ...}``).
    by : str, optional
        Grouping column; ``group`` is ``"Total"`` without it.
    weights : str or array-like, optional
        Frequency-style weights.

    Returns
    -------
    pandas.DataFrame
        One row per item (x group) and scale point; columns (:data:`LIKERT_COLUMNS`):
        ``item``, ``label``, ``group``, ``value`` (scale point), ``value_label``, ``count``
        (weighted), ``percent`` (of valid answers, 0-100), and per item, repeated on its rows,
        ``n`` (valid answers, unweighted), ``missing``, ``mean``, ``sd``, ``top2_box``
        (percent in the two highest points), ``bottom2_box`` (two lowest points).

    Notes
    -----
    ``percent_k = 100 sum_{x_i = k} w_i / sum w_i``; mean and SD as in :func:`describe`.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.descriptives._describe import likert_distribution
    >>> d = pd.DataFrame({"q1": [1, 2, 4, 5, 5, 98]})
    >>> t = likert_distribution(d, ["q1"])  # R: prop.table(table(factor(d$q1, 1:5)))
    >>> t["percent"].tolist()
    [20.0, 20.0, 0.0, 20.0, 40.0]
    >>> float(t["top2_box"].iloc[0]), int(t["missing"].iloc[0])
    (60.0, 1)
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a pandas DataFrame", value=type(data).__name__)
    points = [float(p) for p in points]
    if len(points) < 4:
        raise InputError("a Likert scale needs at least 4 points for top/bottom-2-box",
                         value=len(points))
    labels = dict(labels or {})
    point_labels = {float(k): v for k, v in (point_labels or {}).items()}
    w_all = _weights(data, weights)
    if by is not None and by not in data.columns:
        raise InputError("group column not found", column=by)
    groups: list[tuple[object, np.ndarray]] = [(TOTAL, np.ones(len(data), dtype=bool))]
    if by is not None:
        gcol = data[by]
        levels = sorted(gcol.dropna().unique(), key=lambda v: (str(type(v)), v))
        groups += [(g, (gcol == g).to_numpy()) for g in levels]
    rows = []
    for item in items:
        if item not in data.columns:
            raise InputError("item not found", column=item)
        x_all = pd.to_numeric(data[item], errors="coerce").to_numpy(dtype=float)
        for g, mask in groups:
            x = x_all[mask]
            w = np.ones(len(x)) if w_all is None else w_all[mask]
            ok = np.isin(x, points)
            xv, wv = x[ok], w[ok]
            total_w = wv.sum()
            m, sd = _weighted_mean_sd(xv, None if w_all is None else wv)
            share = {p: (100 * wv[xv == p].sum() / total_w if total_w > 0 else np.nan)
                     for p in points}
            top2 = share[points[-1]] + share[points[-2]]
            bottom2 = share[points[0]] + share[points[1]]
            for p in points:
                rows.append({
                    "item": item, "label": labels.get(item, item), "group": g, "value": p,
                    "value_label": point_labels.get(p, f"{p:g}"),
                    "count": float(wv[xv == p].sum()), "percent": share[p],
                    "n": int(ok.sum()), "missing": int((~ok).sum()), "mean": m, "sd": sd,
                    "top2_box": top2, "bottom2_box": bottom2,
                })
    out = pd.DataFrame(rows, columns=list(LIKERT_COLUMNS))
    if by is None:
        out = out[out["group"] == TOTAL].reset_index(drop=True)
    return out

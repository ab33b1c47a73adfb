"""Constructs measured by the questionnaire: specification and scores.

The specification lives in ``questionnaire/constructs.yaml``: for each
construct its dimensions, their Likert items, the reverse-keyed items, the
scoring rule, and the hypothesised measurement model in lavaan syntax. It is
checked against the questionnaire when loaded, so an item that is not a Likert
question of the form stops everything with a :class:`~analysis.errors.ConfigError`
naming it (the file is read by :mod:`analysis.study._construct_spec`).

Scores (:func:`score_constructs`) are the classical "mean of the items after
reversal" scale scores, with a minimum number of valid items; the formative
hybridisation index (:func:`hybridisation`) is computed from the funding
shares. Both are vectorised over rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import ConfigError, InputError
from analysis.study._construct_spec import (
    DEFAULT_CONSTRUCTS_PATH,
    Construct,
    ConstructSpec,
    Dimension,
    check_constructs,
    parse_constructs,
)
from analysis.study._instrument import load_questionnaire
from analysis.study._problems import StudyError
from analysis.study._yaml import read_yaml

__all__ = [
    "DEFAULT_CONSTRUCTS_PATH",
    "Dimension",
    "Construct",
    "ConstructSpec",
    "load_constructs",
    "score_constructs",
    "prepare_items",
    "hybridisation",
    "construct_reliability",
]


def load_constructs(path: str | Path | None = None, questionnaire=None) -> ConstructSpec:
    """Read ``constructs.yaml`` and check it against the questionnaire.

    Parameters
    ----------
    path : str or Path, optional
        Default ``questionnaire/constructs.yaml``.
    questionnaire : Questionnaire, optional
        The instrument to check against. Default: the questionnaire in the same
        folder as ``path`` (or ``config.QUESTIONNAIRE_DIR``).

    Returns
    -------
    ConstructSpec

    Raises
    ------
    ConfigError
        If the file is missing or malformed, or an item is not a Likert question
        of the instrument (the message names the item), or the lavaan model
        uses an unknown variable.

    Examples
    --------
    >>> spec = load_constructs()
    >>> spec.names[:2]
    ['si_presence', 'internal_capacity']
    >>> spec["si_presence"].dimensions[0].items
    ('si_nov_01', 'si_nov_02', 'si_nov_03', 'si_nov_04')
    """
    p = Path(path) if path is not None else config.QUESTIONNAIRE_DIR / "constructs.yaml"
    doc = read_yaml(p)
    spec = parse_constructs(doc)
    if questionnaire is None:
        folder = p.parent if (p.parent / "survey.csv").exists() else config.QUESTIONNAIRE_DIR
        questionnaire = load_questionnaire(folder)
    problems = check_constructs(spec, questionnaire, doc)
    if problems:
        raise StudyError(problems[:1])
    return spec


# ---------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------


def _matrix(data: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> np.ndarray:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise InputError("the data lack column(s) needed for scoring", column=missing[0],
                         expected=f"all of {', '.join(columns)}")
    if not len(columns):
        return np.empty((len(data), 0))
    return np.column_stack([
        pd.to_numeric(data[c], errors="coerce").to_numpy(dtype="float64", na_value=np.nan) for c in columns
    ])


def _clean_items(data: pd.DataFrame, items: list[str], reverse: set[str], spec: ConstructSpec) -> np.ndarray:
    lo, hi = spec.scale_min, spec.scale_max
    x = _matrix(data, items)
    x[np.isin(x, np.asarray(spec.missing_codes, dtype="float64")) | (x < lo) | (x > hi)] = np.nan
    rev = np.array([i in reverse for i in items], dtype=bool)
    if rev.any():
        x[:, rev] = (lo + hi) - x[:, rev]
    return x


def prepare_items(data: pd.DataFrame, spec: ConstructSpec | None = None, *,
                  construct: str | None = None, reverse: bool = True) -> pd.DataFrame:
    """Likert items ready for reliability, EFA or CFA: codes as numbers, missing codes as NaN.

    Parameters
    ----------
    data : pandas.DataFrame
        Item columns (numbers or numeric strings).
    spec : ConstructSpec, optional
        Default :func:`load_constructs`.
    construct : str, optional
        Only the items of this construct (default: every construct's items).
    reverse : bool, default True
        Recode the reverse-keyed items ``(scale_min + scale_max) - x`` so that
        every item points the same way.

    Returns
    -------
    pandas.DataFrame
        Same index as ``data``, one float column per item (named as the item),
        with ``spec.missing_codes`` and out-of-range values set to NaN.

    Examples
    --------
    >>> import pandas as pd
    >>> spec = load_constructs()
    >>> items = list(spec["si_presence"].items)
    >>> df = pd.DataFrame([[4] * len(items), [98] * len(items)], columns=items)
    >>> out = prepare_items(df, spec, construct="si_presence")  # si_nov_04 is reverse-keyed
    >>> float(out.loc[0, "si_nov_01"]), float(out.loc[0, "si_nov_04"]), bool(out.loc[1].isna().all())
    (4.0, 2.0, True)
    """
    spec = spec if spec is not None else load_constructs()
    items = spec[construct].items if construct is not None else spec.items
    rev = set(spec.reverse_items) if reverse else set()
    return pd.DataFrame(_clean_items(data, items, rev, spec), index=data.index, columns=items)


def _mean_min_valid(x: np.ndarray, min_valid: int) -> np.ndarray:
    valid = ~np.isnan(x)
    n = valid.sum(axis=1)
    total = np.where(valid, x, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    return np.where(n >= min_valid, mean, np.nan)


def score_constructs(data: pd.DataFrame, spec: ConstructSpec | None = None, *,
                     include_hybridisation: bool = True) -> pd.DataFrame:
    """Scale scores of every construct and dimension.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per organisation, with the Likert item columns (numbers or
        numeric strings; KoboToolbox codes).
    spec : ConstructSpec, optional
        Default :func:`load_constructs`.
    include_hybridisation : bool, default True
        Also add the formative hybridisation columns (see :func:`hybridisation`)
        when the share columns are present.

    Returns
    -------
    pandas.DataFrame
        Same index as ``data``; one float column per score:
        ``score_<construct>`` and ``score_<construct>__<dimension>``
        (NaN when too few valid items).

    Notes
    -----
    For each item, the codes in ``spec.missing_codes`` (97, 98, 99) and any
    value outside ``[scale_min, scale_max]`` are missing; reverse-keyed items
    are recoded ``(scale_min + scale_max) - x``. A dimension score is the mean
    of its valid items if at least ``min_valid`` are valid. A construct score
    is the mean of its dimension scores (rule ``mean_of_dimensions``, at least
    ``min_valid_dimensions`` of them) or of all its valid items (rule
    ``mean_of_items``, at least ``min_valid``).

    Examples
    --------
    >>> scores = score_constructs(df)            # doctest: +SKIP
    >>> scores["score_si_presence"].describe()   # doctest: +SKIP
    """
    spec = spec if spec is not None else load_constructs()
    out: dict[str, np.ndarray] = {}
    for c in spec.reflective:
        x = _clean_items(data, c.items, set(c.reverse), spec)
        dim_scores = []
        start = 0
        for d in c.dimensions:
            block = x[:, start:start + len(d.items)]
            start += len(d.items)
            s = _mean_min_valid(block, d.min_valid)
            out[d.score_column] = s
            dim_scores.append(s)
        if c.rule == "mean_of_dimensions":
            total = _mean_min_valid(np.column_stack(dim_scores), c.min_valid_dimensions)
        else:
            total = _mean_min_valid(x, c.min_valid)
        out[c.score_column] = total
    order = [col for c in spec.reflective for col in c.score_columns]
    result = pd.DataFrame({k: out[k] for k in order}, index=data.index)
    if include_hybridisation:
        for c in spec.formative:
            if all(s in data.columns for s in c.shares):
                result = pd.concat([result, hybridisation(data, spec, construct=c.name)], axis=1)
    return result


def hybridisation(data: pd.DataFrame, spec: ConstructSpec | None = None, *,
                  construct: str = "hybridisation", normalize: bool = True) -> pd.DataFrame:
    """Formative resource-hybridisation index from the funding shares.

    Parameters
    ----------
    data : pandas.DataFrame
        Funding-share columns ``fund_<source>`` in percent (0-100); an empty
        share (source not ticked) counts as 0.
    spec : ConstructSpec, optional
        Default :func:`load_constructs`; gives the share columns.
    construct : str, default "hybridisation"
        Name of the formative construct in the spec.
    normalize : bool, default True
        Divide each share by the row total (equal to dividing by 100 when the
        shares sum to 100, as the form enforces); ``False`` divides by 100.

    Returns
    -------
    pandas.DataFrame
        Same index as ``data``; columns ``score_<construct>`` (= 1 - HHI),
        ``score_<construct>__hhi`` (HHI), ``score_<construct>__n_sources``
        (number of shares > 0; nullable integer), ``score_<construct>__market_share``
        (own market income as a proportion 0-1). A row whose shares are all
        empty or zero, or with a share below 0 or above 100, gets missing values.

    Notes
    -----
    With :math:`p_j = s_j / \\sum_k s_k`, :math:`HHI = \\sum_j p_j^2`, which lies
    in :math:`[1/k, 1]` for :math:`k` positive shares (1 = a single source).

    Examples
    --------
    >>> import pandas as pd
    >>> h = hybridisation(pd.DataFrame({"fund_dues": [60.0], "fund_donations": [30.0],
    ...                                 "fund_subsidy_indh": [10.0]}).reindex(
    ...     columns=load_constructs()["hybridisation"].shares))
    >>> round(float(h["score_hybridisation__hhi"].iloc[0]), 2)
    0.46
    """
    spec = spec if spec is not None else load_constructs()
    c = spec[construct]
    if c.kind != "formative":
        raise ConfigError(f"construct '{construct}' is not a formative index")
    s = _matrix(data, c.shares)
    all_empty = np.isnan(s).all(axis=1)
    bad = np.any((s < 0) | (s > 100 + 1e-9), axis=1)  # tolerance for float round-off
    s0 = np.where(np.isnan(s), 0.0, s)
    total = s0.sum(axis=1)
    invalid = all_empty | bad | (total <= 0)
    denom = total if normalize else np.full(len(s0), 100.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = s0 / denom[:, None]
    hhi = np.where(invalid, np.nan, (p * p).sum(axis=1))
    n_src = pd.array(np.where(invalid, 0, (s0 > 0).sum(axis=1)), dtype="Int64")
    n_src[invalid] = pd.NA
    if c.market_share:
        m = p[:, list(c.shares).index(c.market_share)]
        market = np.where(invalid, np.nan, m)
    else:
        market = np.full(len(s0), np.nan)
    col = c.score_column
    return pd.DataFrame(
        {col: 1.0 - hhi, f"{col}__hhi": hhi, f"{col}__n_sources": n_src, f"{col}__market_share": market},
        index=data.index,
    )


def construct_reliability(data: pd.DataFrame, spec: ConstructSpec | None = None, *,
                          omega_factors: int = 3) -> pd.DataFrame:
    """Reliability of every reflective construct and of each of its dimensions, in one call.

    Items are prepared as for scoring (:func:`prepare_items`: missing codes as NaN,
    reverse-keyed items recoded), then :func:`analysis.psychometrics._reliability.alpha` gives raw and
    standardised alpha with its Feldt interval, and, for a construct with at least
    ``omega_factors`` dimensions, :func:`analysis.psychometrics._reliability.omega` gives omega
    hierarchical and omega total (Schmid-Leiman with ``omega_factors`` group factors).

    Parameters
    ----------
    data : pandas.DataFrame
        Item columns (numbers or numeric strings).
    spec : ConstructSpec, optional
        Default :func:`load_constructs`.
    omega_factors : int, default 3
        Group factors of the omega analysis (capped at the number of dimensions).

    Returns
    -------
    pandas.DataFrame
        One row per construct (``dimension`` empty) and per dimension, with columns
        ``construct, dimension, k`` (items), ``n``, ``alpha``, ``std_alpha``, ``ci_low``,
        ``ci_high`` (Feldt), ``average_r``, ``omega_h``, ``omega_total`` (NaN where not
        computed).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> spec = load_constructs()
    >>> rng = np.random.default_rng(1)
    >>> items = spec["internal_capacity"].items
    >>> f = rng.normal(size=(300, 1))
    >>> X = np.clip(np.round(3 + f + rng.normal(scale=0.8, size=(300, len(items)))), 1, 5)
    >>> df = pd.DataFrame(X, columns=items)
    >>> for i in spec["internal_capacity"].reverse:
    ...     df[i] = 6 - df[i]
    >>> tab = construct_reliability(df, spec)
    >>> row = tab[(tab.construct == "internal_capacity") & (tab.dimension == "")]
    >>> bool(row["alpha"].iloc[0] > 0.8)
    True
    """
    import warnings

    from analysis.psychometrics._reliability import alpha, omega

    spec = spec if spec is not None else load_constructs()
    rows = []
    for construct in spec.reflective:
        present = [i for i in construct.items if i in data.columns]
        if len(present) < 2:
            continue
        X = pd.DataFrame(_clean_items(data, present, set(spec.reverse_items), spec),
                         index=data.index, columns=present)
        units = [("", present)] + [(d.name, [i for i in d.items if i in present]) for d in construct.dimensions]
        for dim, items in units:
            if len(items) < 2:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a = alpha(X[items])
            row = {"construct": construct.name, "dimension": dim, "k": len(items), "n": a.n,
                   "alpha": a.alpha, "std_alpha": a.std_alpha, "ci_low": a.ci_low, "ci_high": a.ci_high,
                   "average_r": a.average_r, "omega_h": np.nan, "omega_total": np.nan}
            n_dims = len(construct.dimensions)
            if dim == "" and n_dims >= 2 and len(items) >= 3 * min(omega_factors, n_dims):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    o = omega(X[items], n_factors=max(2, min(omega_factors, n_dims)))
                row["omega_h"], row["omega_total"] = o.omega_h, o.omega_total
            rows.append(row)
    return pd.DataFrame(rows)

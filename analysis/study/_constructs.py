"""Constructs measured by the questionnaire: specification and scores.

The specification lives in ``questionnaire/constructs.yaml``: for each
construct its dimensions, their Likert items, the reverse-keyed items, the
scoring rule, and the hypothesised measurement model in lavaan syntax. It is
checked against the questionnaire when loaded, so an item that is not a Likert
question of the form stops everything with a :class:`~analysis.errors.ConfigError`
naming it.

Scores (:func:`score_constructs`) are the classical "mean of the items after
reversal" scale scores, with a minimum number of valid items; the formative
hybridisation index (:func:`hybridisation`) is computed from the funding
shares. Both are vectorised over rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis import config
from analysis.errors import ConfigError, InputError

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

DEFAULT_CONSTRUCTS_PATH: Path = config.QUESTIONNAIRE_DIR / "constructs.yaml"

_RULES = ("mean_of_dimensions", "mean_of_items")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Dimension:
    """One first-order dimension of a reflective construct.

    Attributes
    ----------
    construct, name : str
        Construct and dimension names; the score column is
        ``score_<construct>__<name>``.
    items : tuple of str
        Likert items (column names), in questionnaire order.
    reverse : tuple of str
        The reverse-keyed items among ``items`` (recoded ``(min + max) - x``).
    min_valid : int
        Minimum number of valid items for the dimension score.
    label_fr, label_ar : str
        Labels.
    """

    construct: str
    name: str
    items: tuple[str, ...]
    reverse: tuple[str, ...]
    min_valid: int
    label_fr: str = ""
    label_ar: str = ""

    @property
    def score_column(self) -> str:
        """``score_<construct>__<dimension>``."""
        return f"score_{self.construct}__{self.name}"

    @property
    def latent(self) -> str:
        """Name of the first-order factor in the lavaan model: the items' prefix (``si_nov``)."""
        return self.items[0].rsplit("_", 1)[0]


@dataclass(frozen=True)
class Construct:
    """A construct: reflective (Likert dimensions) or formative (computed index).

    Attributes
    ----------
    name : str
        Construct name; score column ``score_<name>``.
    kind : {"reflective", "formative"}
    rule : {"mean_of_dimensions", "mean_of_items"}
        How the construct score is formed from the items (reflective only).
    min_valid : int
        ``mean_of_items``: minimum number of valid items.
    min_valid_dimensions : int
        ``mean_of_dimensions``: minimum number of dimension scores.
    dimensions : tuple of Dimension
    shares : tuple of str
        Formative hybridisation: the funding-share columns (percent).
    market_share : str
        Formative hybridisation: the share column of own market income.
    label_fr, label_ar, role : str
    """

    name: str
    kind: str
    rule: str = "mean_of_dimensions"
    min_valid: int = 1
    min_valid_dimensions: int = 1
    dimensions: tuple[Dimension, ...] = ()
    shares: tuple[str, ...] = ()
    market_share: str = ""
    label_fr: str = ""
    label_ar: str = ""
    role: str = ""

    @property
    def score_column(self) -> str:
        """``score_<construct>``."""
        return f"score_{self.name}"

    @property
    def items(self) -> list[str]:
        """All Likert items of the construct, dimension by dimension."""
        return [i for d in self.dimensions for i in d.items]

    @property
    def reverse(self) -> list[str]:
        """The reverse-keyed items of the construct."""
        return [i for d in self.dimensions for i in d.reverse]

    @property
    def score_columns(self) -> list[str]:
        """Score columns this construct produces (construct first, then dimensions)."""
        if self.kind == "formative":
            return [self.score_column] + [
                f"{self.score_column}__{s}" for s in ("hhi", "n_sources", "market_share")
            ]
        return [self.score_column] + [d.score_column for d in self.dimensions]


@dataclass(frozen=True)
class ConstructSpec:
    """The checked contents of ``constructs.yaml``.

    Attributes
    ----------
    constructs : tuple of Construct
    scale_min, scale_max : int
        Likert range (1 and 5).
    missing_codes : tuple of int
        Codes that are missing values for scoring (97, 98, 99).
    measurement_model, structural_model : str
        lavaan syntax.
    problem_groups : dict
        ``{group: {"label_fr": str, "items": [prob_...]}}`` for the problems grid.
    path : Path
        File read.
    """

    constructs: tuple[Construct, ...]
    scale_min: int = 1
    scale_max: int = 5
    missing_codes: tuple[int, ...] = (97, 98, 99)
    measurement_model: str = ""
    structural_model: str = ""
    problem_groups: dict = field(default_factory=dict)
    path: Path | None = None

    def __getitem__(self, name: str) -> Construct:
        for c in self.constructs:
            if c.name == name:
                return c
        raise KeyError(f"no construct named {name!r}; known: {', '.join(self.names)}")

    @property
    def names(self) -> list[str]:
        """Construct names in file order."""
        return [c.name for c in self.constructs]

    @property
    def reflective(self) -> list[Construct]:
        """The reflective constructs (scored from Likert items)."""
        return [c for c in self.constructs if c.kind == "reflective"]

    @property
    def formative(self) -> list[Construct]:
        """The formative (computed) indices."""
        return [c for c in self.constructs if c.kind == "formative"]

    @property
    def items(self) -> list[str]:
        """All Likert items used by a construct."""
        return [i for c in self.reflective for i in c.items]

    @property
    def reverse_items(self) -> list[str]:
        """All reverse-keyed items."""
        return [i for c in self.reflective for i in c.reverse]

    @property
    def score_columns(self) -> list[str]:
        """Every score column (reflective then formative)."""
        return [s for c in self.reflective + self.formative for s in c.score_columns]

    def to_frame(self) -> pd.DataFrame:
        """One row per item: ``construct``, ``dimension``, ``item``, ``reverse``, ``score_column``."""
        rows = [
            {"construct": c.name, "dimension": d.name, "item": i, "reverse": i in d.reverse,
             "score_column": d.score_column}
            for c in self.reflective for d in c.dimensions for i in d.items
        ]
        return pd.DataFrame(rows, columns=["construct", "dimension", "item", "reverse", "score_column"])


# ---------------------------------------------------------------------------
# loading and checking
# ---------------------------------------------------------------------------


def _err(path: Path, where: str, msg: str) -> ConfigError:
    return ConfigError(f"'{path}', {where}: {msg}")


def _as_list(value, path: Path, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(path, where, "expected a list of variable names")
    return list(value)


def _int(value, path: Path, where: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _err(path, where, f"expected a positive integer, found {value!r}")
    return value


def _parse(raw: dict, path: Path) -> ConstructSpec:
    if not isinstance(raw, dict) or not isinstance(raw.get("constructs"), dict):
        raise _err(path, "top level", "expected a mapping with a 'constructs' mapping")
    scale = raw.get("scale") or {}
    smin, smax = int(scale.get("min", 1)), int(scale.get("max", 5))
    if smin >= smax:
        raise _err(path, "scale", f"min ({smin}) must be below max ({smax})")
    missing = tuple(int(c) for c in scale.get("missing_codes", [97, 98, 99]))
    constructs = []
    for cname, body in raw["constructs"].items():
        where = f"construct '{cname}'"
        if not isinstance(cname, str) or not _NAME_RE.match(cname):
            raise _err(path, where, "construct names must be snake_case")
        if not isinstance(body, dict):
            raise _err(path, where, "expected a mapping")
        kind = body.get("kind", "reflective")
        common = {"name": cname, "kind": kind, "label_fr": str(body.get("label_fr", "")),
                  "label_ar": str(body.get("label_ar", "")), "role": str(body.get("role", ""))}
        if kind == "formative":
            shares = tuple(_as_list(body.get("shares"), path, f"{where}, shares"))
            if not shares:
                raise _err(path, f"{where}, shares", "a formative index needs its share columns")
            market = str(body.get("market_share", ""))
            if market and market not in shares:
                raise _err(path, f"{where}, market_share", f"'{market}' is not one of the shares")
            constructs.append(Construct(**common, shares=shares, market_share=market))
            continue
        if kind != "reflective":
            raise _err(path, where, f"kind must be 'reflective' or 'formative', found {kind!r}")
        rule = body.get("rule", "mean_of_dimensions")
        if rule not in _RULES:
            raise _err(path, f"{where}, rule", f"expected one of {', '.join(_RULES)}, found {rule!r}")
        dims_raw = body.get("dimensions")
        if not isinstance(dims_raw, dict) or not dims_raw:
            raise _err(path, where, "a reflective construct needs a 'dimensions' mapping")
        dims = []
        for dname, dbody in dims_raw.items():
            dwhere = f"{where}, dimension '{dname}'"
            if not isinstance(dname, str) or not _NAME_RE.match(dname):
                raise _err(path, dwhere, "dimension names must be snake_case")
            if not isinstance(dbody, dict):
                raise _err(path, dwhere, "expected a mapping")
            items = _as_list(dbody.get("items"), path, f"{dwhere}, items")
            if len(items) < 3:
                raise _err(path, dwhere, f"a dimension needs at least 3 items, found {len(items)}")
            if len(set(items)) != len(items):
                raise _err(path, dwhere, "an item is listed twice")
            rev = _as_list(dbody.get("reverse"), path, f"{dwhere}, reverse")
            for r in rev:
                if r not in items:
                    raise _err(path, f"{dwhere}, reverse", f"reverse-keyed item '{r}' is not one of the items")
            mv = _int(dbody.get("min_valid"), path, f"{dwhere}, min_valid", default=max(1, (len(items) + 1) // 2))
            if mv > len(items):
                raise _err(path, f"{dwhere}, min_valid", f"{mv} is more than the {len(items)} items")
            dims.append(Dimension(construct=cname, name=dname, items=tuple(items), reverse=tuple(rev),
                                  min_valid=mv, label_fr=str(dbody.get("label_fr", "")),
                                  label_ar=str(dbody.get("label_ar", ""))))
        n_items = sum(len(d.items) for d in dims)
        mv = _int(body.get("min_valid"), path, f"{where}, min_valid", default=max(1, (n_items + 1) // 2))
        mvd = _int(body.get("min_valid_dimensions"), path, f"{where}, min_valid_dimensions",
                   default=max(1, (len(dims) + 1) // 2))
        if mv > n_items:
            raise _err(path, f"{where}, min_valid", f"{mv} is more than the {n_items} items")
        if mvd > len(dims):
            raise _err(path, f"{where}, min_valid_dimensions", f"{mvd} is more than the {len(dims)} dimensions")
        constructs.append(Construct(**common, rule=rule, min_valid=mv, min_valid_dimensions=mvd,
                                    dimensions=tuple(dims)))
    seen: dict[str, str] = {}
    for c in constructs:
        for d in c.dimensions:
            for i in d.items:
                if i in seen:
                    raise _err(path, f"construct '{c.name}', dimension '{d.name}'",
                               f"item '{i}' is already used by {seen[i]}")
                seen[i] = f"construct '{c.name}', dimension '{d.name}'"
    groups = raw.get("problem_groups") or {}
    if not isinstance(groups, dict):
        raise _err(path, "problem_groups", "expected a mapping")
    return ConstructSpec(
        constructs=tuple(constructs), scale_min=smin, scale_max=smax, missing_codes=missing,
        measurement_model=str(raw.get("measurement_model", "") or ""),
        structural_model=str(raw.get("structural_model", "") or ""),
        problem_groups={g: {"label_fr": str((b or {}).get("label_fr", "")),
                            "items": _as_list((b or {}).get("items"), path, f"problem_groups, '{g}'")}
                        for g, b in groups.items()},
        path=path,
    )


_LAVAAN_OP = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|~~|~)\s*(.+)$")


def _lavaan_terms(model: str) -> list[tuple[str, str, list[str], int]]:
    """(lhs, op, rhs variables, line number) of each formula line of a lavaan model."""
    out = []
    for k, line in enumerate(model.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = _LAVAAN_OP.match(line)
        if not m:
            raise ValueError(f"line {k}: cannot read '{line}'")
        rhs = [t.strip() for t in re.split(r"\+", m.group(3))]
        rhs = [t.split("*")[-1].strip() for t in rhs if t]
        out.append((m.group(1), m.group(2), rhs, k))
    return out


def _check_against(spec: ConstructSpec, q) -> None:
    path = spec.path
    likert = set(q.likert_items)
    names = set(q.names)
    for c in spec.reflective:
        for d in c.dimensions:
            for i in d.items:
                where = f"construct '{c.name}', dimension '{d.name}'"
                if i not in names:
                    raise _err(path, where, f"item '{i}' is not a question of the questionnaire")
                if i not in likert:
                    raise _err(path, where, f"item '{i}' is not a Likert item (select_one on a 1-5 list)")
    numeric = set(q.numeric)
    for c in spec.formative:
        for s in c.shares:
            if s not in numeric:
                raise _err(path, f"construct '{c.name}', shares",
                           f"'{s}' is not a numeric (integer/decimal) question of the questionnaire")
    for g, body in spec.problem_groups.items():
        for i in body["items"]:
            if i not in likert:
                raise _err(path, f"problem_groups, '{g}'", f"item '{i}' is not a Likert item of the questionnaire")
    for key in ("measurement_model", "structural_model"):
        model = getattr(spec, key)
        try:
            terms = _lavaan_terms(model)
        except ValueError as exc:
            raise _err(path, key, str(exc)) from exc
        latent = {lhs for lhs, op, _, _ in _lavaan_terms(spec.measurement_model) if op == "=~"} if key == "structural_model" else set()
        latent |= {lhs for lhs, op, _, _ in terms if op == "=~"}
        for lhs, _op, rhs, k in terms:
            for v in [lhs, *rhs]:
                if v not in latent and v not in names:
                    raise _err(path, f"{key}, line {k}",
                               f"'{v}' is neither a latent variable of the model nor a question")


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
    from analysis.study._instrument import load_questionnaire

    p = Path(path) if path is not None else DEFAULT_CONSTRUCTS_PATH
    if not p.exists():
        raise ConfigError(f"constructs file '{p}' is missing")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"'{p}' is not valid YAML: {exc}") from exc
    spec = _parse(raw, p)
    if questionnaire is None:
        folder = p.parent if (p.parent / "survey.csv").exists() else config.QUESTIONNAIRE_DIR
        questionnaire = load_questionnaire(folder)
    _check_against(spec, questionnaire)
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

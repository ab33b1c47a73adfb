"""Parameter table of a model with lavaan's defaults (lavaan ``lavaanify``), and starting values.

:func:`build_partable` turns statements (:mod:`analysis.cbsem._syntax`) into one row per model
parameter per group, with lavaan's defaults for ``cfa()`` added (marker loading fixed to 1 or
``std.lv``, residual variances, latent covariances, intercepts when there is a mean structure)
and equality constraints across groups expressed by a shared free-parameter index;
:func:`start_values` fills the starting values from sample moments.

Parameter table columns
-----------------------
``id``        1-based row number.
``lhs, op, rhs``  the parameter, as in lavaan (``op`` one of ``=~ ~~ ~ ~1 | ~*~``).
``user``      1 if written by the user, 0 if added by the defaults.
``group``     1-based group number (``SEMModel.group_labels`` holds the labels).
``free``      0 for a fixed parameter, else the 1-based index of the free parameter in the
              parameter vector; rows that share an index are constrained equal (labels,
              ``group_equal``, ``==`` between labels).
``value``     the fixed value (fixed rows) or the starting value (free rows; NaN = to be
              chosen from the data by :func:`start_values`).
``label``     user label or the automatic ``.pN.`` label given by ``group_equal``.
``matrix, row, col``  where the parameter lives in the group's model matrices (0-based).

Ordered indicators (hook for ``analysis.cbsem._wlsmv``)
------------------------------------------------
``x | t1 + t2`` is parsed into rows with ``op == "|"`` and ``rhs == "t1"``, ``"t2"``, mapped to
the ``tau`` vector (one entry per threshold, ordered by variable then threshold).
:func:`build_partable` with ``ordered={"x": 4, ...}`` (number of thresholds per ordered
indicator) adds the threshold rows that the user did not write, fixes the intercepts of ordered
indicators to 0, and fixes their residual variances (``value`` 1, ``free`` 0: under the delta
parameterisation the estimator computes them as ``1 - diag(Lambda Psi Lambda')``), and adds
scaling rows ``x ~*~ x`` (matrix ``delta``) fixed to 1. ``group_equal`` accepts ``"thresholds"``.

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36. https://doi.org/10.18637/jss.v048.i02
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.cbsem._syntax import Statement, parse_syntax
from analysis.errors import InputError

__all__ = ["build_partable", "start_values", "fill_fixed_x", "GROUP_EQUAL_CHOICES"]


#: accepted entries of ``group_equal`` (lavaan's ``group.equal``)
GROUP_EQUAL_CHOICES = (
    "loadings",
    "intercepts",
    "means",
    "thresholds",
    "regressions",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
)


def _uniq(seq):
    seen, out = set(), []
    for v in seq:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def build_partable(
    model: str | Sequence[Statement],
    *,
    ngroups: int = 1,
    std_lv: bool = False,
    meanstructure: bool = False,
    group_equal: Sequence[str] = (),
    group_partial: Sequence[str] = (),
    ordered: Mapping[str, int] | Sequence[str] = (),
    observed: Sequence[str] | None = None,
    fixed_x: bool = False,
) -> pd.DataFrame:
    """Parameter table of a model, with lavaan's ``cfa()``/``sem()`` defaults.

    Parameters
    ----------
    model : str or list of Statement
        Lavaan syntax (see :func:`parse_syntax`) or already parsed statements.
    ngroups : int
        Number of groups; every parameter is repeated per group.
    std_lv : bool
        Identify factors by fixing their variances to 1 (``std.lv = TRUE``) instead of
        fixing the first loading to 1.
    meanstructure : bool
        Add intercepts of the observed variables (free) and latent means (fixed to 0);
        forced on when ``ngroups > 1``.
    group_equal : sequence of str
        Parameter kinds held equal across groups (lavaan ``group.equal``), from
        :data:`GROUP_EQUAL_CHOICES`.
    group_partial : sequence of str
        Parameters released from ``group_equal``, written ``"f =~ x2"`` or ``"x3 ~ 1"``.
    ordered : mapping or sequence of str
        Ordered indicators, mapping name -> number of thresholds (categories - 1), see the
        module notes; a plain sequence only marks the variables (thresholds must be written).
    observed : sequence of str, optional
        Names of the observed variables (to tell observed from latent names in ``~~`` and
        ``~`` statements); by default every name that is not a factor is observed.
    fixed_x : bool
        Fix the variances, covariances and means of the observed exogenous variables (those
        that only predict, in ``~``) to their sample values (lavaan ``fixed.x = TRUE``, the
        default of ``sem()``): their rows get ``free`` 0 and ``value`` NaN until
        :func:`fill_fixed_x` sets them.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, lhs, op, rhs, user, group, free, value, label, matrix, row, col`` (see
        the module notes), in lavaan's order within each group: loadings, thresholds,
        regressions, variances/covariances, intercepts and means, scaling factors.

    Raises
    ------
    InputError
        For an unknown ``group_equal`` entry, a factor without indicators, a regression on an
        observed variable (not supported), or an inconsistent fixed value.

    Notes
    -----
    A factor measured by factors (``g =~ f1 + f2 + f3``, a higher-order factor) puts its
    loadings in ``beta`` (``f1 = beta g + zeta``); the first-order factors then have free
    disturbance variances and no covariances among themselves, as lavaan.

    Defaults (lavaan ``cfa``: ``auto.fix.first``, ``auto.var``, ``auto.cov.lv.x``,
    ``auto.cov.y``, ``int.ov.free``): the first loading of each factor is fixed to 1
    (unless ``std_lv`` or given as ``NA*``); residual variances of indicators and variances
    of latent variables are free; covariances among exogenous latent variables and among
    purely endogenous ones are free; intercepts are free and latent means fixed to 0.
    With ``group_equal`` containing ``"intercepts"`` (or ``"thresholds"``) the latent means of
    groups 2..G are freed; with ``std_lv`` and ``"loadings"`` the latent variances of groups
    2..G are freed, as lavaan does.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2).

    Examples
    --------
    >>> from analysis.cbsem import build_partable
    >>> pt = build_partable("f =~ x1 + x2 + x3")  # R: lavaan::lavaanify(model, auto = TRUE)
    >>> pt[["lhs", "op", "rhs", "free", "value"]].head(3).to_string(index=False)
    'lhs op rhs  free  value\\n  f =~  x1     0    1.0\\n  f =~  x2     1    NaN\\n  f =~  x3     2    NaN'
    """
    stmts = parse_syntax(model) if isinstance(model, str) else list(model)
    bad = [g for g in group_equal if g not in GROUP_EQUAL_CHOICES]
    if bad:
        raise InputError(
            "unknown group_equal entry", value=bad[0], expected=", ".join(GROUP_EQUAL_CHOICES)
        )
    if ngroups > 1:
        meanstructure = True
    if any(s.op == "~1" for s in stmts):
        meanstructure = True
    n_thr: dict[str, int] = {}
    if isinstance(ordered, Mapping):
        n_thr = {k: int(v) for k, v in ordered.items()}
        ordered_set = set(n_thr)
    else:
        ordered_set = set(ordered)
    if ordered_set or any(s.op == "|" for s in stmts):
        meanstructure = True
        ordered_set |= {s.lhs for s in stmts if s.op == "|"}

    lv = _uniq(s.lhs for s in stmts if s.op == "=~")
    lv_set = set(lv)
    names_in_order = []
    for s in stmts:
        if s.op == "=~":
            names_in_order.append(s.rhs)
    for s in stmts:
        if s.op in ("~~", "~", "~1", "|", "~*~"):
            names_in_order += [s.lhs] + ([s.rhs] if s.rhs else [])
    ov = [v for v in _uniq(names_in_order) if v not in lv_set and v != ""]
    if observed is not None:
        unknown = [v for v in ov if v not in set(observed)]
        if unknown:
            line = next(
                (s.line for s in stmts if unknown[0] in (s.lhs, s.rhs) and s.op != ":="), None
            )
            raise InputError(
                "model syntax names a variable that is neither a factor nor in the data"
                + (f" (model line {line})" if line is not None else ""),
                row=line,
                column=unknown[0],
                value=unknown[0],
                expected="a column of the data or a factor defined with =~",
            )
    # observed variables in regressions get a phantom latent variable of the same name
    # (lavaan's LISREL representation): loading 1, residual variance 0, intercept 0
    indicators = {s.rhs for s in stmts if s.op == "=~"}
    phantom = [
        v for v in _uniq(u for s in stmts if s.op == "~" for u in (s.lhs, s.rhs))
        if v not in lv_set
    ]
    for s in stmts:
        if s.op == "~":
            for v in (s.lhs, s.rhs):
                if v in indicators and v not in lv_set:
                    raise InputError(
                        f"model line {s.line}: {v} is an indicator of a factor and cannot "
                        "also be in a regression",
                        row=s.line,
                        value=v,
                    )
    if not lv and not phantom:
        raise InputError("model syntax defines no latent variable (=~)", value=model)
    # higher-order factors: "g =~ f1" makes f1 an indicator of g (an entry of beta)
    lv_ind = {s.rhs for s in stmts if s.op == "=~" and s.rhs in lv_set}
    reg_lhs = {s.lhs for s in stmts if s.op == "~"}
    reg_rhs = {s.rhs for s in stmts if s.op == "~"}
    lv_x = [f for f in lv if f not in reg_lhs and f not in lv_ind]
    lv_y = [f for f in lv if f in reg_lhs and f not in reg_rhs and f not in lv_ind]
    # observed exogenous (only predictors) and observed pure outcomes
    ov_x = [v for v in phantom if v not in reg_lhs]
    lv_y += [v for v in phantom if v in reg_lhs and v not in reg_rhs]
    ov_x_set = set(ov_x)

    rows: list[dict] = []

    for g in range(1, ngroups + 1):
        grows: list[dict] = []
        index: dict[tuple, dict] = {}

        def add(
            lhs,
            op,
            rhs,
            user,
            fixed=None,
            label="",
            start=np.nan,
            free_flag=True,
            index=index,
            grows=grows,
            g=g,
        ):
            k = (lhs, op, rhs)
            if op == "~~":
                k2 = (rhs, op, lhs)
                if k2 in index:
                    k = k2
            if k in index:
                return index[k]
            r = dict(
                lhs=lhs,
                op=op,
                rhs=rhs,
                user=user,
                group=g,
                fixed=fixed,
                free_flag=free_flag and fixed is None,
                label=label,
                start=start,
            )
            index[k] = r
            grows.append(r)
            return r

        def apply_mod(r, s, g=g):
            mod = s.modifier(g)
            if mod.fixed is not None:
                r["fixed"], r["free_flag"] = mod.fixed, False
            if mod.free:
                r["fixed"], r["free_flag"] = None, True
            if mod.label is not None:
                r["label"] = mod.label
            if mod.start is not None:
                r["start"] = mod.start
            r["user"] = 1

        # loadings
        first = {}
        for s in stmts:
            if s.op != "=~":
                continue
            r = add(s.lhs, "=~", s.rhs, 1)
            if s.lhs not in first:
                first[s.lhs] = r
                if not std_lv:
                    r["fixed"], r["free_flag"] = 1.0, False
            apply_mod(r, s)
        # thresholds
        for s in stmts:
            if s.op == "|":
                apply_mod(add(s.lhs, "|", s.rhs, 1), s)
        for v, k in n_thr.items():
            for j in range(1, k + 1):
                add(v, "|", f"t{j}", 0)
        # regressions
        for s in stmts:
            if s.op == "~":
                apply_mod(add(s.lhs, "~", s.rhs, 1), s)
        # user (co)variances
        for s in stmts:
            if s.op == "~~":
                apply_mod(add(s.lhs, "~~", s.rhs, 1), s)
        # default variances
        for v in ov:
            if v in ov_x_set:
                continue
            r = add(v, "~~", v, 0)
            if v in ordered_set and r["user"] == 0:
                r["fixed"], r["free_flag"] = 1.0, False
        for f in lv:
            r = add(f, "~~", f, 0)
            if std_lv and r["user"] == 0:
                r["fixed"], r["free_flag"] = 1.0, False
        for block in (lv_x, lv_y):
            for i, a in enumerate(block):
                for b in block[i + 1 :]:
                    add(a, "~~", b, 0)
        # observed exogenous variables: variances and covariances (fixed to the sample's)
        for i, a in enumerate(ov_x):
            for b in ov_x[i:]:
                r = add(a, "~~", b, 0)
                if fixed_x and r["user"] == 0:
                    r["fixed"], r["free_flag"] = np.nan, False
        # intercepts and means
        if meanstructure:
            for s in stmts:
                if s.op == "~1":
                    apply_mod(add(s.lhs, "~1", "", 1), s)
            for v in ov:
                r = add(v, "~1", "", 0)
                if v in ordered_set and r["user"] == 0:
                    r["fixed"], r["free_flag"] = 0.0, False
                if fixed_x and v in ov_x_set and r["user"] == 0:
                    r["fixed"], r["free_flag"] = np.nan, False
            for f in lv:
                r = add(f, "~1", "", 0)
                if r["user"] == 0:
                    r["fixed"], r["free_flag"] = 0.0, False
        # scaling factors of ordered indicators (delta parameterisation)
        for v in ov:
            if v in ordered_set:
                r = add(v, "~*~", v, 0)
                if r["user"] == 0:
                    r["fixed"], r["free_flag"] = 1.0, False
        for s in stmts:
            if s.op == "~*~":
                apply_mod(add(s.lhs, "~*~", s.rhs, 1), s)
        # relax defaults of groups 2..G implied by group_equal
        if g > 1:
            for f in lv:
                if ("intercepts" in group_equal or "thresholds" in group_equal) and (
                    "means" not in group_equal
                ):
                    r = index.get((f, "~1", ""))
                    if r is not None and r["user"] == 0:
                        r["fixed"], r["free_flag"] = None, True
                if std_lv and "loadings" in group_equal and "lv.variances" not in group_equal:
                    r = index.get((f, "~~", f))
                    if r is not None and r["user"] == 0:
                        r["fixed"], r["free_flag"] = None, True
        rows.extend(grows)

    pt = pd.DataFrame(rows)
    # kinds for group_equal
    partial = set()
    for p in group_partial:
        ps = parse_syntax(p)
        for s in ps:
            partial.add((s.lhs, s.op, s.rhs))

    def kind(r):
        op, lhs, rhs = r["op"], r["lhs"], r["rhs"]
        if op == "=~":
            return "loadings"
        if op == "|":
            return "thresholds"
        if op == "~":
            return "regressions"
        if op == "~1":
            return "means" if lhs in lv_set else "intercepts"
        if op == "~~":
            if lhs in lv_set:
                return "lv.variances" if lhs == rhs else "lv.covariances"
            return "residuals" if lhs == rhs else "residual.covariances"
        return ""

    pt["kind"] = [kind(r) for r in pt.to_dict("records")]
    pt.insert(0, "id", np.arange(1, len(pt) + 1))

    # automatic labels for group_equal (lavaan's ".pN." with N the id in group 1)
    if ngroups > 1 and group_equal:
        recs = pt[["id", "lhs", "op", "rhs", "group", "kind", "free_flag", "label"]].to_dict("records")
        first = {(r["lhs"], r["op"], r["rhs"]): r for r in recs if r["group"] == 1}
        labels = list(pt["label"])
        for i, r in enumerate(recs):
            if r["kind"] not in group_equal or not r["free_flag"] or r["label"]:
                continue
            k = (r["lhs"], r["op"], r["rhs"])
            if k in partial or k not in first:
                continue
            if not first[k]["free_flag"]:
                continue
            labels[i] = f".p{first[k]['id']}."
        pt["label"] = labels

    # free indices: shared label -> shared index; "==" merges labels
    parent = {}

    def find(a):
        while parent.get(a, a) != a:
            a = parent.get(a, a)
        return a

    for s in stmts:
        if s.op == "==":
            labels = set(pt["label"])
            for lab in (s.lhs, s.rhs):
                if lab not in labels:
                    raise InputError(
                        "model syntax: equality constraint on an unknown label",
                        row=s.line,
                        value=lab,
                        expected="a label given with label*variable",
                    )
            parent[find(s.lhs)] = find(s.rhs)
    free = np.zeros(len(pt), dtype=int)
    next_id = 0
    by_label: dict[str, int] = {}
    fixed_by_label: dict[str, float] = {}
    for r in pt.itertuples():
        if r.label and not r.free_flag:
            fixed_by_label[find(r.label)] = r.fixed
    for i, r in enumerate(pt.itertuples()):
        if r.label and find(r.label) in fixed_by_label:
            # a label shared with a fixed parameter fixes all of them (lavaan behaviour)
            pt.loc[pt.index[i], "fixed"] = fixed_by_label[find(r.label)]
            pt.loc[pt.index[i], "free_flag"] = False
            continue
        if not r.free_flag:
            continue
        if r.label:
            lab = find(r.label)
            if lab not in by_label:
                next_id += 1
                by_label[lab] = next_id
            free[i] = by_label[lab]
        else:
            next_id += 1
            free[i] = next_id
    pt["free"] = free
    pt["value"] = np.where(pt["free"] > 0, pt["start"].astype(float), pt["fixed"].astype(float))
    # matrix positions
    lv_pos = {f: i for i, f in enumerate(lv + phantom)}
    lv_all = set(lv_pos)
    ov_pos = {v: i for i, v in enumerate(ov)}
    thr_pos: dict[tuple[str, str], int] = {}
    thr_of: dict[str, list[str]] = {}
    for lhs, op, rhs, grp in zip(pt["lhs"], pt["op"], pt["rhs"], pt["group"]):
        if grp == 1 and op == "|":
            thr_of.setdefault(lhs, []).append(rhs)
    for v in ov:
        for t in sorted(thr_of.get(v, []), key=lambda t: int(t[1:])):
            thr_pos[(v, t)] = len(thr_pos)
    mats, rws, cls = [], [], []
    for r in pt.itertuples():
        op, lhs, rhs = r.op, r.lhs, r.rhs
        if op == "=~" and rhs in lv_set:  # higher-order loading: rhs = beta * lhs
            mats.append("beta"), rws.append(lv_pos[rhs]), cls.append(lv_pos[lhs])
        elif op == "=~":
            mats.append("lambda"), rws.append(ov_pos[rhs]), cls.append(lv_pos[lhs])
        elif op == "~":
            mats.append("beta"), rws.append(lv_pos[lhs]), cls.append(lv_pos[rhs])
        elif op == "~~":
            if lhs in lv_all and rhs in lv_all:
                mats.append("psi"), rws.append(lv_pos[lhs]), cls.append(lv_pos[rhs])
            elif lhs not in lv_all and rhs not in lv_all:
                mats.append("theta"), rws.append(ov_pos[lhs]), cls.append(ov_pos[rhs])
            else:
                raise InputError(
                    "a covariance between a factor and an observed variable is not supported",
                    value=f"{lhs} ~~ {rhs}",
                )
        elif op == "~1":
            if lhs in lv_all:
                mats.append("alpha"), rws.append(lv_pos[lhs]), cls.append(0)
            else:
                mats.append("nu"), rws.append(ov_pos[lhs]), cls.append(0)
        elif op == "|":
            mats.append("tau"), rws.append(thr_pos[(lhs, rhs)]), cls.append(0)
        elif op == "~*~":
            mats.append("delta"), rws.append(ov_pos[lhs]), cls.append(0)
        else:  # pragma: no cover - parser prevents it
            raise InputError("unknown operator", value=op)
    pt["matrix"], pt["row"], pt["col"] = mats, rws, cls
    pt["label"] = pt["label"].fillna("").astype(object)
    out = pt[
        [
            "id",
            "lhs",
            "op",
            "rhs",
            "user",
            "group",
            "free",
            "value",
            "label",
            "matrix",
            "row",
            "col",
            "kind",
        ]
    ].copy()
    out.attrs["ov_names"] = ov
    out.attrs["lv_names"] = lv + phantom
    out.attrs["phantoms"] = phantom
    out.attrs["phantom_lambda"] = [(ov_pos[v], lv_pos[v]) for v in phantom]
    out.attrs["ov_x"] = ov_x if fixed_x else []
    out.attrs["defined"] = [(s.lhs, s.rhs, s.line) for s in stmts if s.op == ":="]
    out.attrs["ngroups"] = ngroups
    out.attrs["meanstructure"] = meanstructure
    out.attrs["ordered"] = sorted(ordered_set)
    out.attrs["thresholds"] = list(thr_pos)
    return out


def start_values(
    partable: pd.DataFrame,
    covs: Sequence[np.ndarray],
    means: Sequence[np.ndarray] | None = None,
) -> pd.DataFrame:
    """Fill the missing starting values of the free parameters from sample moments.

    Parameters
    ----------
    partable : pandas.DataFrame
        Output of :func:`build_partable`.
    covs : sequence of ndarray
        Sample covariance matrix per group, in the order ``partable.attrs["ov_names"]``.
    means : sequence of ndarray, optional
        Sample means per group.

    Returns
    -------
    pandas.DataFrame
        A copy of the table with ``value`` set for every free row.

    Notes
    -----
    Like lavaan's ``start = "simple"`` with a data-based refinement: residual variances start
    at half the sample variance, latent variances at 0.05 (marker scaling) or 1 (``std_lv``),
    covariances and regressions at 0, intercepts at the sample means, and a free loading at
    ``cov(x, marker) / var(marker)``-type ratios clipped to a sensible range (1 if not available).

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.cbsem import build_partable, start_values
    >>> pt = start_values(build_partable("f =~ x1 + x2"), [np.eye(2)])
    >>> bool(pt["value"].notna().all())
    True
    """
    pt = partable.copy()
    ov = list(partable.attrs["ov_names"])
    pos = {v: i for i, v in enumerate(ov)}
    vals = pt["value"].to_numpy(dtype=float).copy()
    # the loadings of each factor per group, in table order (first = marker)
    loadings: dict[tuple, pd.DataFrame] = {}
    for (g, f), ind in pt[pt["op"] == "=~"].groupby(["group", "lhs"], sort=False):
        loadings[(g, f)] = ind
    no_rows = pt.iloc[0:0]
    for i, r in enumerate(pt.itertuples()):
        if r.free == 0 or not np.isnan(vals[i]):
            continue
        s = np.asarray(covs[r.group - 1])
        if r.op == "=~" and r.rhs not in pos:
            vals[i] = 1.0  # higher-order loading
        elif r.op == "=~":
            # marker = first indicator of the factor in this group
            ind = loadings[(r.group, r.lhs)]
            marker = ind.iloc[0]
            if marker["rhs"] != r.rhs and marker["free"] == 0 and marker["value"] != 0:
                a, b = pos[marker["rhs"]], pos[r.rhs]
                others = [pos[v] for v in ind["rhs"] if v not in (marker["rhs"], r.rhs)]
                if others:
                    # fabin-like: cov(x, z) / cov(marker, z) averaged over other indicators z
                    num = np.mean([s[b, o] for o in others])
                    den = np.mean([s[a, o] for o in others])
                    v = num / den if abs(den) > 1e-8 else 1.0
                else:
                    v = 1.0
                vals[i] = float(np.clip(v, -3, 3)) if np.isfinite(v) else 1.0
            else:
                vals[i] = float(np.sqrt(max(s[pos[r.rhs], pos[r.rhs]], 1e-8)) * 0.7)
        elif r.op == "~~":
            if r.lhs == r.rhs and r.lhs in pos:
                vals[i] = 0.5 * s[pos[r.lhs], pos[r.lhs]]
            elif r.lhs == r.rhs:
                vals[i] = 0.05
                # a better start for marker-identified factors: cov of marker with others
                ind = loadings.get((r.group, r.lhs), no_rows)
                if (
                    len(ind)
                    and ind.iloc[0]["free"] == 0
                    and ind.iloc[0]["value"] != 0
                    and ind.iloc[0]["rhs"] in pos
                ):
                    a = pos[ind.iloc[0]["rhs"]]
                    vals[i] = max(0.5 * s[a, a] / ind.iloc[0]["value"] ** 2, 0.05)
            else:
                vals[i] = 0.0
        elif r.op == "~1":
            if r.lhs in pos and means is not None:
                vals[i] = float(np.asarray(means[r.group - 1])[pos[r.lhs]])
            else:
                vals[i] = 0.0
        elif r.op == "|":
            vals[i] = 0.0
        elif r.op == "~*~":
            vals[i] = 1.0
        else:
            vals[i] = 0.0
    pt["value"] = vals
    # rows sharing a free index share the start of the first one
    first: dict[int, float] = {}
    for i, k in enumerate(pt["free"]):
        if k > 0:
            first.setdefault(k, vals[i])
            vals[i] = first[k]
    pt["value"] = vals
    pt.attrs = dict(partable.attrs)
    return pt


def fill_fixed_x(
    partable: pd.DataFrame,
    covs: Sequence[np.ndarray],
    means: Sequence[np.ndarray] | None = None,
) -> pd.DataFrame:
    """Set the fixed (co)variances and means of the observed exogenous variables.

    With ``fixed_x`` (lavaan ``fixed.x = TRUE``) these are the sample moments (divisor ``n``)
    of each group, in the order of ``partable.attrs["ov_names"]``.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.cbsem._partable import build_partable, fill_fixed_x
    >>> pt = fill_fixed_x(build_partable("y ~ x", fixed_x=True), [np.array([[2.0, 0.5], [0.5, 1.0]])])
    >>> float(pt.loc[(pt["lhs"] == "x") & (pt["op"] == "~~"), "value"].iloc[0])
    1.0
    """
    ov_x = set(partable.attrs.get("ov_x", []))
    if not ov_x:
        return partable
    pt = partable.copy()
    pos = {v: i for i, v in enumerate(partable.attrs["ov_names"])}
    vals = pt["value"].to_numpy(dtype=float).copy()
    for i, r in enumerate(pt.itertuples()):
        if r.free != 0 or r.lhs not in ov_x or r.user != 0:
            continue
        if r.op == "~~" and r.rhs in ov_x:
            vals[i] = float(np.asarray(covs[r.group - 1])[pos[r.lhs], pos[r.rhs]])
        elif r.op == "~1" and means is not None:
            vals[i] = float(np.asarray(means[r.group - 1])[pos[r.lhs]])
    pt["value"] = vals
    pt.attrs = dict(partable.attrs)
    return pt

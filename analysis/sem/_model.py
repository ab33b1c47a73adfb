"""Structural equation model specification: lavaan syntax, parameter table, model matrices.

This module is the shared core of the latent-variable estimators (:mod:`analysis.sem._cfa` for
continuous indicators, ``analysis.sem._wlsmv`` for ordered ones). It knows nothing about data or
estimation; it turns a model written in lavaan syntax into

1. a list of *statements* (:func:`parse_syntax`),
2. a *parameter table* (:func:`build_partable`), one row per model parameter per group, with
   lavaan's defaults for ``cfa()`` added (marker loading fixed to 1 or ``std.lv``, residual
   variances, latent covariances, intercepts when there is a mean structure) and equality
   constraints across groups expressed by a shared free-parameter index, and
3. a :class:`SEMModel` that maps a vector of free parameters to the LISREL "all-y" matrices
   per group (``lambda``, ``theta``, ``psi``, ``beta``, ``nu``, ``alpha``, and the hooks ``tau``,
   ``delta`` for ordered indicators), to the implied moments, and to their analytic derivatives.

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

Ordered indicators (hook for ``analysis.sem._wlsmv``)
------------------------------------------------
``x | t1 + t2`` is parsed into rows with ``op == "|"`` and ``rhs == "t1"``, ``"t2"``, mapped to
the ``tau`` vector (one entry per threshold, ordered by variable then threshold).
:func:`build_partable` with ``ordered={"x": 4, ...}`` (number of thresholds per ordered
indicator) adds the threshold rows that the user did not write, fixes the intercepts of ordered
indicators to 0, and fixes their residual variances (``value`` 1, ``free`` 0: under the delta
parameterisation the estimator computes them as ``1 - diag(Lambda Psi Lambda')``), and adds
scaling rows ``x ~*~ x`` (matrix ``delta``) fixed to 1. ``group_equal`` accepts ``"thresholds"``.

Matrices per group (all-y LISREL notation, as lavaan)::

    eta   = alpha + B eta + zeta,      Var(zeta) = Psi
    y     = nu + Lambda eta + eps,     Var(eps)  = Theta
    Sigma = Lambda A Psi A' Lambda' + Theta,   A = (I - B)^-1
    mu    = nu + Lambda A alpha

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36. https://doi.org/10.18637/jss.v048.i02
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import InputError

__all__ = [
    "Statement",
    "Modifier",
    "parse_syntax",
    "build_partable",
    "SEMModel",
    "start_values",
    "GROUP_EQUAL_CHOICES",
]

#: operators understood by the parser, longest first where they share a prefix
_OP_RE = re.compile(r"=~|~\*~|~~|==|:=|~|\|")
_IDENT_RE = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUM_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")

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

_OP_MATRIX = {"=~": "lambda", "~": "beta", "|": "tau", "~*~": "delta"}


@dataclass(frozen=True)
class Modifier:
    """What a term's pre-multipliers say about one group.

    Attributes
    ----------
    fixed : float or None
        Fixed value (``1*x``); ``None`` if not fixed.
    free : bool
        ``NA*x``: explicitly freed (overrides a default fixing, e.g. the marker loading).
    label : str or None
        Label (``a*x``); rows with the same label are constrained equal.
    start : float or None
        Starting value (``start(0.5)*x``).
    """

    fixed: float | None = None
    free: bool = False
    label: str | None = None
    start: float | None = None


@dataclass(frozen=True)
class Statement:
    """One parsed parameter of the syntax, before defaults are added.

    Attributes
    ----------
    lhs, op, rhs : str
        As in lavaan; an intercept ``x ~ 1`` has ``op == "~1"`` and ``rhs == ""``.
    line : int
        1-based line of the model text where the term was written.
    modifiers : tuple of Modifier
        One modifier (applies to every group) or one per group (``c(a, b)*x``).
    """

    lhs: str
    op: str
    rhs: str
    line: int
    modifiers: tuple[Modifier, ...] = field(default_factory=tuple)

    def modifier(self, group: int) -> Modifier:
        """Modifier for the 1-based ``group`` (the single modifier if only one was given)."""
        if not self.modifiers:
            return Modifier()
        if len(self.modifiers) == 1:
            return self.modifiers[0]
        if group > len(self.modifiers):
            raise InputError(
                f"model syntax: c(...) on '{self.lhs} {self.op} {self.rhs}' has "
                f"{len(self.modifiers)} values but there are more groups",
                row=self.line,
                expected="one value per group",
            )
        return self.modifiers[group - 1]


def _split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` outside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def _parse_value(tok: str, line: int) -> Modifier:
    """One modifier token: a number, NA, or a label."""
    tok = tok.strip().strip("'\"")
    if _NUM_RE.match(tok):
        return Modifier(fixed=float(tok))
    if tok == "NA":
        return Modifier(free=True)
    if _IDENT_RE.match(tok):
        return Modifier(label=tok)
    raise InputError(
        f"model syntax: cannot read the modifier '{tok}'",
        row=line,
        value=tok,
        expected="a number, NA, a label, c(...) or start(...)",
    )


def _merge(a: Modifier, b: Modifier) -> Modifier:
    return Modifier(
        fixed=b.fixed if b.fixed is not None else a.fixed,
        free=a.free or b.free,
        label=b.label if b.label is not None else a.label,
        start=b.start if b.start is not None else a.start,
    )


def _parse_modifier(tok: str, line: int) -> list[Modifier]:
    """A pre-multiplier: ``1``, ``NA``, ``a``, ``c(a, b)``, ``start(0.5)``, ``label("a")``."""
    tok = tok.strip()
    m = re.match(r"^(c|start|label|equal)\s*\((.*)\)$", tok, flags=re.S)
    if m is None:
        return [_parse_value(tok, line)]
    fun, inner = m.group(1), m.group(2)
    items = [_parse_value(v, line) for v in _split_top(inner, ",")]
    if fun == "start":
        out = []
        for v in items:
            if v.fixed is None:
                raise InputError(
                    "model syntax: start() needs numbers",
                    row=line,
                    value=tok,
                    expected="start(0.5)",
                )
            out.append(Modifier(start=v.fixed))
        return out
    if fun in ("label", "equal"):
        return [Modifier(label=v.label if v.label else str(v.fixed)) for v in items]
    return items


def _combine(mods: list[list[Modifier]]) -> tuple[Modifier, ...]:
    n = max(len(m) for m in mods)
    out = []
    for g in range(n):
        acc = Modifier()
        for m in mods:
            acc = _merge(acc, m[g] if len(m) > 1 else m[0])
        out.append(acc)
    return tuple(out)


def _statements_of(text: str) -> list[tuple[int, str]]:
    """Logical statements with their first line number (comments removed, continuations joined)."""
    raw: list[tuple[int, str]] = []
    for i, line in enumerate(text.splitlines(), start=1):
        line = re.split(r"[#!]", line, maxsplit=1)[0]
        for part in line.split(";"):
            if part.strip():
                raw.append((i, part.strip()))
    out: list[tuple[int, str]] = []
    for lineno, s in raw:
        if out and (
            s.startswith("+")
            or s.startswith("*")
            or re.search(r"(\+|\*|=~|~~|~|==|\||,|\()\s*$", out[-1][1])
        ):
            out[-1] = (out[-1][0], out[-1][1] + " " + s)
        else:
            out.append((lineno, s))
    return out


def parse_syntax(model: str) -> list[Statement]:
    """Parse a model written in lavaan syntax.

    Parameters
    ----------
    model : str
        Lines ``lhs op rhs``: ``f =~ x1 + x2`` (loadings), ``x1 ~~ x2`` ((co)variances),
        ``f2 ~ f1`` (regressions), ``x1 ~ 1`` (intercepts), ``x1 | t1 + t2`` (thresholds),
        ``a == b`` (equality of two labels). Terms take pre-multipliers: a fixed value
        ``1*x``, a label ``a*x``, ``NA*x`` (free), ``start(0.5)*x`` and per-group vectors
        ``c(1, NA)*x``, ``c(a, b)*x``. ``#`` and ``!`` start comments; ``;`` separates
        statements; a line ending in ``+`` or an operator continues on the next line.

    Returns
    -------
    list of Statement
        One entry per parameter written (``a == b`` gives ``op == "=="``).

    Raises
    ------
    InputError
        On a syntax error; ``row`` is the line and ``value`` the offending token.

    Notes
    -----
    The grammar follows ``lavaan::lavParseModelString``. Defined parameters (``:=``) and
    inequality constraints are not supported and raise :class:`InputError`.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2).

    Examples
    --------
    >>> from analysis.sem._model import parse_syntax
    >>> st = parse_syntax("f =~ 1*x1 + a*x2 + c(NA, 0.5)*x3")  # R: lavaan::lavParseModelString
    >>> [(s.lhs, s.op, s.rhs) for s in st]
    [('f', '=~', 'x1'), ('f', '=~', 'x2'), ('f', '=~', 'x3')]
    >>> st[0].modifier(1).fixed, st[1].modifier(1).label, st[2].modifier(2).fixed
    (1.0, 'a', 0.5)
    """
    if not isinstance(model, str) or not model.strip():
        raise InputError("model syntax is empty", value=model, expected="lavaan model syntax")
    result: list[Statement] = []
    for lineno, s in _statements_of(model):
        m = _OP_RE.search(s)
        if m is None:
            raise InputError(
                "model syntax: no operator in the line",
                row=lineno,
                value=s,
                expected="one of =~ ~~ ~ | ==",
            )
        op = m.group(0)
        lhs, rhs = s[: m.start()].strip(), s[m.end() :].strip()
        if op in (":=",):
            raise InputError(
                "model syntax: defined parameters (:=) are not supported", row=lineno, value=s
            )
        if not _IDENT_RE.match(lhs):
            raise InputError(
                "model syntax: the left-hand side must be one variable name",
                row=lineno,
                value=lhs,
                expected="a name such as f1 or x1",
            )
        if not rhs:
            raise InputError(
                f"model syntax: nothing after the operator '{op}'", row=lineno, value=s
            )
        if op == "==":
            if not _IDENT_RE.match(rhs):
                raise InputError(
                    "model syntax: only equality between two labels (a == b) is supported",
                    row=lineno,
                    value=rhs,
                )
            result.append(Statement(lhs, "==", rhs, lineno))
            continue
        for term in _split_top(rhs, "+"):
            if not term:
                raise InputError(
                    "model syntax: empty term (two '+' in a row?)", row=lineno, value=s
                )
            parts = _split_top(term, "*")
            var = parts[-1]
            mods = [_parse_modifier(p, lineno) for p in parts[:-1]]
            this_op = op
            if op == "~" and var == "1":
                this_op, var = "~1", ""
            elif not _IDENT_RE.match(var):
                raise InputError(
                    "model syntax: unexpected token",
                    row=lineno,
                    value=var,
                    expected="a variable name",
                )
            if this_op == "|" and not re.match(r"^t\d+$", var):
                raise InputError(
                    "model syntax: thresholds are named t1, t2, ...", row=lineno, value=var
                )
            result.append(Statement(lhs, this_op, var, lineno, _combine(mods) if mods else tuple()))
    return result


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
    >>> from analysis.sem._model import build_partable
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
            raise InputError(
                "model syntax names a variable that is neither a factor nor in the data",
                column=unknown[0],
                value=unknown[0],
                expected="a column of the data or a factor defined with =~",
            )
    if not lv:
        raise InputError("model syntax defines no latent variable (=~)", value=model)
    for s in stmts:
        if s.op == "~":
            for v in (s.lhs, s.rhs):
                if v not in lv_set:
                    raise InputError(
                        "regressions involving observed variables are not supported; "
                        "regress factors on factors",
                        row=s.line,
                        value=v,
                    )
    # higher-order factors: "g =~ f1" makes f1 an indicator of g (an entry of beta)
    lv_ind = {s.rhs for s in stmts if s.op == "=~" and s.rhs in lv_set}
    reg_lhs = {s.lhs for s in stmts if s.op == "~"}
    reg_rhs = {s.rhs for s in stmts if s.op == "~"}
    lv_x = [f for f in lv if f not in reg_lhs and f not in lv_ind]
    lv_y = [f for f in lv if f in reg_lhs and f not in reg_rhs and f not in lv_ind]

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
        # intercepts and means
        if meanstructure:
            for s in stmts:
                if s.op == "~1":
                    apply_mod(add(s.lhs, "~1", "", 1), s)
            for v in ov:
                r = add(v, "~1", "", 0)
                if v in ordered_set and r["user"] == 0:
                    r["fixed"], r["free_flag"] = 0.0, False
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
    lv_pos = {f: i for i, f in enumerate(lv)}
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
            if lhs in lv_set and rhs in lv_set:
                mats.append("psi"), rws.append(lv_pos[lhs]), cls.append(lv_pos[rhs])
            elif lhs not in lv_set and rhs not in lv_set:
                mats.append("theta"), rws.append(ov_pos[lhs]), cls.append(ov_pos[rhs])
            else:
                raise InputError(
                    "a covariance between a factor and an observed variable is not supported",
                    value=f"{lhs} ~~ {rhs}",
                )
        elif op == "~1":
            if lhs in lv_set:
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
    out.attrs["lv_names"] = lv
    out.attrs["ngroups"] = ngroups
    out.attrs["meanstructure"] = meanstructure
    out.attrs["ordered"] = sorted(ordered_set)
    out.attrs["thresholds"] = list(thr_pos)
    return out


class SEMModel:
    """Map a free-parameter vector to model matrices, implied moments and their derivatives.

    Parameters
    ----------
    partable : pandas.DataFrame
        Output of :func:`build_partable` (its ``attrs`` carry the variable names).
    group_labels : sequence, optional
        Labels of the groups, in the order of the ``group`` column.

    Attributes
    ----------
    partable : pandas.DataFrame
        The parameter table.
    ov_names, lv_names : list of str
        Observed and latent variable names, in matrix order.
    ngroups, npar : int
        Number of groups and of free parameters (after equality constraints).
    meanstructure : bool
        Whether the model has a mean structure.
    group_labels : list
        Group labels.

    Notes
    -----
    ``Sigma = Lambda A Psi A' Lambda' + Theta`` and ``mu = nu + Lambda A alpha`` with
    ``A = (I - B)^-1``. The derivatives with respect to a free parameter are analytic, e.g.
    for a loading ``lambda_ij``: ``dSigma = e_i c' + c e_i'`` with ``c = (Lambda A Psi A')[:, j]``,
    and ``dmu = e_i (A alpha)_j``; a parameter shared by several rows (equality constraint)
    gets the sum of their derivatives.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.sem._model import build_partable, SEMModel
    >>> m = SEMModel(build_partable("f =~ x1 + x2 + x3"))  # R: lavaan::lavInspect(fit, "implied")
    >>> x = np.array([0.8, 0.6, 0.5, 0.5, 0.5, 1.0])  # 2 loadings, 3 residuals, 1 variance
    >>> sigma, mu = m.implied(x)[0]
    >>> round(float(sigma[0, 1]), 10), round(float(sigma[1, 1]), 10)
    (0.8, 1.14)
    """

    def __init__(self, partable: pd.DataFrame, group_labels: Sequence | None = None):
        self.partable = partable
        self.ov_names = list(partable.attrs["ov_names"])
        self.lv_names = list(partable.attrs["lv_names"])
        self.ngroups = int(partable.attrs["ngroups"])
        self.meanstructure = bool(partable.attrs["meanstructure"])
        self.group_labels = (
            list(group_labels) if group_labels is not None else list(range(1, self.ngroups + 1))
        )
        self.npar = int(partable["free"].max()) if len(partable) else 0
        p, m = len(self.ov_names), len(self.lv_names)
        self.nthresholds = len(partable.attrs.get("thresholds", []))
        self._shapes = {
            "lambda": (p, m),
            "theta": (p, p),
            "psi": (m, m),
            "beta": (m, m),
            "nu": (p, 1),
            "alpha": (m, 1),
            "tau": (self.nthresholds, 1),
            "delta": (p, 1),
        }
        self._groups = []
        for g in range(1, self.ngroups + 1):
            sub = partable[partable["group"] == g]
            fixed = sub[sub["free"] == 0]
            freer = sub[sub["free"] > 0]
            self._groups.append(
                dict(
                    fixed=list(
                        zip(
                            fixed["matrix"],
                            fixed["row"],
                            fixed["col"],
                            fixed["value"].astype(float),
                        )
                    ),
                    free=list(zip(freer["matrix"], freer["row"], freer["col"], freer["free"] - 1)),
                )
            )
        self.has_beta = bool((partable["matrix"] == "beta").any())
        # the same entries as index arrays per matrix (vectorised matrices and derivatives)
        self._index = []
        for grp in self._groups:
            fixed, free = {}, {}
            for name in self._shapes:
                f = [(r, c, v) for nm, r, c, v in grp["fixed"] if nm == name]
                fixed[name] = (
                    np.array([e[0] for e in f], dtype=int),
                    np.array([e[1] for e in f], dtype=int),
                    np.array([e[2] for e in f], dtype=float),
                )
                e = np.array([(r, c, k) for nm, r, c, k in grp["free"] if nm == name], dtype=int)
                free[name] = tuple(e.reshape(-1, 3).T)
            self._index.append((fixed, free))
        self._free_col = partable["free"].to_numpy()
        self._value_col = partable["value"].to_numpy(dtype=float)

    # ------------------------------------------------------------------ matrices
    def matrices(self, x: np.ndarray) -> list[dict[str, np.ndarray]]:
        """Model matrices per group for parameter vector ``x``.

        Returns a list (one per group) of dicts with keys ``lambda, theta, psi, beta, nu,
        alpha, tau, delta`` (``nu``, ``alpha``, ``tau``, ``delta`` as 1-d arrays; ``delta``
        defaults to ones, everything else to zeros before the table is applied).
        """
        x = np.asarray(x, dtype=float)
        out = []
        for fixed, free in self._index:
            mats = {k: np.zeros(s) for k, s in self._shapes.items()}
            mats["delta"][:] = 1.0
            for name, m in mats.items():
                r, c, v = fixed[name]
                if len(r):
                    m[r, c] = v
                    if name in ("theta", "psi"):
                        m[c, r] = v
            for name, m in mats.items():
                r, c, k = free[name]
                if len(r):
                    m[r, c] = x[k]
                    if name in ("theta", "psi"):
                        m[c, r] = x[k]
            for k in ("nu", "alpha", "tau", "delta"):
                mats[k] = mats[k][:, 0]
            out.append(mats)
        return out

    def _ia(self, mats):
        m = len(self.lv_names)
        if self.has_beta:
            return np.linalg.inv(np.eye(m) - mats["beta"])
        return np.eye(m)

    def implied(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Implied covariance matrix and mean vector per group: ``[(Sigma, mu), ...]``."""
        out = []
        for mats in self.matrices(x):
            a = self._ia(mats)
            lam_a = mats["lambda"] @ a
            sigma = lam_a @ mats["psi"] @ lam_a.T + mats["theta"]
            mu = mats["nu"] + lam_a @ mats["alpha"]
            out.append((sigma, mu))
        return out

    def latent_moments(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Implied covariance and mean of the latent variables per group."""
        out = []
        for mats in self.matrices(x):
            a = self._ia(mats)
            out.append((a @ mats["psi"] @ a.T, a @ mats["alpha"]))
        return out

    def jacobian(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Derivatives of the implied moments per group.

        Returns
        -------
        list of (dsigma, dmu)
            ``dsigma`` has shape ``(npar, p, p)`` (full symmetric matrices) and ``dmu`` shape
            ``(npar, p)``: the derivative of ``Sigma`` and ``mu`` of that group with respect to
            each free parameter.
        """
        p = len(self.ov_names)
        out = []
        for grp, mats in zip(self._groups, self.matrices(x)):
            a = self._ia(mats)
            lam, psi, alpha = mats["lambda"], mats["psi"], mats["alpha"]
            lam_a = lam @ a
            lm = lam_a @ psi @ a.T  # Lambda A Psi A'   (p x m)
            a_alpha = a @ alpha
            ds = np.zeros((self.npar, p, p))
            dm = np.zeros((self.npar, p))
            free = self._index[len(out)][1]
            r, c, k = free["lambda"]
            if len(k):
                cols = lm[:, c].T
                np.add.at(ds, (k, r), cols)
                np.add.at(ds, (k, slice(None), r), cols)
                np.add.at(dm, (k, r), a_alpha[c])
            r, c, k = free["theta"]
            if len(k):
                np.add.at(ds, (k, r, c), 1.0)
                off = r != c
                np.add.at(ds, (k[off], c[off], r[off]), 1.0)
            r, c, k = free["psi"]
            if len(k):
                t = lam_a[:, r].T[:, :, None] * lam_a[:, c].T[:, None, :]
                t = np.where((r == c)[:, None, None], t, t + np.transpose(t, (0, 2, 1)))
                np.add.at(ds, k, t)
            r, c, k = free["nu"]
            if len(k):
                np.add.at(dm, (k, r), 1.0)
            r, c, k = free["alpha"]
            if len(k):
                np.add.at(dm, k, lam_a[:, r].T)
            for name, r, c, k in grp["free"]:
                if name == "beta":
                    u = lam_a[:, r]
                    row = a[c, :] @ psi @ lam_a.T  # (A Psi A' Lambda')[c]
                    t = np.outer(u, row)
                    ds[k] += t + t.T
                    dm[k] += u * (a[c, :] @ alpha)
                # tau and delta do not enter (Sigma, mu): left to the ordinal estimator
            out.append((ds, dm))
        return out

    def jacobian_dot(
        self,
        x: np.ndarray,
        gsigma: Sequence[np.ndarray],
        gmu: Sequence[np.ndarray] | None = None,
    ) -> np.ndarray:
        """Chain rule through the implied moments, without the full Jacobian.

        Parameters
        ----------
        x : ndarray
            Free parameters.
        gsigma : sequence of ndarray
            Per group, a ``p x p`` matrix ``G`` (e.g. the derivative of a function with
            respect to ``Sigma``).
        gmu : sequence of ndarray, optional
            Per group, a vector ``g`` of length ``p`` (derivative with respect to ``mu``).

        Returns
        -------
        ndarray
            ``sum_g [tensordot(dSigma_g, G_g) + dmu_g @ g_g]`` where ``(dSigma_g, dmu_g)`` is
            :meth:`jacobian`; a few matrix products instead of an ``npar x p x p`` array.
        """
        out = np.zeros(self.npar)
        for g, ((_fixed, free), mats) in enumerate(zip(self._index, self.matrices(x))):
            a = self._ia(mats)
            lam_a = mats["lambda"] @ a
            lm = lam_a @ mats["psi"] @ a.T
            gs = np.asarray(gsigma[g], dtype=float)
            sym = gs + gs.T
            parts = []
            r, c, k = free["lambda"]
            if len(k):
                parts.append((k, (sym @ lm)[r, c]))
            r, c, k = free["theta"]
            if len(k):
                parts.append((k, np.where(r == c, gs[r, c], sym[r, c])))
            r, c, k = free["psi"]
            if len(k):
                m = lam_a.T @ gs @ lam_a
                parts.append((k, np.where(r == c, m[r, c], m[r, c] + m[c, r])))
            r, c, k = free["beta"]
            if len(k):
                rows = a @ mats["psi"] @ lam_a.T  # (A Psi A' Lambda')
                parts.append((k, (lam_a.T @ sym @ rows.T)[r, c]))
            if gmu is not None:
                gm = np.asarray(gmu[g], dtype=float)
                a_alpha = a @ mats["alpha"]
                gl = gm @ lam_a
                r, c, k = free["lambda"]
                if len(k):
                    parts.append((k, gm[r] * a_alpha[c]))
                r, c, k = free["beta"]
                if len(k):
                    parts.append((k, gl[r] * a_alpha[c]))
                r, c, k = free["nu"]
                if len(k):
                    parts.append((k, gm[r]))
                r, c, k = free["alpha"]
                if len(k):
                    parts.append((k, gl[r]))
            for k, v in parts:
                out += np.bincount(k, weights=v, minlength=self.npar)
        return out

    def jacobian_factors(self, x: np.ndarray) -> list[tuple[np.ndarray, ...]]:
        """Low-rank form of the covariance derivatives, for fast casewise computations.

        Returns
        -------
        list of (u, v, coef, index)
            Per group, arrays ``u`` and ``v`` of shape ``(p, q)``, ``coef`` and ``index`` of
            length ``q`` such that
            ``dSigma/dx_k = sum_{j: index[j] == k} coef[j] (u_j v_j' + v_j u_j')``.
            A quadratic form is then ``z' dSigma_k z = sum_j 2 coef_j (z'u_j)(z'v_j)``,
            which costs ``O(n p q)`` for ``n`` cases instead of ``O(n p^2 npar)``.
        """
        p = len(self.ov_names)
        eye = np.eye(p)
        out = []
        for grp, mats in zip(self._groups, self.matrices(x)):
            a = self._ia(mats)
            lam_a = mats["lambda"] @ a
            lm = lam_a @ mats["psi"] @ a.T
            us, vs, cs, ks = [], [], [], []
            for name, r, c, k in grp["free"]:
                if name == "lambda":
                    us.append(eye[r]), vs.append(lm[:, c]), cs.append(1.0)
                elif name == "theta":
                    us.append(eye[r]), vs.append(eye[c]), cs.append(0.5 if r == c else 1.0)
                elif name == "psi":
                    (
                        us.append(lam_a[:, r]),
                        vs.append(lam_a[:, c]),
                        cs.append(0.5 if r == c else 1.0),
                    )
                elif name == "beta":
                    row = a[c, :] @ mats["psi"] @ lam_a.T
                    us.append(lam_a[:, r]), vs.append(row), cs.append(1.0)
                else:
                    continue
                ks.append(k)
            u = np.array(us).T.reshape(p, len(us))
            v = np.array(vs).T.reshape(p, len(vs))
            out.append((u, v, np.array(cs, dtype=float), np.array(ks, dtype=int)))
        return out

    def x_start(self) -> np.ndarray:
        """Starting vector from the ``value`` column of the free rows (first row per index)."""
        x = np.full(self.npar, np.nan)
        pt = self.partable
        for k, v in zip(pt["free"], pt["value"]):
            if k > 0 and np.isnan(x[k - 1]):
                x[k - 1] = v
        return x

    def x_to_table(self, x: np.ndarray) -> np.ndarray:
        """Value of every row of the parameter table (fixed values and free estimates)."""
        out = self._value_col.copy()
        fr = self._free_col
        out[fr > 0] = np.asarray(x)[fr[fr > 0] - 1]
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
    >>> from analysis.sem._model import build_partable, start_values
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

"""Lavaan model syntax: statements with their modifiers (first stage of a fit, lavaan
``lavParseModelString``).

:func:`parse_syntax` turns a model written in lavaan syntax into a list of :class:`Statement`
(``lhs``, ``op``, ``rhs``, the line and the per-group :class:`Modifier` of fixed values, labels
and starting values). It knows nothing about defaults, data or estimation:
:mod:`analysis.cbsem._partable` builds the parameter table from the statements.

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36. https://doi.org/10.18637/jss.v048.i02
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analysis.errors import InputError

__all__ = ["Statement", "Modifier", "parse_syntax"]


#: operators understood by the parser, longest first where they share a prefix
_OP_RE = re.compile(r"=~|~\*~|~~|==|:=|~|\|")
_IDENT_RE = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUM_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


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
    The grammar follows ``lavaan::lavParseModelString``. A defined parameter
    ``name := expression`` (e.g. ``indirect := a*b``) gives one statement with ``op == ":="``
    and the expression (spaces removed) as ``rhs``; inequality constraints are not supported.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2).

    Examples
    --------
    >>> from analysis.cbsem import parse_syntax
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
        if op == ":=":
            # defined parameter: "name := expression of labels" (evaluated by the estimator)
            if not _IDENT_RE.match(lhs) or not rhs:
                raise InputError(
                    "model syntax: a defined parameter is written 'name := expression'",
                    row=lineno,
                    value=s,
                )
            result.append(Statement(lhs, ":=", rhs.replace(" ", ""), lineno))
            continue
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

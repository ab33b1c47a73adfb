"""Read the XLSForm text files and evaluate the XLSForm expression subset, vectorised.

The simulator is driven by ``questionnaire/survey.csv``, ``choices.csv`` and
``settings.csv`` (an XLSForm kept as text). This module reads them into a
:class:`Form` (questions in survey order, with the relevance inherited from
enclosing groups) and evaluates ``relevant`` / ``constraint`` / ``calculation``
expressions on whole columns at once.

Supported expression subset (documented for the questionnaire authors)
------------------------------------------------------------------------
* references ``${name}`` and the current value ``.``;
* string literals ``'a'`` / ``"a"`` and numbers;
* comparisons ``=  !=  <  <=  >  >=`` (numeric when either side is a number
  or a numeric question, otherwise string comparison; an empty value never
  compares numerically true, as in ODK);
* arithmetic ``+ - * div mod`` and unary minus;
* ``and``, ``or``, ``not(...)``, parentheses;
* functions ``selected(x, 'code')``, ``count-selected(x)``, ``coalesce(a, b)``,
  ``number(x)``, ``string-length(x)``, ``if(c, a, b)``, ``today()``,
  ``format-date(d, fmt)`` (year only: ``'%Y'``), ``regex(x, pattern)``.

An expression outside the subset raises :class:`analysis.errors.ConfigError`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analysis.errors import ConfigError

__all__ = ["Question", "Form", "read_form", "Expression", "Value", "evaluate"]


@dataclass
class Question:
    """One row of the survey sheet that produces data (or a group marker)."""

    name: str
    type: str  # base type: select_one, select_multiple, integer, decimal, text, ...
    list_name: str | None
    label: str
    relevant: str
    constraint: str
    required: bool
    calculation: str
    appearance: str
    groups: tuple[str, ...]  # enclosing group names, outermost first
    group_relevant: tuple[str, ...]  # relevant expressions of enclosing groups

    @property
    def group(self) -> str | None:
        """Innermost enclosing group name (or None)."""
        return self.groups[-1] if self.groups else None


@dataclass
class Form:
    """The questionnaire as the simulator needs it."""

    questions: list[Question]
    choices: dict[str, list[str]]  # list_name -> codes in order
    choice_labels: dict[str, dict[str, str]]  # list_name -> code -> French label
    choice_labels_ar: dict[str, dict[str, str]]
    settings: dict[str, str]
    group_labels: dict[str, str] = field(default_factory=dict)
    path: Path | None = None  # the survey sheet it was read from

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [q.name for q in self.questions]


def _label_column(header: list[str], lang: str = "fr") -> str | None:
    cands = [h for h in header if h.lower().startswith("label")]
    for h in cands:
        if f"({lang})" in h.lower():
            return h
    return cands[0] if cands else None


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def read_form(folder: str | Path) -> Form:
    """Read ``survey.csv``, ``choices.csv`` and ``settings.csv`` from ``folder``.

    Returns
    -------
    Form
        Data-producing questions in survey order (notes and groups are dropped;
        ``begin_group`` relevance is attached to each enclosed question).
    """
    folder = Path(folder)
    survey_path = folder / "survey.csv"
    if not survey_path.exists():
        raise ConfigError(f"questionnaire file not found: {survey_path}")
    rows = _read_csv(survey_path)
    header = list(rows[0].keys()) if rows else []
    lab = _label_column(header, "fr")
    choices_rows = _read_csv(folder / "choices.csv") if (folder / "choices.csv").exists() else []
    ch_header = list(choices_rows[0].keys()) if choices_rows else []
    ch_lab = _label_column(ch_header, "fr")
    ch_lab_ar = _label_column(ch_header, "ar")
    choices: dict[str, list[str]] = {}
    labels: dict[str, dict[str, str]] = {}
    labels_ar: dict[str, dict[str, str]] = {}
    for r in choices_rows:
        ln = (r.get("list_name") or "").strip()
        code = (r.get("name") or "").strip()
        if not ln or not code:
            continue
        choices.setdefault(ln, []).append(code)
        labels.setdefault(ln, {})[code] = (r.get(ch_lab) or "").strip() if ch_lab else code
        labels_ar.setdefault(ln, {})[code] = (r.get(ch_lab_ar) or "").strip() if ch_lab_ar else ""
    settings: dict[str, str] = {}
    if (folder / "settings.csv").exists():
        srows = _read_csv(folder / "settings.csv")
        if srows:
            settings = {k: (v or "") for k, v in srows[0].items()}
    questions: list[Question] = []
    stack: list[tuple[str, str]] = []
    group_labels: dict[str, str] = {}
    for r in rows:
        typ = (r.get("type") or "").strip()
        name = (r.get("name") or "").strip()
        if not typ:
            continue
        rel = (r.get("relevant") or "").strip()
        low = typ.lower().replace(" ", "_")
        if low in ("begin_group", "begin_repeat"):
            stack.append((name, rel))
            group_labels[name] = (r.get(lab) or "").strip() if lab else name
            continue
        if low in ("end_group", "end_repeat"):
            if stack:
                stack.pop()
            continue
        parts = typ.split()
        base = parts[0]
        list_name = parts[1] if len(parts) > 1 and base in ("select_one", "select_multiple") else None
        if base == "note":
            continue
        questions.append(
            Question(
                name=name,
                type=base,
                list_name=list_name,
                label=(r.get(lab) or "").strip() if lab else name,
                relevant=rel,
                constraint=(r.get("constraint") or "").strip(),
                required=(r.get("required") or "").strip().lower() in ("yes", "true", "true()", "1"),
                calculation=(r.get("calculation") or "").strip(),
                appearance=(r.get("appearance") or "").strip(),
                groups=tuple(g for g, _ in stack),
                group_relevant=tuple(gr for _, gr in stack if gr),
            )
        )
    return Form(questions, choices, labels, labels_ar, settings, group_labels, survey_path)


# --------------------------------------------------------------------------- values


class Value:
    """A column of values for the evaluator: numeric, string, boolean or multi-select."""

    __slots__ = ("kind", "data", "codes")

    def __init__(self, kind: str, data, codes: list[str] | None = None):
        self.kind = kind  # "num", "str", "bool", "multi", "one"
        self.data = data
        self.codes = codes

    # conversions ----------------------------------------------------------
    def as_str(self) -> np.ndarray:
        if self.kind == "str":
            return self.data
        if self.kind == "one":
            lut = np.array(list(self.codes) + [""], dtype=object)
            return lut[np.where(self.data < 0, len(self.codes), self.data)]
        if self.kind == "num":
            out = np.full(self.data.shape, "", dtype=object)
            ok = ~np.isnan(self.data)
            vals = self.data[ok]
            out[ok] = [str(int(v)) if float(v).is_integer() else repr(float(v)) for v in vals]
            return out
        if self.kind == "bool":
            return np.where(self.data, "true", "false").astype(object)
        if self.kind == "multi":
            mat, answered = self.data
            out = np.full(mat.shape[0], "", dtype=object)
            for j, c in enumerate(self.codes):
                sel = mat[:, j]
                out[sel] = np.where(out[sel] == "", c, out[sel] + " " + c)
            out[~answered] = ""
            return out
        raise TypeError(self.kind)

    def as_num(self) -> np.ndarray:
        if self.kind == "num":
            return self.data
        if self.kind == "bool":
            return self.data.astype(float)
        if self.kind == "one":
            lut = np.array([_to_float(c) for c in self.codes] + [np.nan])
            return lut[np.where(self.data < 0, len(self.codes), self.data)]
        if self.kind == "multi":
            return np.full(self.data[0].shape[0], np.nan)
        s = self.data
        return np.array([_to_float(x) for x in s], dtype=float)

    def as_bool(self) -> np.ndarray:
        if self.kind == "bool":
            return self.data
        if self.kind == "num":
            d = self.data
            return ~np.isnan(d) & (d != 0)
        return self.as_str() != ""

    def is_numeric(self) -> bool:
        return self.kind in ("num", "bool")


def _to_float(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return np.nan


# --------------------------------------------------------------------------- parser

_TOKEN = re.compile(
    r"\s*(?:(?P<ref>\$\{[A-Za-z_][\w.-]*\})|(?P<str>'[^']*'|\"[^\"]*\")|(?P<num>\d+(?:\.\d+)?)"
    r"|(?P<op><=|>=|!=|=|<|>|\+|-|\*|\(|\)|,)|(?P<name>[A-Za-z_][\w:-]*)|(?P<dot>\.))"
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    pos = 0
    out: list[tuple[str, str]] = []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ConfigError(f"cannot read expression {text!r} at position {pos}")
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


class Expression:
    """A parsed XLSForm expression (the subset documented in this module)."""

    def __init__(self, text: str):
        self.text = text
        self._toks = _tokenize(text)
        self._i = 0
        self.tree = self._or()
        if self._i != len(self._toks):
            raise ConfigError(f"unexpected {self._toks[self._i][1]!r} in expression {text!r}")
        del self._toks

    # references -------------------------------------------------------------
    def references(self) -> set[str]:
        out: set[str] = set()

        def walk(node):
            if node[0] == "ref":
                out.add(node[1])
            for child in node[1:]:
                if isinstance(child, tuple):
                    walk(child)
                elif isinstance(child, list):
                    for c in child:
                        walk(c)

        walk(self.tree)
        return out

    # recursive descent -----------------------------------------------------
    def _peek(self):
        return self._toks[self._i] if self._i < len(self._toks) else (None, None)

    def _take(self):
        t = self._toks[self._i]
        self._i += 1
        return t

    def _expect(self, val):
        k, v = self._peek()
        if v != val:
            raise ConfigError(f"expected {val!r} in expression {self.text!r}")
        self._i += 1

    def _or(self):
        node = self._and()
        while self._peek() == ("name", "or"):
            self._take()
            node = ("or", node, self._and())
        return node

    def _and(self):
        node = self._eq()
        while self._peek() == ("name", "and"):
            self._take()
            node = ("and", node, self._eq())
        return node

    def _eq(self):
        node = self._rel()
        while self._peek()[1] in ("=", "!=") and self._peek()[0] == "op":
            op = self._take()[1]
            node = ("cmp", op, node, self._rel())
        return node

    def _rel(self):
        node = self._add()
        while self._peek()[0] == "op" and self._peek()[1] in ("<", "<=", ">", ">="):
            op = self._take()[1]
            node = ("cmp", op, node, self._add())
        return node

    def _add(self):
        node = self._mul()
        while self._peek()[0] == "op" and self._peek()[1] in ("+", "-"):
            op = self._take()[1]
            node = ("arith", op, node, self._mul())
        return node

    def _mul(self):
        node = self._unary()
        while (self._peek()[0] == "op" and self._peek()[1] == "*") or self._peek() in (
            ("name", "div"),
            ("name", "mod"),
        ):
            op = self._take()[1]
            node = ("arith", op, node, self._unary())
        return node

    def _unary(self):
        if self._peek() == ("op", "-"):
            self._take()
            return ("neg", self._unary())
        return self._primary()

    def _primary(self):
        kind, val = self._peek()
        if kind is None:
            raise ConfigError(f"expression {self.text!r} ends too early")
        self._take()
        if kind == "ref":
            return ("ref", val[2:-1])
        if kind == "str":
            return ("lit", val[1:-1])
        if kind == "num":
            return ("num", float(val))
        if kind == "dot":
            return ("dot",)
        if kind == "op" and val == "(":
            node = self._or()
            self._expect(")")
            return node
        if kind == "name":
            if self._peek() == ("op", "("):
                self._take()
                args = []
                if self._peek() != ("op", ")"):
                    args.append(self._or())
                    while self._peek() == ("op", ","):
                        self._take()
                        args.append(self._or())
                self._expect(")")
                if val not in _FUNCS:
                    raise ConfigError(
                        f"function {val}() in expression {self.text!r} is outside the simulator's "
                        f"XLSForm subset ({', '.join(sorted(_FUNCS))})"
                    )
                return ("call", val, args)
            if val in ("true", "false"):
                return ("boolc", val == "true")
        raise ConfigError(f"cannot read {val!r} in expression {self.text!r}")


_FUNCS = {
    "selected",
    "count-selected",
    "coalesce",
    "number",
    "string-length",
    "if",
    "today",
    "format-date",
    "regex",
    "not",
    "true",
    "false",
    "int",
    "round",
}


def evaluate(expr: Expression | str, ctx, n: int, current: Value | None = None, today_year: int = 2026) -> Value:
    """Evaluate ``expr`` on ``n`` rows; ``ctx(name)`` returns the :class:`Value` of a question."""
    if isinstance(expr, str):
        expr = Expression(expr)
    return _ev(expr.tree, ctx, n, current, today_year)


def _ev(node, ctx, n, cur, year) -> Value:
    tag = node[0]
    if tag == "ref":
        return ctx(node[1])
    if tag == "dot":
        if cur is None:
            raise ConfigError("'.' used outside a constraint")
        return cur
    if tag == "lit":
        return Value("str", np.full(n, node[1], dtype=object))
    if tag == "num":
        return Value("num", np.full(n, node[1]))
    if tag == "boolc":
        return Value("bool", np.full(n, node[1]))
    if tag in ("and", "or"):
        a = _ev(node[1], ctx, n, cur, year).as_bool()
        b = _ev(node[2], ctx, n, cur, year).as_bool()
        return Value("bool", (a & b) if tag == "and" else (a | b))
    if tag == "neg":
        return Value("num", -_ev(node[1], ctx, n, cur, year).as_num())
    if tag == "arith":
        a = _ev(node[2], ctx, n, cur, year).as_num()
        b = _ev(node[3], ctx, n, cur, year).as_num()
        op = node[1]
        with np.errstate(all="ignore"):
            if op == "+":
                r = a + b
            elif op == "-":
                r = a - b
            elif op == "*":
                r = a * b
            elif op == "div":
                r = a / b
            else:
                r = np.fmod(a, b)
        return Value("num", r)
    if tag == "cmp":
        op = node[1]
        a = _ev(node[2], ctx, n, cur, year)
        b = _ev(node[3], ctx, n, cur, year)
        numeric = a.is_numeric() or b.is_numeric() or op in ("<", "<=", ">", ">=")
        if numeric:
            x, y = a.as_num(), b.as_num()
            with np.errstate(invalid="ignore"):
                r = {
                    "=": x == y,
                    "!=": x != y,
                    "<": x < y,
                    "<=": x <= y,
                    ">": x > y,
                    ">=": x >= y,
                }[op]
        else:
            x, y = a.as_str(), b.as_str()
            r = (x == y) if op == "=" else (x != y)
        return Value("bool", np.asarray(r, dtype=bool))
    if tag == "call":
        name, args = node[1], node[2]
        if name == "not":
            return Value("bool", ~_ev(args[0], ctx, n, cur, year).as_bool())
        if name in ("true", "false"):
            return Value("bool", np.full(n, name == "true"))
        if name == "selected":
            v = _ev(args[0], ctx, n, cur, year)
            code = _ev(args[1], ctx, n, cur, year).as_str()
            code0 = code[0] if n else ""
            if v.kind == "multi":
                mat, answered = v.data
                if code0 in v.codes:
                    return Value("bool", mat[:, v.codes.index(code0)] & answered)
                return Value("bool", np.zeros(n, dtype=bool))
            s = v.as_str()
            return Value("bool", np.array([code0 in str(x).split() for x in s], dtype=bool))
        if name == "count-selected":
            v = _ev(args[0], ctx, n, cur, year)
            if v.kind == "multi":
                mat, answered = v.data
                return Value("num", np.where(answered, mat.sum(axis=1), 0).astype(float))
            s = v.as_str()
            return Value("num", np.array([len(str(x).split()) for x in s], dtype=float))
        if name == "coalesce":
            a = _ev(args[0], ctx, n, cur, year)
            b = _ev(args[1], ctx, n, cur, year)
            if a.is_numeric() or a.kind == "one":
                an = a.as_num()
                return Value("num", np.where(np.isnan(an), b.as_num(), an))
            sa = a.as_str()
            return Value("str", np.where(sa == "", b.as_str(), sa))
        if name in ("number", "int", "round"):
            v = _ev(args[0], ctx, n, cur, year).as_num()
            if name == "int":
                v = np.trunc(v)
            elif name == "round":
                v = np.round(v)
            return Value("num", v)
        if name == "string-length":
            s = _ev(args[0], ctx, n, cur, year).as_str()
            return Value("num", np.array([len(str(x)) for x in s], dtype=float))
        if name == "if":
            c = _ev(args[0], ctx, n, cur, year).as_bool()
            a = _ev(args[1], ctx, n, cur, year)
            b = _ev(args[2], ctx, n, cur, year)
            if a.is_numeric() and b.is_numeric():
                return Value("num", np.where(c, a.as_num(), b.as_num()))
            return Value("str", np.where(c, a.as_str(), b.as_str()))
        if name == "today":
            return Value("str", np.full(n, f"{year}-01-01", dtype=object))
        if name == "format-date":
            return Value("str", np.full(n, str(year), dtype=object))
        if name == "regex":
            s = _ev(args[0], ctx, n, cur, year).as_str()
            pat = re.compile(_ev(args[1], ctx, n, cur, year).as_str()[0] if n else "")
            return Value("bool", np.array([bool(pat.search(str(x))) for x in s], dtype=bool))
    raise ConfigError(f"cannot evaluate node {tag}")

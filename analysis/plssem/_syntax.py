"""PLS-SEM model syntax: lavaan-style lines turned into a checked model specification.

Grammar (one statement per line, or several separated by ``;``; ``#`` starts a comment)::

    Image =~ IMAG1 + IMAG2 + IMAG3     # reflective construct, mode A weights
    Quality <~ q1 + q2 + q3            # formative composite, mode B (regression) weights
    Satisfaction =~ Image + Value      # higher-order construct: its "items" are constructs
    Loyalty ~ Satisfaction + Image + Image:Value   # paths; ``A:B`` is an interaction term

* ``=~`` declares a mode-A construct (reflective; corrected by PLSc when ``consistent=True``),
  ``<~`` a mode-B composite. When every right-hand name is itself a construct, the construct
  is a **higher-order construct**, estimated by the two-stage approach (first stage: the
  lower-order constructs take the place of the higher-order one in the paths; second stage:
  their scores are the indicators of the higher-order construct).
* ``~`` declares paths (``Y1 + Y2 ~ X`` is allowed). ``A:B`` on the right of ``~`` is the
  interaction of constructs ``A`` and ``B``; it is named ``"A:B"`` in every result. How the
  interaction construct is built is chosen by the ``interaction`` argument of
  :func:`analysis.plssem.pls` (``"two_stage"``, ``"product_indicator"`` or ``"orthogonal"``).

Every error is an :class:`analysis.errors.InputError` whose one sentence quotes the model
line at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analysis.errors import InputError

__all__ = ["Block", "ModelSpec", "parse_model", "INTERACTION_METHODS"]

INTERACTION_METHODS = ("two_stage", "product_indicator", "orthogonal")

_OP_RE = re.compile(r"=~|<~|~")
_NAME_RE = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


@dataclass
class Block:
    """One construct of the measurement model.

    ``mode`` is ``"A"`` or ``"B"``; ``kind`` is ``"reflective"`` (``=~`` on items),
    ``"composite"`` (``<~`` on items), ``"hoc"`` (on constructs) or ``"interaction"``.
    ``items`` are data columns, or lower-order constructs for a ``"hoc"``.
    """

    name: str
    items: list[str]
    mode: str
    kind: str
    line: str = ""
    components: tuple[str, str] | None = None  # interactions only


@dataclass
class ModelSpec:
    """A checked PLS model: constructs (declaration order) and paths (source, target)."""

    blocks: dict[str, Block] = field(default_factory=dict)
    paths: list[tuple[str, str]] = field(default_factory=list)
    path_lines: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def hocs(self) -> list[str]:
        return [b.name for b in self.blocks.values() if b.kind == "hoc"]

    @property
    def interactions(self) -> list[str]:
        return [b.name for b in self.blocks.values() if b.kind == "interaction"]

    def constructs_in_paths(self) -> list[str]:
        """Constructs that appear in a path, in declaration order (as seminr's smMatrix)."""
        used = {c for p in self.paths for c in p}
        return [c for c in self.blocks if c in used]


def _fail(line: str, number: int, what: str) -> InputError:
    return InputError(f"model line {number} '{line.strip()}': {what}")


def _terms(text: str, line: str, number: int) -> list[str]:
    terms = [t.strip() for t in text.split("+")]
    if not terms or any(t == "" for t in terms):
        raise _fail(line, number, "a term is missing around '+'")
    return terms


def parse_model(model: str, columns) -> ModelSpec:
    """Parse and check a PLS model written in lavaan-style syntax.

    Parameters
    ----------
    model : str
        The model text (see the module docstring for the grammar).
    columns : iterable of str
        The data columns, to check that every indicator exists.

    Returns
    -------
    ModelSpec

    Raises
    ------
    InputError
        Unknown variable, empty or duplicated construct, a construct without any path,
        an interaction of undeclared constructs, a mixed block of items and constructs.

    Examples
    --------
    >>> spec = parse_model("A =~ a1 + a2\\nB <~ b1 + b2\\nB ~ A", ["a1", "a2", "b1", "b2"])
    >>> [(b.name, b.mode, b.kind) for b in spec.blocks.values()]
    [('A', 'A', 'reflective'), ('B', 'B', 'composite')]
    >>> spec.paths
    [('A', 'B')]
    """
    if not isinstance(model, str) or not model.strip():
        raise InputError("the PLS model is empty; expected lines such as 'Y =~ y1 + y2'")
    columns = set(map(str, columns))
    statements: list[tuple[int, str, str, str, str]] = []
    for number, raw in enumerate(model.splitlines(), start=1):
        text = raw.split("#", 1)[0]
        for part in text.split(";"):
            if not part.strip():
                continue
            ops = _OP_RE.findall(part)
            if len(ops) != 1:
                raise _fail(part, number, "expected exactly one of '=~', '<~' or '~'")
            lhs, rhs = (s.strip() for s in _OP_RE.split(part, maxsplit=1))
            statements.append((number, part, lhs, ops[0], rhs))

    spec = ModelSpec()
    raw_blocks: list[tuple[int, str, str, str, list[str]]] = []
    for number, line, lhs, op, rhs in statements:
        if op in ("=~", "<~"):
            if not _NAME_RE.match(lhs):
                raise _fail(line, number, f"'{lhs}' is not a valid construct name")
            if rhs == "":
                raise _fail(line, number, f"construct '{lhs}' has no indicator")
            items = _terms(rhs, line, number)
            for item in items:
                if "*" in item or ":" in item:
                    raise _fail(line, number, f"'{item}' cannot be an indicator")
            if lhs in spec.blocks or any(b[1] == lhs for b in raw_blocks):
                raise _fail(line, number, f"construct '{lhs}' is defined twice")
            if len(set(items)) != len(items):
                raise _fail(line, number, f"construct '{lhs}' lists an indicator twice")
            raw_blocks.append((number, line, lhs, op, items))
            spec.blocks[lhs] = Block(lhs, items, "A" if op == "=~" else "B", "", line.strip())
    for number, line, lhs, op, items in raw_blocks:
        block = spec.blocks[lhs]
        # a single-item construct may carry its item's name ("CUSCO =~ CUSCO")
        is_construct = [i in spec.blocks and i != lhs for i in items]
        if all(is_construct):
            for i in items:
                if spec.blocks[i].kind == "hoc" or any(
                    j in spec.blocks and j != i for j in spec.blocks[i].items
                ):
                    raise _fail(line, number, "only two levels of constructs are supported")
            block.kind = "hoc"
        elif any(is_construct):
            raise _fail(line, number, f"construct '{lhs}' mixes indicators and constructs")
        else:
            missing = [i for i in items if i not in columns]
            if missing:
                raise _fail(line, number, f"'{missing[0]}' is not a column of the data")
            block.kind = "reflective" if op == "=~" else "composite"

    for number, line, lhs, op, rhs in statements:
        if op != "~":
            continue
        targets = _terms(lhs, line, number)
        sources = _terms(rhs, line, number) if rhs else []
        if not sources:
            raise _fail(line, number, "a path needs at least one predictor after '~'")
        for t in targets:
            if t not in spec.blocks or spec.blocks[t].kind == "interaction":
                raise _fail(line, number, f"'{t}' is not a construct defined with '=~' or '<~'")
        for s in sources:
            if ":" in s:
                parts = [p.strip() for p in s.split(":")]
                if len(parts) != 2 or parts[0] == parts[1]:
                    raise _fail(line, number, f"'{s}' must be the interaction of two constructs")
                for p in parts:
                    if p not in spec.blocks or spec.blocks[p].kind == "interaction":
                        raise _fail(line, number, f"'{p}' in '{s}' is not a construct")
                s = ":".join(parts)
                if s not in spec.blocks:
                    spec.blocks[s] = Block(s, [], "A", "interaction", line.strip(),
                                           components=(parts[0], parts[1]))
            elif s not in spec.blocks:
                if s in columns:
                    raise _fail(line, number, f"'{s}' is a column of the data, not a construct "
                                "defined with '=~' or '<~'")
                raise _fail(line, number, f"'{s}' is not a construct defined with '=~' or '<~'")
            for t in targets:
                if s == t:
                    raise _fail(line, number, f"'{t}' cannot predict itself")
                if (s, t) in spec.path_lines:
                    raise _fail(line, number, f"the path {s} -> {t} is written twice")
                spec.paths.append((s, t))
                spec.path_lines[(s, t)] = line.strip()

    if not spec.paths:
        raise InputError("the PLS model has no path; expected a line such as 'Y ~ X'")
    used = {c for p in spec.paths for c in p}
    hoc_dims = {i for b in spec.blocks.values() if b.kind == "hoc" for i in b.items}
    for b in spec.blocks.values():
        if b.kind != "interaction" and b.name not in used and b.name not in hoc_dims:
            raise InputError(
                f"model line '{b.line}': construct '{b.name}' is in no path; "
                "add a line such as 'Y ~ " + b.name + "'"
            )
        if b.kind == "hoc" and b.name not in used:
            raise InputError(f"model line '{b.line}': higher-order construct '{b.name}' "
                             "is in no path")
    for dim in hoc_dims:
        if dim in used:
            raise InputError(
                f"model line '{spec.blocks[dim].line}': construct '{dim}' is a dimension of a "
                "higher-order construct and cannot also be in a path"
            )
    _check_recursive(spec)
    return spec


def _check_recursive(spec: ModelSpec) -> None:
    """Refuse feedback loops (PLS path models are recursive)."""
    succ: dict[str, list[str]] = {}
    for s, t in spec.paths:
        succ.setdefault(s, []).append(t)
    state: dict[str, int] = {}

    def visit(node: str) -> None:
        state[node] = 1
        for nxt in succ.get(node, []):
            if state.get(nxt) == 1:
                raise InputError(
                    f"model line '{spec.path_lines[(node, nxt)]}': the paths form a loop "
                    f"through '{nxt}'; PLS path models must be recursive"
                )
            if nxt not in state:
                visit(nxt)
        state[node] = 2

    for node in list(succ):
        if node not in state:
            visit(node)

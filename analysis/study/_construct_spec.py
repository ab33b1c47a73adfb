"""The constructs of the study as typed objects, read from ``questionnaire/constructs.yaml``.

This module only reads and checks the file itself (names, rules, counts of
items); :func:`check_constructs` lists what does not match the questionnaire
(an item that is not a Likert question, a share that is not a number...), and
:func:`analysis.study._constructs.load_constructs` raises on the first of
those. It imports nothing else of the study, so that the questionnaire module
(codebook) and the constructs module can both use it.

The measurement model follows the constructs' dimensions (one first-order
factor per dimension, named by the items' prefix, and a second-order factor per
construct of three dimensions or more) unless ``measurement_model`` is written
in the file; a written model must name every item of every dimension.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.errors import ConfigError
from analysis.study._problems import Problem, did_you_mean
from analysis.study._yaml import YamlDoc, display_path, read_yaml

__all__ = [
    "DEFAULT_CONSTRUCTS_PATH",
    "Dimension",
    "Construct",
    "ConstructSpec",
    "read_constructs",
    "parse_constructs",
    "check_constructs",
    "lavaan_terms",
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
    label_fr, label_ar, label_en : str
        Labels (``label_en`` empty when not written).
    """

    construct: str
    name: str
    items: tuple[str, ...]
    reverse: tuple[str, ...]
    min_valid: int
    label_fr: str = ""
    label_ar: str = ""
    label_en: str = ""

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
    label_fr, label_ar, role, label_en : str
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
    label_en: str = ""

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
        lavaan syntax; the measurement model is the one written in the file, else
        the one that follows the dimensions (:meth:`dimension_model`).
    measurement_model_written : bool
        True when ``measurement_model`` is written in the file.
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
    measurement_model_written: bool = False

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

    def dimension_model(self) -> str:
        """The measurement model that follows the dimensions (lavaan syntax).

        One first-order factor per dimension, named by the prefix of its first
        item (``si_nov``; ``<construct>__<dimension>`` if two dimensions share a
        prefix), and, for a construct of three dimensions or more scored as the
        mean of its dimensions, a second-order factor named after the construct.

        Examples
        --------
        >>> spec = read_constructs()
        >>> print(spec.dimension_model().splitlines()[0])
        si_nov =~ si_nov_01 + si_nov_02 + si_nov_03 + si_nov_04
        """
        lines: list[str] = []
        prefixes = [d.latent for c in self.reflective for d in c.dimensions]
        for c in self.reflective:
            latents = []
            for d in c.dimensions:
                name = d.latent if prefixes.count(d.latent) == 1 and d.latent not in self.names else f"{c.name}__{d.name}"
                latents.append(name)
                lines.append(f"{name} =~ {' + '.join(d.items)}")
            if len(latents) >= 3 and c.rule == "mean_of_dimensions":
                lines.append(f"{c.name} =~ {' + '.join(latents)}")
        return "\n".join(lines) + ("\n" if lines else "")

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


class _SpecError(ConfigError):
    """A malformed constructs.yaml; ``where`` and ``msg`` let :func:`parse_constructs` add the line."""

    def __init__(self, path: Path, where: str, msg: str):
        self.path, self.where, self.msg = path, where, msg
        super().__init__(f"file '{display_path(path)}', {where}: {msg}.")


def _err(path: Path, where: str, msg: str) -> ConfigError:
    return _SpecError(path, where, msg)


_WHERE_RE = re.compile(r"^(?:construct '([^']*)')?(?:, dimension '([^']*)')?(?:, ([a-z_]+))?")


def _keys_of(where: str) -> tuple:
    """Keys of the YAML node a ``where`` text such as "construct 'x', dimension 'y', items" points to."""
    if where.startswith("problem_groups"):
        m = re.match(r"problem_groups(?:, '([^']*)')?", where)
        return ("problem_groups",) + ((m.group(1),) if m and m.group(1) else ())
    if where in ("scale", "top level"):
        return ("scale",) if where == "scale" else ()
    m = _WHERE_RE.match(where)
    keys: tuple = ()
    if m and m.group(1):
        keys = ("constructs", m.group(1))
        if m.group(2):
            keys += ("dimensions", m.group(2))
        if m.group(3):
            keys += (m.group(3),)
    return keys


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
                  "label_ar": str(body.get("label_ar", "")), "role": str(body.get("role", "")),
                  "label_en": str(body.get("label_en", "") or "")}
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
                                  label_ar=str(dbody.get("label_ar", "")),
                                  label_en=str(dbody.get("label_en", "") or "")))
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
    written = str(raw.get("measurement_model", "") or "")
    spec = ConstructSpec(
        constructs=tuple(constructs), scale_min=smin, scale_max=smax, missing_codes=missing,
        measurement_model=written,
        measurement_model_written=bool(written.strip()),
        structural_model=str(raw.get("structural_model", "") or ""),
        problem_groups={g: {"label_fr": str((b or {}).get("label_fr", "")),
                            "items": _as_list((b or {}).get("items"), path, f"problem_groups, '{g}'")}
                        for g, b in groups.items()},
        path=path,
    )
    if not spec.measurement_model_written:
        spec = replace(spec, measurement_model=spec.dimension_model())
    return spec


def parse_constructs(doc: YamlDoc) -> ConstructSpec:
    """The :class:`ConstructSpec` of a read ``constructs.yaml`` (not checked against the questionnaire).

    Raises
    ------
    ConfigError
        If the file itself is malformed: one sentence naming the file, the line,
        the construct and the dimension.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "constructs.yaml"
    >>> _ = p.write_text("constructs:\\n  c:\\n    dimensions:\\n      d:\\n        items: [a, b]\\n")
    >>> try:
    ...     parse_constructs(read_yaml(p))
    ... except ConfigError as exc:
    ...     print(str(exc).split(", ", 1)[1])
    line 4: construct 'c', dimension 'd': a dimension needs at least 3 items, found 2.
    """
    try:
        return _parse(doc.data, doc.path)
    except _SpecError as exc:
        line = doc.line(*_keys_of(exc.where))
        at = f", line {line}" if line else ""
        raise ConfigError(f"file '{display_path(doc.path)}'{at}: {exc.where}: {exc.msg}.") from None


def read_constructs(path: str | Path | None = None) -> ConstructSpec:
    """Read ``constructs.yaml`` (default ``questionnaire/constructs.yaml``) without the questionnaire.

    Examples
    --------
    >>> read_constructs().names[:2]
    ['si_presence', 'internal_capacity']
    """
    return parse_constructs(read_yaml(Path(path) if path is not None else config.QUESTIONNAIRE_DIR / "constructs.yaml"))


_LAVAAN_OP = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|~~|~)\s*(.+)$")


def lavaan_terms(model: str) -> list[tuple[str, str, list[str], int]]:
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


def _model_problems(spec: ConstructSpec, doc: YamlDoc | None, names: set[str]) -> list[tuple]:
    out = []
    file_line = (lambda key: doc.line(key)) if doc is not None else (lambda key: None)
    latent_mm: set[str] = set()
    indicators: set[str] = set()
    for key in ("measurement_model", "structural_model"):
        model = getattr(spec, key)
        if key == "measurement_model" and not spec.measurement_model_written:
            latent_mm = {lhs for lhs, op, _, _ in lavaan_terms(model) if op == "=~"}
            continue
        base = file_line(key)
        try:
            terms = lavaan_terms(model)
        except ValueError as exc:
            out.append((base, f"{key} cannot be read ({exc})", ""))
            continue
        latent = set(latent_mm) | {lhs for lhs, op, _, _ in terms if op == "=~"}
        if key == "measurement_model":
            latent_mm = latent
            indicators = {v for lhs, op, rhs, _ in terms if op == "=~" for v in rhs}
        for lhs, _op, rhs, k in terms:
            for v in [lhs, *rhs]:
                if v not in latent and v not in names:
                    out.append(((base + k) if base else None,
                                f"{key} names '{v}', which is neither a latent variable of the model nor a question",
                                did_you_mean(v, latent | names)))
    if spec.measurement_model_written:
        for c in spec.reflective:
            for d in c.dimensions:
                for i in d.items:
                    if i not in indicators:
                        line = doc.line("constructs", c.name, "dimensions", d.name, "items") if doc else None
                        out.append((line, f"item '{i}' of dimension '{d.name}' (construct '{c.name}') is not in "
                                    "measurement_model, so the CFA would leave it out: add it to the model, or "
                                    "delete measurement_model so that the model follows the dimensions", ""))
    return out


def check_constructs(spec: ConstructSpec, questionnaire, doc: YamlDoc | None = None) -> list:
    """What in ``constructs.yaml`` does not match the questionnaire, as :class:`Problem` objects.

    Checks: every item of a dimension is a Likert question (select_one on a
    1-5 list), every funding share a numeric question, every item of
    ``problem_groups`` a Likert question, every name of the lavaan models a
    latent variable or a question, and a written ``measurement_model`` names
    every item of every dimension.

    Parameters
    ----------
    spec : ConstructSpec
    questionnaire : Questionnaire
        Anything with ``names``, ``likert_items`` and ``numeric``.
    doc : YamlDoc, optional
        The file as read, for line numbers.

    Examples
    --------
    >>> from analysis.study import load_questionnaire
    >>> check_constructs(read_constructs(), load_questionnaire())
    []
    """
    path = spec.path if spec.path is not None else (doc.path if doc is not None else DEFAULT_CONSTRUCTS_PATH)
    shown = display_path(path)
    line = (lambda *k: doc.line(*k)) if doc is not None else (lambda *k: None)
    likert = set(questionnaire.likert_items)
    names = set(questionnaire.names)
    numeric = set(questionnaire.numeric)
    problems: list[Problem] = []
    for c in spec.reflective:
        for d in c.dimensions:
            for k, i in enumerate(d.items):
                at = line("constructs", c.name, "dimensions", d.name, "items", k)
                if i not in names:
                    problems.append(Problem(shown, at, f"item '{i}' of dimension '{d.name}' (construct '{c.name}') "
                                            "is not a question of survey.csv", did_you_mean(i, likert)))
                elif i not in likert:
                    problems.append(Problem(shown, at, f"item '{i}' of dimension '{d.name}' (construct '{c.name}') "
                                            "is not a Likert item (select_one on a 1-5 list)"))
    for c in spec.formative:
        for k, s in enumerate(c.shares):
            if s not in numeric:
                problems.append(Problem(shown, line("constructs", c.name, "shares", k),
                                        f"share '{s}' of construct '{c.name}' is not a numeric (integer/decimal) "
                                        "question of survey.csv", did_you_mean(s, numeric)))
    for g, body in spec.problem_groups.items():
        for k, i in enumerate(body["items"]):
            if i not in likert:
                problems.append(Problem(shown, line("problem_groups", g, "items", k),
                                        f"item '{i}' of problem group '{g}' is not a Likert item of survey.csv",
                                        did_you_mean(i, likert)))
    for at, message, hint in _model_problems(spec, doc, names):
        problems.append(Problem(shown, at, message, hint))
    return problems

"""Check the study files against each other before any work starts.

:func:`validate_study` returns every problem found in ``constructs.yaml``,
``tables.yaml``, ``analysis_plan.yaml``, ``cleaning.yaml`` and
``population.yaml`` (and the questionnaire itself), each as one sentence naming
the file, the line and the bad name, with a "did you mean" when a known name is
close; :func:`check_study` raises them as one
:class:`~analysis.study._problems.StudyError`. The commands ``instrument``,
``clean``, ``tables`` and ``run`` call it first, so that nothing is written when
a plan names something that does not exist.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping

from analysis.errors import ConfigError
from analysis.study import _schema as S
from analysis.study._construct_spec import check_constructs
from analysis.study._dataset import DERIVED_COLUMNS
from analysis.study._instrument import codebook, validate_questionnaire
from analysis.study._problems import Problem, StudyError, did_you_mean
from analysis.study._study import Study
from analysis.study._yaml import YamlDoc, display_path

__all__ = ["validate_study", "check_study", "analysis_columns", "formula_variables"]

#: Columns the cleaning stage adds to every row of ``survey.parquet``.
CLEANING_COLUMNS = ("resp_id", "org_age", "legal_form_group", "duration_min", "analysed",
                    "_source_file", "_source_row") + tuple(f"flag_{f}" for f in S.CLEANING_FLAGS)

#: Names a patsy formula may call or use that are not columns.
_FORMULA_FUNCTIONS = {"C", "I", "Q", "np", "center", "standardize", "scale", "Treatment", "Sum", "Diff",
                      "Poly", "Helmert", "bs", "cr", "cc", "te", "log", "log1p", "exp", "sqrt", "abs",
                      "True", "False", "None"}


def analysis_columns(study: Study) -> set[str]:
    """Names of the columns the analysis file will have.

    The export columns of the questionnaire (questions, one column per option of
    a select_multiple question, KoboToolbox's own columns), the ``<question>_count``
    of each select_multiple question, the columns the cleaning adds (flags,
    ``legal_form_group``, ``org_age``...), the construct scores ``score_*`` and
    the derived variables of the analysis data set (``log_members``,
    ``funding_diversity``, ``support_n_types``, ``design_weight``...).

    Examples
    --------
    >>> from analysis.study import load_study
    >>> cols = analysis_columns(load_study())
    >>> {"score_si_presence", "target_groups/women", "log_members"} <= cols
    True
    """
    q = study.questionnaire
    cols = set(codebook(q, constructs=study.constructs)["variable"])
    cols |= {f"{name}_count" for name in q.select_multiple}
    cols |= set(CLEANING_COLUMNS)
    cols |= set(study.constructs.score_columns)
    cols |= set(DERIVED_COLUMNS)
    return cols


def formula_variables(formula: str) -> list[str]:
    """The variable names a patsy formula uses (functions such as ``C``, ``I``, ``np.log`` left out).

    Raises
    ------
    ValueError
        If the formula cannot be read.

    Examples
    --------
    >>> formula_variables("I(y >= 4) ~ x * z + C(region, Treatment('R06')) + np.log(n + 1)")
    ['y', 'x', 'z', 'region', 'n']
    """
    text = formula.replace("~", "+", 1) if "~" in formula else formula
    text = re.sub(r"(?<![<>=!:]):(?![=:])", "*", text)
    text = text.strip()
    if text.startswith("+"):
        text = text[1:]
    tree = ast.parse(text, mode="eval")
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            skip.add(id(node.func))
            for sub in ast.walk(node.func):
                skip.add(id(sub))
        elif isinstance(node, ast.Attribute):
            for sub in ast.walk(node.value):
                skip.add(id(sub))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in skip and node.id not in _FORMULA_FUNCTIONS:
            if node.id not in out:
                out.append(node.id)
    # ast.walk is breadth-first: put names back in the order they are written
    return sorted(out, key=lambda n: re.search(rf"\b{re.escape(n)}\b", formula).start())


class _Checker:
    """Collects the problems of one file."""

    def __init__(self, doc: YamlDoc, problems: list[Problem]):
        self.doc = doc
        self.file = display_path(doc.path)
        self.problems = problems

    def add(self, keys: tuple, message: str, suggestion: str = "") -> None:
        self.problems.append(Problem(self.file, self.doc.line(*keys), message, suggestion))

    def keys(self, mapping: object, keys: tuple, allowed: Mapping | Iterable[str], where: str) -> None:
        """Unknown keys of ``mapping`` (at ``keys``) against ``allowed``."""
        if not isinstance(mapping, dict):
            return
        allowed = set(allowed)
        for k in mapping:
            if k in allowed or S.is_label_key(k):
                continue
            self.add(keys + (k,), f"unknown key '{k}' {where}", did_you_mean(k, allowed))

    def names(self, values: object, keys: tuple, known: set[str], what: str, where: str,
              pool: Iterable[str] | None = None) -> None:
        """Each name of ``values`` (a name or a list of names) must be in ``known``."""
        items = values if isinstance(values, list) else [values]
        for i, v in enumerate(items):
            if v is None or str(v) in known:
                continue
            at = keys + (i,) if isinstance(values, list) else keys
            self.add(at, f"{where} '{v}' is not {what}", did_you_mean(v, pool or known))


def _check_questionnaire(study: Study, problems: list[Problem]) -> None:
    try:
        validate_questionnaire(study.questionnaire)
    except ConfigError as exc:
        problems.append(Problem("", None, str(exc).rstrip(".")))


def _check_constructs(study: Study, problems: list[Problem]) -> None:
    doc = study.constructs_doc
    c = _Checker(doc, problems)
    data = doc.data if isinstance(doc.data, dict) else {}
    c.keys(data, (), S.CONSTRUCTS_KEYS, "at the top of the file")
    c.keys(data.get("scale"), ("scale",), S.SCALE_KEYS, "in scale")
    for name, body in (data.get("constructs") or {}).items():
        c.keys(body, ("constructs", name), S.CONSTRUCT_KEYS, f"in construct '{name}'")
        for dname, dbody in ((body or {}).get("dimensions") or {}).items() if isinstance(body, dict) else ():
            c.keys(dbody, ("constructs", name, "dimensions", dname), S.DIMENSION_KEYS,
                   f"in dimension '{dname}' of construct '{name}'")
    for g, body in (data.get("problem_groups") or {}).items():
        c.keys(body, ("problem_groups", g), S.PROBLEM_GROUP_KEYS, f"in problem group '{g}'")
    problems.extend(check_constructs(study.constructs, study.questionnaire, doc))


def _check_tables(study: Study, columns: set[str], kind_options: Mapping[str, Mapping[str, str]] | None,
                  problems: list[Problem]) -> None:
    plan = study.tables
    doc = plan.doc
    c = _Checker(doc, problems)
    data = doc.data if isinstance(doc.data, dict) else {}
    c.keys(data, (), S.TABLE_PLAN_KEYS, "at the top of the file")
    c.keys(plan.options, ("options",), S.TABLE_PLAN_OPTIONS, "in options")
    constructs = set(study.constructs.names)
    reflective = {k.name for k in study.constructs.reflective}
    models = set(study.analysis_plan.models)
    for key in ("construct", "default_construct"):
        if key in plan.options:
            c.names(plan.options[key], ("options", key), reflective, "a reflective construct of constructs.yaml",
                    f"options, {key}:")
    if "group" in plan.options:
        c.names(plan.options["group"], ("options", "group"), columns, "a column of the analysis file",
                "options, group:")
    seen: dict[str, int] = {}
    for t in plan.tables:
        at = ("tables", t.index)
        label = f"table '{t.id}'" if t.id else f"table {t.index + 1}"
        if not t.id:
            c.add(at, f"{label} has no 'id'")
        elif t.id in seen:
            c.add(at + ("id",), f"the id '{t.id}' is used twice (first on line {seen[t.id]})")
        else:
            seen[t.id] = doc.line(*at + ("id",)) or 0
        if kind_options is None:  # the report's kinds were not given: their options unchecked
            continue
        if t.kind not in kind_options:
            c.add(at + ("kind",), f"{label} has an unknown kind '{t.kind}'", did_you_mean(t.kind, kind_options))
            continue
        if not str(t.title.get("fr") or "").strip():
            c.add(at + ("title",), f"{label} needs a French title (title: {{fr: ...}})")
        allowed = set(kind_options[t.kind])
        for k in t.options:
            if k in allowed or S.is_label_key(k):
                continue
            c.add(at + (k,), f"unknown option '{k}' in {label} (kind {t.kind})",
                  did_you_mean(k, allowed) or (f"; the options of kind {t.kind} are "
                                               f"{', '.join(sorted(allowed)) or '(none)'}"))
        for k, v in t.options.items():
            if k not in allowed:
                continue
            where = f"{label}, option '{k}':"
            if k in S.CONSTRUCT_OPTIONS:
                known = reflective if t.kind in ("likert", "efa", "cfa", "invariance") else constructs
                c.names(v, at + (k,), known, "a reflective construct of constructs.yaml", where)
            elif k in S.COLUMN_OPTIONS:
                c.names(v, at + (k,), columns, "a column of the analysis file (a question of survey.csv, "
                        "a score or a derived variable)", where)
            elif k in S.MODEL_OPTIONS:
                c.names(v, at + (k,), models, "a model of analysis_plan.yaml", where)


def _check_formula(c: _Checker, keys: tuple, text: object, terms: dict, columns: set[str], where: str) -> None:
    if not isinstance(text, str):
        c.add(keys, f"{where} must be a text")
        return
    used = re.findall(r"{(\w+)}", text)
    for t in used:
        if t not in terms:
            c.add(keys, f"{where} inserts {{{t}}}, which is not a snippet of terms", did_you_mean(t, terms))
    try:
        expanded = text.format(**{t: terms.get(t, "1") for t in used})
        names = formula_variables(expanded)
    except (SyntaxError, ValueError, KeyError, IndexError) as exc:
        c.add(keys, f"{where} cannot be read ({exc.__class__.__name__})")
        return
    for n in names:
        if n not in columns:
            through = [t for t in used if re.search(rf"\b{re.escape(n)}\b", terms.get(t, ""))]
            via = f" (through {{{through[0]}}})" if through and not re.search(rf"\b{re.escape(n)}\b", text) else ""
            c.add(keys, f"{where} names '{n}'{via}, which is not a column of the analysis file", did_you_mean(n, columns))


def _check_analysis_plan(study: Study, columns: set[str], problems: list[Problem]) -> None:
    doc = study.analysis_plan.doc
    c = _Checker(doc, problems)
    data = doc.data if isinstance(doc.data, dict) else {}
    c.keys(data, (), S.ANALYSIS_PLAN_KEYS, "at the top of the file")
    terms = study.analysis_plan.terms
    c.keys(data.get("defaults"), ("defaults",), S.MODEL_KEYS, "in defaults")
    for name, spec in study.analysis_plan.models.items():
        at = ("models", name)
        if not isinstance(spec, dict):
            c.add(at, f"model '{name}' must be a mapping with a formula")
            continue
        c.keys(spec, at, S.MODEL_KEYS, f"in model '{name}'")
        if "formula" not in spec:
            c.add(at, f"model '{name}' has no formula")
        else:
            _check_formula(c, at + ("formula",), spec["formula"], terms, columns, f"the formula of model '{name}'")
        kind = spec.get("model", (data.get("defaults") or {}).get("model", "ols"))
        if kind not in ("ols", "logit", "ordinal", "poisson", "negbin"):
            c.add(at + ("model",), f"model '{name}' has an unknown model kind '{kind}'",
                  did_you_mean(kind, ("ols", "logit", "ordinal", "poisson", "negbin")))
        se = spec.get("se", (data.get("defaults") or {}).get("se", "classical"))
        if se not in ("classical", "hc3", "cluster"):
            c.add(at + ("se",), f"model '{name}' has an unknown se '{se}'", did_you_mean(se, ("classical", "hc3", "cluster")))
        for key in ("center", "cluster"):
            if key in spec:
                c.names(spec[key], at + (key,), columns, "a column of the analysis file", f"model '{name}', {key}:")
        slopes = spec.get("simple_slopes")
        if isinstance(slopes, dict):
            for key in ("focal", "moderator"):
                if key in slopes:
                    c.names(slopes[key], at + ("simple_slopes", key), columns, "a column of the analysis file",
                            f"model '{name}', simple_slopes {key}:")
        if isinstance(spec.get("filter"), str):
            try:
                names = formula_variables(spec["filter"].replace("@", ""))
            except (SyntaxError, ValueError):
                names = []
            for n in names:
                if n not in columns:
                    c.add(at + ("filter",), f"the filter of model '{name}' names '{n}', which is not a column of "
                          "the analysis file", did_you_mean(n, columns))
    comp = data.get("comparisons")
    if isinstance(comp, dict):
        c.keys(comp, ("comparisons",), S.COMPARISON_KEYS, "in comparisons")
        if "group" in comp:
            c.names(comp["group"], ("comparisons", "group"), columns, "a column of the analysis file",
                    "comparisons, group:")
        c.names(comp.get("outcomes") or [], ("comparisons", "outcomes"), columns, "a column of the analysis file",
                "comparisons, outcomes:")
    for i, ct in enumerate(data.get("crosstabs") or []):
        if isinstance(ct, dict):
            c.keys(ct, ("crosstabs", i), ("row", "col"), "in a cross-table")
            for key in ("row", "col"):
                if key in ct:
                    c.names(ct[key], ("crosstabs", i, key), columns, "a column of the analysis file",
                            f"crosstabs, {key}:")


def _check_cleaning(study: Study, problems: list[Problem]) -> None:
    doc = study.cleaning.doc
    c = _Checker(doc, problems)
    data = study.cleaning.settings
    c.keys(data, (), S.CLEANING_KEYS, "at the top of the file")
    for section, keys in S.CLEANING_KEYS.items():
        if isinstance(keys, dict) and isinstance(data.get(section), dict):
            c.keys(data[section], (section,), keys, f"in {section}")
    q = study.questionnaire
    questions = set(q.names)
    what = "a question of survey.csv"
    for section, key in (("tests", "name_columns"), ("duplicates", "organisation_key"),
                         ("duplicates", "contact_columns")):
        value = (data.get(section) or {}).get(key) if isinstance(data.get(section), dict) else None
        if value:
            c.names(value, (section, key), questions, what, f"{section}, {key}:")
    elig = data.get("eligibility") if isinstance(data.get("eligibility"), dict) else {}
    for key in ("consent", "org_active"):
        if key in elig and key not in questions:
            c.add(("eligibility", key), f"eligibility: '{key}' is not a question of survey.csv",
                  did_you_mean(key, questions))
    c.names(data.get("exclude") or [], ("exclude",), set(S.CLEANING_FLAGS), "a flag of the cleaning", "exclude:")
    groups = data.get("legal_form_groups")
    if isinstance(groups, dict) and "legal_form" in questions:
        try:
            codes = set(q.choices_for("legal_form")["name"])
        except KeyError:
            codes = set()
        for code in groups:
            if codes and str(code) not in codes:
                c.add(("legal_form_groups", code), f"legal_form_groups names '{code}', which is not a code of "
                      "the legal_form list of choices.csv", did_you_mean(code, codes))


def _check_population(study: Study, problems: list[Problem]) -> None:
    doc = study.population.doc
    c = _Checker(doc, problems)
    data = doc.data if isinstance(doc.data, dict) else {}
    c.keys(data, (), S.POPULATION_KEYS, "at the top of the file")
    sources = set((data.get("sources") or {}).keys())
    for name, table in (data.get("tables") or {}).items():
        at = ("tables", name)
        if not isinstance(table, dict):
            c.add(at, f"population table '{name}' must be a mapping")
            continue
        c.keys(table, at, S.POPULATION_TABLE_KEYS, f"in population table '{name}'")
        if "source" in table:
            c.names(table["source"], at + ("source",), sources, "a source of the file", f"table '{name}', source:")
        for i, cell in enumerate(table.get("cells") or []):
            if not isinstance(cell, dict):
                continue
            c.keys(cell, at + ("cells", i), S.POPULATION_CELL_KEYS, f"in a cell of population table '{name}'")
            if "source" in cell:
                c.names(cell["source"], at + ("cells", i, "source"), sources, "a source of the file",
                        f"table '{name}', source:")


def validate_study(study: Study, *, kind_options: Mapping[str, Mapping[str, str]] | None = None) -> list[Problem]:
    """Every problem of the study files, each one sentence naming the file, the line and the name.

    Parameters
    ----------
    study : Study
        From :func:`analysis.study.load_study`.
    kind_options : mapping, optional
        Table kind -> ``{option: description}``: the table kinds of the report and the options
        each accepts (``analysis.report.kinds.all_kind_options()``; the commands pass it). When
        it is not given, the kinds and options of ``tables.yaml`` are not checked.

    Returns
    -------
    list of Problem
        Empty when everything agrees.

    Examples
    --------
    >>> from analysis.study import load_study
    >>> from analysis.report.kinds import all_kind_options
    >>> validate_study(load_study(), kind_options=all_kind_options())
    []
    """
    problems: list[Problem] = []
    kinds = dict(kind_options) if kind_options is not None else None
    _check_questionnaire(study, problems)
    _check_constructs(study, problems)
    columns = analysis_columns(study)
    _check_tables(study, columns, kinds, problems)
    _check_analysis_plan(study, columns, problems)
    _check_cleaning(study, problems)
    _check_population(study, problems)
    return problems


def check_study(study: Study, *, kind_options: Mapping[str, Mapping[str, str]] | None = None) -> Study:
    """Raise a :class:`StudyError` (a ConfigError) listing the problems of :func:`validate_study`.

    Returns the study when there is none, so that ``study = check_study(load_study())`` reads well.
    """
    problems = validate_study(study, kind_options=kind_options)
    if problems:
        raise StudyError(problems)
    return study

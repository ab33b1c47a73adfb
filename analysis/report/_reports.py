"""The thesis tables and figures, from the cleaned data and the table plan.

``questionnaire/tables.yaml`` lists the tables (BLUEPRINT section 5); each has a
``kind`` handled by one builder function below, which runs the statistics
(through the package's statistics modules, never here) and turns their tidy
results into :class:`analysis.tables.Table` objects and figures. The writers
of :mod:`analysis.tables` then render every table to Word, LaTeX, HTML,
Markdown and Excel.

Layout of ``reports/``::

    tables.html            every table on one self-contained page
    tables.md              every table, Markdown
    tables.docx            every table, one Word document (wide tables on landscape pages)
    tables.xlsx            every table, one sheet each
    tex/<id>.tex           one LaTeX file per table (\\input{} them)
    md/<id>.md, docx/<id>.docx
    figures/<name>.png|pdf 300 dpi PNG and PDF
    results/<id>__<name>.csv  the unformatted numbers behind each table (except those
                              holding counts below the small-cell threshold)
    warnings.txt           estimation and data warnings worth a look
    manifest.json          inputs (hashes), options, versions and outputs of the run

Tables are numbered consecutively in plan order (a plan entry may give several
tables, e.g. the CFA: fit, loadings, discriminant validity); notes that cite
another table use its final number.
"""

from __future__ import annotations

import dataclasses
import re
import warnings as _warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import ConfigError, InputError

__all__ = [
    "TablePlan",
    "load_table_plan",
    "ReportContext",
    "ReportResult",
    "TableOutput",
    "compute_report",
    "write_report",
    "build_reports",
    "render_reports",
    "report_manifest",
]

ALL_FORMATS = ("docx", "tex", "html", "md", "xlsx")

#: Suppression marker of small counts (``analysis.tables.suppress_small_cells``).
SUPPRESSED = "s"

TEXTS = {
    "fr": {
        "total": "Ensemble",
        "association": "Associations",
        "cooperative": "Coopératives",
        "other": "Autres formes",
        "variable": "Variable",
        "category": "Modalité",
        "item": "Item",
        "n": "n",
        "percent": "%",
        "mean": "Moyenne",
        "sd": "Écart-type",
        "median": "Médiane",
        "M": "M",
        "SD": "ÉT",
        "Md": "Méd.",
        "p_value": "p",
        "test": "Test",
        "source": "enquête sur l'innovation sociale au Maroc (si-survey), calculs de l'auteur.",
        "source_demo": "données simulées de démonstration (si-survey), calculs de l'auteur.",
        "weighted": "pondéré",
        "unweighted": "non pondéré",
        "construct": "Construit",
        "dimension": "Dimension",
        "factor": "Facteur",
        "loading": "Saturation",
        "communality": "h²",
        "fit": "Indice",
        "value": "Valeur",
        "serious": "Grave ou très grave (%)",
        "problem": "Problème",
        "group": "Groupe",
        "model": "Modèle",
        "effect": "Taille d'effet",
        "ci95": "IC 95 %",
        "low": "inf.",
        "high": "sup.",
        "legal_form": "Forme juridique",
        "sector": "Secteur",
        "region": "Région",
        "labels_note": "",
    },
    "en": {
        "total": "All",
        "association": "Associations",
        "cooperative": "Cooperatives",
        "other": "Other forms",
        "variable": "Variable",
        "category": "Category",
        "item": "Item",
        "n": "n",
        "percent": "%",
        "mean": "Mean",
        "sd": "SD",
        "median": "Median",
        "M": "M",
        "SD": "SD",
        "Md": "Mdn",
        "p_value": "p",
        "test": "Test",
        "source": "survey of social innovation in Morocco (si-survey), author's calculations.",
        "source_demo": "simulated demonstration data (si-survey), author's calculations.",
        "weighted": "weighted",
        "unweighted": "unweighted",
        "construct": "Construct",
        "dimension": "Dimension",
        "factor": "Factor",
        "loading": "Loading",
        "communality": "h²",
        "fit": "Index",
        "value": "Value",
        "serious": "Serious or very serious (%)",
        "problem": "Problem",
        "group": "Group",
        "model": "Model",
        "effect": "Effect size",
        "ci95": "95% CI",
        "low": "low",
        "high": "high",
        "legal_form": "Legal form",
        "sector": "Sector",
        "region": "Region",
        "labels_note": "Item, question and category labels are those of the French questionnaire.",
    },
}


#: Labels of the variables derived by :func:`analysis.study._dataset.prepare_analysis_data`.
DERIVED_LABELS = {
    "log_members": {"fr": "log(membres + 1)", "en": "log(members + 1)"},
    "org_age": {"fr": "Âge de l'organisation (années)", "en": "Age of the organisation (years)"},
    "funding_diversity": {"fr": "Diversification des ressources (1 − HHI)", "en": "Resource diversification (1 − HHI)"},
    "funding_hhi": {"fr": "Concentration des ressources (HHI)", "en": "Resource concentration (HHI)"},
    "funding_market_share": {"fr": "Part des recettes marchandes", "en": "Share of market income"},
    "funding_n_sources": {"fr": "Nombre de sources de financement", "en": "Number of funding sources"},
    "support_n_types": {"fr": "Nombre de types d'appui reçus", "en": "Number of types of support"},
    "support_used": {"fr": "Recours à une structure d'appui", "en": "Use of a support structure"},
    "legal_form_group": {"fr": "Forme juridique (groupe)", "en": "Legal form (group)"},
    "beneficiaries_y3": {"fr": "Bénéficiaires atteints (dernière année)", "en": "Beneficiaries reached (last year)"},
    "si_self_identified": {"fr": "Se dit socialement innovante", "en": "Self-identified as socially innovative"},
    "Intercept": {"fr": "Constante", "en": "Intercept"},
}

#: English labels of the constructs and their dimensions (the questionnaire has French and Arabic only).
CONSTRUCT_LABELS_EN = {
    "si_presence": "Social innovation presence",
    "si_presence__novelty": "Novelty (new here, or reinvented)",
    "si_presence__social_finality": "Social purpose (unmet needs)",
    "si_presence__participation": "Participation and empowerment of beneficiaries",
    "si_presence__governance": "Governance and collaboration",
    "si_presence__territory": "Territorial anchoring",
    "si_presence__diffusion": "Diffusion and institutional change",
    "internal_capacity": "Internal capacity",
    "internal_capacity__human_resources": "Human resources",
    "internal_capacity__financial": "Financial capacity",
    "internal_capacity__management": "Management and digital tools",
    "internal_capacity__communication": "Communication",
    "external_barriers": "External barriers",
    "external_barriers__financial": "Financial barriers",
    "external_barriers__regulatory": "Regulatory and fiscal barriers",
    "external_barriers__sociocultural": "Socio-cultural barriers (awareness, stigma, culture)",
    "external_barriers__public_support": "Insufficient public support",
    "perceived_impact": "Perceived social impact",
    "perceived_impact__domains": "Impact by domain",
    "perceived_impact__community_change": "Change in behaviours and in the community",
    "hybridisation": "Resource hybridisation (formative index)",
}

#: Labels of the problem groups of Annexe 2 in English.
PROBLEM_GROUPS_EN = {
    "resources": "Financial and human resources",
    "institutional": "Institutional framework and public authorities",
    "communication": "Communication",
    "society": "Society and culture",
}

#: Steps of the respondent flow (``flow.csv``), in English.
FLOW_STEPS_EN = {
    "received": "Submissions received",
    "duplicate": "Duplicates (same submission or same organisation)",
    "test": "Test or pilot interviews",
    "speeder": "Interviews too fast",
    "straightliner": "Identical answers across grids (straightlining)",
    "ineligible": "Ineligible organisations",
    "incomplete": "Incomplete interviews or refusals",
    "analysed": "Organisations analysed",
}

#: Dependent variables of the models, short labels for the column spanners.
DV_SHORT = {
    "score_perceived_impact": {"fr": "Impact perçu", "en": "Impact"},
    "beneficiaries_y3": {"fr": "Bénéficiaires", "en": "Beneficiaries"},
    "score_si_presence": {"fr": "Présence IS", "en": "SI presence"},
    "si_self_identified": {"fr": "Se dit innov.", "en": "Self-ident."},
}

#: Dependent variables of the models, full labels for the notes.
DV_LONG = {
    "score_perceived_impact": {"fr": "impact social perçu (score 1-5)", "en": "perceived social impact (score 1-5)"},
    "beneficiaries_y3": {"fr": "bénéficiaires atteints la dernière année", "en": "beneficiaries reached last year"},
    "score_si_presence": {"fr": "présence de l'innovation sociale (score 1-5)", "en": "social innovation presence (score 1-5)"},
    "si_self_identified": {"fr": "se dit socialement innovante", "en": "self-identified as socially innovative"},
}

MODEL_KINDS = {
    "ols": {"fr": "MCO", "en": "OLS"},
    "logit": {"fr": "Logit", "en": "Logit"},
    "ordinal": {"fr": "Logit ordonné", "en": "Ordered logit"},
    "poisson": {"fr": "Poisson", "en": "Poisson"},
    "negbin": {"fr": "Bin. nég.", "en": "Neg. bin."},
}

SE_KINDS = {
    "hc3": {"fr": "erreurs-types robustes HC3", "en": "HC3 robust standard errors"},
    "hc1": {"fr": "erreurs-types robustes HC1", "en": "HC1 robust standard errors"},
    "classical": {"fr": "erreurs-types classiques", "en": "classical standard errors"},
    "cluster": {"fr": "erreurs-types par grappes", "en": "cluster-robust standard errors"},
}


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class TablePlan:
    """The checked contents of ``questionnaire/tables.yaml``.

    Attributes
    ----------
    options : dict
        Global options (``small_cell_threshold``, ``loading_threshold``, ``decimals``,
        ``seed``, ``group``).
    tables : tuple of dict
        One specification per table, in order; each has ``id``, ``kind`` and ``title``.
    path : Path or None
    """

    options: dict
    tables: tuple
    path: Path | None = None

    @property
    def ids(self) -> list[str]:
        """The table ids, in order."""
        return [t["id"] for t in self.tables]


def load_table_plan(path: str | Path | None = None) -> TablePlan:
    """Read and check the table plan (default ``questionnaire/tables.yaml``).

    Raises
    ------
    ConfigError
        Unknown kind, duplicate id, missing title, bad option: the message names the table.

    Examples
    --------
    >>> plan = load_table_plan()
    >>> plan.ids[0]
    'table01_flow'
    """
    import yaml

    path = Path(path) if path is not None else config.QUESTIONNAIRE_DIR / "tables.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read the table plan '{path}': {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"the table plan '{path}' is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"the table plan '{path.name}' must be a mapping with 'options' and 'tables'")
    options = {
        "small_cell_threshold": 5,
        "loading_threshold": 0.30,
        "decimals": 2,
        "seed": 2026,
        "group": "legal_form_group",
        **(raw.get("options") or {}),
    }
    try:
        threshold = int(options["small_cell_threshold"])
        loading = float(options["loading_threshold"])
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"table plan '{path.name}', options: {exc}") from exc
    if threshold < 1:
        raise ConfigError(f"table plan '{path.name}', options: small_cell_threshold must be >= 1, got {threshold}")
    if not 0 <= loading < 1:
        raise ConfigError(f"table plan '{path.name}', options: loading_threshold must be in [0, 1), got {loading}")
    tables = raw.get("tables") or []
    if not isinstance(tables, list):
        raise ConfigError(f"table plan '{path.name}': 'tables' must be a list")
    seen: set[str] = set()
    for i, spec in enumerate(tables, start=1):
        where = f"table plan '{path.name}', table {i}"
        if not isinstance(spec, dict) or "id" not in spec or "kind" not in spec:
            name = f" ('{spec.get('id')}')" if isinstance(spec, dict) and spec.get("id") else ""
            raise ConfigError(f"{where}{name}: every table needs an 'id' and a 'kind'")
        where = f"{where} ('{spec['id']}')"
        if spec["kind"] not in BUILDERS:
            raise ConfigError(
                f"{where}: unknown kind '{spec['kind']}'; choose among {', '.join(sorted(BUILDERS))}"
            )
        if spec["id"] in seen:
            raise ConfigError(f"{where}: the id '{spec['id']}' is used twice")
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", str(spec["id"])):
            raise ConfigError(f"{where}: the id must use letters, digits, '_' or '-'")
        title = spec.get("title")
        if not isinstance(title, dict) or not str(title.get("fr") or "").strip():
            raise ConfigError(f"{where}: 'title' needs at least a French text (title: {{fr: ...}})")
        if "loading_threshold" in spec:
            try:
                ok = 0 <= float(spec["loading_threshold"]) < 1
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ConfigError(f"{where}: loading_threshold must be a number in [0, 1)")
        seen.add(spec["id"])
    return TablePlan(options=options, tables=tuple(tables), path=path)


# --------------------------------------------------------------------------- context


@dataclass
class ReportContext:
    """Everything a table builder needs.

    Attributes
    ----------
    data : pandas.DataFrame
        Analysis data set (rows analysed, scores and derived indicators added).
    flow : pandas.DataFrame or None
        Respondent flow from the cleaning stage.
    codebook : pandas.DataFrame
    spec : analysis.study._constructs.ConstructSpec
    plan : TablePlan
    lang : {"fr", "en"}
    demo : bool
        True when the data come from the simulator (the source note says so).
    warnings : list of str
    refs : dict
        Table id -> the number its first table gets (filled before the builders run,
        so that a note can cite another table).
    """

    data: pd.DataFrame
    flow: pd.DataFrame | None
    codebook: pd.DataFrame
    spec: object
    plan: TablePlan
    lang: str = "fr"
    demo: bool = False
    warnings: list = field(default_factory=list)
    refs: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict)

    def t(self, key: str) -> str:
        """A fixed text in the report language."""
        return TEXTS[self.lang][key]

    def tr(self, fr: str, en: str) -> str:
        """``fr`` or ``en`` by the report language."""
        return en if self.lang == "en" else fr

    def title(self, spec: dict) -> str:
        """The table title in the report language (French if no translation)."""
        return spec["title"].get(self.lang) or spec["title"]["fr"]

    @property
    def source(self) -> str:
        """The source line under every table."""
        return self.t("source_demo" if self.demo else "source")

    def option(self, spec: dict, name: str, default=None):
        """A table option, else the plan's global option, else ``default``."""
        if name in spec:
            return spec[name]
        return self.plan.options.get(name, default)

    @property
    def threshold(self) -> int:
        """Small-cell threshold of the plan."""
        return int(self.plan.options.get("small_cell_threshold", 5))

    def label(self, variable: str, short: int | None = None) -> str:
        """The label of a variable: derived variables named here, else the codebook's French label."""
        cb = self._cb_index
        if variable in DERIVED_LABELS:
            text = DERIVED_LABELS[variable][self.lang]
        elif variable.startswith("score_"):
            text = self.construct_label(variable[len("score_"):])
        else:
            text = variable
            if variable in cb.index:
                value = cb.at[variable, "label_fr"]
                if isinstance(value, str) and value.strip():
                    text = value.strip()
        if short and len(text) > short:
            text = text[: short - 1].rstrip(" ,;:(") + "…"
        return text

    def value_labels(self, variable: str) -> dict[str, str]:
        """Codes to labels of a select_one variable, from the codebook ``values`` column."""
        cb = self._cb_index
        if variable not in cb.index:
            return {}
        values = cb.at[variable, "values"]
        out: dict[str, str] = {}
        if isinstance(values, str):
            for part in values.split("; "):
                code, _, lab = part.partition("=")
                if code:
                    out[code.strip()] = lab.strip()
        return out

    @property
    def _cb_index(self) -> pd.DataFrame:
        cached = self.cache.get("codebook")
        if cached is None:
            cached = self.codebook.drop_duplicates("variable").set_index("variable")
            self.cache["codebook"] = cached
        return cached

    def group_label(self, value: object) -> str:
        """Label of a ``legal_form_group`` value (Associations, Coopératives)."""
        return TEXTS[self.lang].get(str(value), str(value))

    def construct_label(self, name: str) -> str:
        """Label of a construct or of one of its dimensions (``construct__dimension``)."""
        if self.lang == "en" and name in CONSTRUCT_LABELS_EN:
            return CONSTRUCT_LABELS_EN[name]
        construct, _, dim = name.partition("__")
        try:
            c = self.spec[construct]
        except KeyError:
            return name
        if dim:
            for d in c.dimensions:
                if d.name == dim:
                    text = getattr(d, "label_fr", None) or dim
                    return re.sub(r"\s*\(\d+ = [^)]*\)", "", text)  # "(97 = sans objet, ...)"
            return dim
        return getattr(c, "label_fr", None) or construct

    def warn(self, where: str, message: str) -> None:
        """Record a warning for the run summary."""
        self.warnings.append(f"{where}: {message}")


@dataclass
class TableOutput:
    """What one table of the plan produced: tables, figures and the numbers behind them.

    Attributes
    ----------
    id : str
    tables : list of analysis.tables.Table
    figures : dict of str -> matplotlib Figure
    results : dict
        The analysis objects and frames whose numbers are in the tables.
    count_columns : list of list of str
        Per table, the data columns that hold published counts (checked against the
        small-cell threshold).
    count_rows : list of (list of int or None)
        Per table, the rows of those columns that hold counts (None: every row).
    landscape : list of bool
        Per table, whether it is set on a landscape page (Word) or in a ``landscape``
        environment (LaTeX).
    """

    id: str
    tables: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    count_columns: list = field(default_factory=list)
    count_rows: list = field(default_factory=list)
    landscape: list = field(default_factory=list)

    def add(self, table, counts: Sequence[str] = (), rows: Sequence[int] | None = None,
            landscape: bool | None = None) -> None:
        """Append a table with its count columns (and rows); ``landscape=None`` decides by its width."""
        self.tables.append(table)
        self.count_columns.append(list(counts))
        self.count_rows.append(None if rows is None else list(rows))
        self.landscape.append(_too_wide(table) if landscape is None else bool(landscape))


@dataclass
class ReportResult:
    """What :func:`build_reports` produced.

    Attributes
    ----------
    outputs : dict of str -> TableOutput
        Per table id: the :class:`analysis.tables.Table` objects, the figures, and
        the analysis objects (``results``) whose numbers are in the tables.
    files : list of Path
    warnings : list of str
    manifest : dict
    """

    outputs: dict = field(default_factory=dict)
    files: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    manifest: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers

#: Usable text width of a portrait page of the Word template (cm), and the table font size.
_PORTRAIT_CM = 16.5
_TABLE_FONT = 10.0


def _natural_width_cm(table, font_size: float = _TABLE_FONT) -> float:
    """Width the Word writer needs for `table` without wrapping (its own rule), the stub
    allowed to wrap down to 6 cm."""
    r = table.render() if hasattr(table, "render") else table
    char = 0.19 * font_size / 10
    pad = 0.35
    longest = [len(x) for x in r.column_labels]
    for s in r.sections:
        for row in s.rows:
            for j, c in enumerate(row):
                longest[j] = max(longest[j], len(c.text))
    widths = [char * n + pad for n in longest]
    for spans in r.spanner_rows:
        for span in spans:
            need = char * len(span.label) + pad
            have = sum(widths[span.start:span.stop])
            if need > have:
                for j in range(span.start, span.stop):
                    widths[j] += (need - have) / span.width
    wraps = [0] if r.has_stub else [j for j, a in enumerate(r.alignments) if a == "l"]
    for j in wraps[:1]:
        widths[j] = min(widths[j], 4.5)
    return float(sum(widths))


def _too_wide(table) -> bool:
    return _natural_width_cm(table) > _PORTRAIT_CM


def _table(df: pd.DataFrame, ctx: ReportContext, spec: dict, number: int, *, suffix: str = "", key: str = ""):
    from analysis.tables import Table

    title = ctx.title(spec) + (f" — {suffix}" if suffix else "")
    label = f"tab:{spec['id']}" + (f"-{key}" if key else (f"-{_slug(suffix)}" if suffix else ""))
    t = (
        Table(df)
        .with_locale(ctx.lang)
        .tab_header(title, number=number)
        .tab_label(label)
        .tab_source(ctx.source)
        .sub_missing()
    )
    return t


def _finish(t, ctx: ReportContext, *, labels_note: bool = False):
    """Last notes common to the tables (the English note on French labels)."""
    if labels_note and ctx.t("labels_note"):
        t = t.tab_note(ctx.t("labels_note"))
    return t


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def _groups(ctx: ReportContext) -> tuple[str, list]:
    group = ctx.plan.options.get("group", "legal_form_group")
    if group not in ctx.data.columns:
        return group, []
    levels = [g for g in ("association", "cooperative") if (ctx.data[group] == g).any()]
    others = sorted(set(ctx.data[group].dropna().astype(str)) - set(levels))
    return group, levels + others


def _numeric(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype(float)


def _present(ctx: ReportContext, variables: Sequence[str], where: str) -> list[str]:
    missing = [v for v in variables if v not in ctx.data.columns]
    if missing:
        ctx.warn(where, f"variables absent from the data, left out: {', '.join(missing)}")
    return [v for v in variables if v in ctx.data.columns]


def _fmt_adaptive(value, loc) -> str:
    """A mean or a median with as many decimals as its size deserves (0 from 1 000, else 1)."""
    from analysis.tables import format_number

    return format_number(float(value), 0 if abs(float(value)) >= 1000 else 1, loc)


def _fmt_p(value: float, lang: str) -> str:
    """``p < ,001`` or ``p = ,012`` for a note."""
    from analysis.tables import format_pvalue

    text = format_pvalue(float(value), 3, lang)
    return f"p {text}" if text.lstrip().startswith("<") else f"p = {text}"


def _ref(ctx: ReportContext, table_id: str, fallback: str) -> str:
    """``tableau 11`` for a table id of the plan (``fallback`` if the plan has no such table)."""
    n = ctx.refs.get(table_id)
    if n is None:
        return fallback
    return f"{ctx.tr('tableau', 'table')} {n}"


def _item_text(ctx: ReportContext, item: str, reverse: bool = False, short: int = 60) -> str:
    """An item as a row label: its (shortened) question text, then its code and (R) if reverse-keyed."""
    return f"{ctx.label(item, short=short)} ({item}{', R' if reverse else ''})"


def _cached_items(ctx: ReportContext) -> pd.DataFrame:
    """Likert items with missing codes removed and reverse-keyed items recoded (computed once)."""
    from analysis.study._constructs import prepare_items

    X = ctx.cache.get("items")
    if X is None:
        X = prepare_items(ctx.data, ctx.spec)
        ctx.cache["items"] = X
    return X


# --------------------------------------------------------------------------- builders


def build_flow(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 1: respondent flow (received, removed at each step, analysed), by legal form.

    The counts come from ``flow.csv`` unchanged; the table checks that they add up
    (received minus every removal equals analysed, in every column) and suppresses the
    by-form counts below the small-cell threshold.
    """
    from analysis.tables import suppress_small_cells

    out = TableOutput(spec["id"])
    flow = ctx.flow
    if flow is None or flow.empty:
        ctx.warn(spec["id"], "no respondent flow (flow.csv) was found")
        return out
    out.results["flow"] = flow
    df = flow.copy()
    groups = [c for c in ("association", "cooperative", "other") if c in df.columns]
    extra = [c for c in df.columns if c not in ("step", "description", "all", *groups)
             and pd.api.types.is_numeric_dtype(df[c])]
    groups += extra
    count_cols = (["all"] if "all" in df.columns else []) + groups
    if "step" in df.columns:
        steps = df["step"].astype(str)
        if ctx.lang == "en":
            labels = [FLOW_STEPS_EN.get(s, s) for s in steps]
        else:
            desc = df["description"] if "description" in df.columns else steps
            labels = [str(d) if isinstance(d, str) and d.strip() else s for d, s in zip(desc, steps)]
        body = steps.to_numpy()
        first, last = body[0], body[-1]
        removed_rows = [i for i, s in enumerate(body) if s not in (first, last)]
        ok = True
        for c in count_cols:
            v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
            if not np.isclose(v[0] - v[removed_rows].sum(), v[-1]):
                ok = False
                ctx.warn(spec["id"], f"the flow does not add up in column '{c}'")
        if "all" in df.columns and groups:
            tot = df[groups].apply(pd.to_numeric, errors="coerce").sum(axis=1)
            if not np.allclose(tot, pd.to_numeric(df["all"], errors="coerce")):
                ok = False
                ctx.warn(spec["id"], "the legal-form columns of the flow do not add up to the total")
        out.results["flow_adds_up"] = ok
    else:
        labels = [str(x) for x in df.iloc[:, 0]]
        removed_rows = list(range(1, len(df) - 1))
    table_df = pd.DataFrame({"step": labels})
    for c in count_cols:
        table_df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    # removals shown as negative numbers would be unusual in French theses: plain counts,
    # removal rows indented under the received row via a row group.
    table_df, zeros = _zeros_as_none(ctx, table_df, count_cols)
    sup = suppress_small_cells(table_df, count_cols, ctx.threshold, locale=ctx.lang)
    table_df = sup.frame
    col_labels = {"step": "", "all": ctx.t("total")}
    for c in groups:
        col_labels[c] = ctx.group_label(c)
    t = (
        _table(table_df, ctx, spec, number)
        .tab_stub("step")
        .cols_label(col_labels)
        .fmt_integer(count_cols)
    )
    if removed_rows:
        t = t.tab_row_group(ctx.tr("Questionnaires écartés", "Questionnaires set aside"), removed_rows)
        t = t.tab_row_group("", [len(table_df) - 1])
    note = ctx.tr(
        "Chaque questionnaire écarté n'est compté qu'une fois, à la première étape qui l'écarte ; "
        "l'effectif analysé est égal aux soumissions reçues moins les questionnaires écartés. "
        "Associations : y compris les associations reconnues d'utilité publique et les fondations ; "
        "coopératives : y compris les unions de coopératives ; autres formes : non éligibles.",
        "Each questionnaire set aside is counted once, at the first step that removes it; the "
        "analysed sample equals the submissions received minus the questionnaires set aside. "
        "Associations include associations of public utility and foundations; cooperatives include "
        "unions of cooperatives; other forms are not eligible.",
    )
    t = t.tab_note(note)
    if zeros:
        t = t.tab_note(ctx.tr("— : aucun questionnaire.", "—: no questionnaire."))
    if sup.note:
        t = t.tab_note(sup.note)
    out.add(t, counts=count_cols)
    return out


def _nested_in(data: pd.DataFrame, var: str, group: str) -> bool:
    """True when every level of `var` lies within one group (e.g. legal form within its group)."""
    d = data[[var, group]].dropna()
    if d.empty:
        return False
    return bool((d.groupby(var, observed=True)[group].nunique() <= 1).all())


def build_sample(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 2: sample description by legal form, with tests.

    Two tables: the categorical variables (counts and column percentages per group,
    weighted percentages, chi-square test) and the numeric ones (n, mean, SD, median
    per group, weighted mean, Welch test).
    """
    from analysis.descriptives._describe import describe
    from analysis.descriptives._group_tests import compare_groups, crosstab
    from analysis.tables import suppress_small_cells

    out = TableOutput(spec["id"])
    group, levels = _groups(ctx)
    data = ctx.data[ctx.data[group].isin(levels)] if levels else ctx.data
    cats = _present(ctx, spec.get("categorical", []), spec["id"])
    nums = _present(ctx, spec.get("numeric", []), spec["id"])
    wcol = spec.get("weights")
    weighted = bool(wcol) and wcol in data.columns and _numeric(data[wcol]).notna().any()
    cols_g = ["Total"] + levels
    threshold = ctx.threshold
    seed = ctx.plan.options.get("seed")
    blocks, notes_supp, nested_vars = [], [], []
    any_zero = False
    raw_rows = []
    for var in cats:
        if pd.api.types.is_numeric_dtype(data[var]):  # 0/1 or coded answers stored as numbers
            data = data.assign(**{var: data[var].map(lambda v: str(int(v)) if pd.notna(v) else None)})
        d = describe(data, [var], by=group if levels else None)
        vl = ctx.value_labels(var)
        nested = bool(levels) and _nested_in(data, var, group)
        test = None
        if levels and not nested:
            try:
                test = crosstab(data, var, group, seed=seed)
            except InputError:
                test = None
            out.results[f"test_{var}"] = test
        wshare = None
        if weighted:
            w = _numeric(data[wcol])
            ok = w.notna() & data[var].notna()
            tot = w[ok].groupby(data.loc[ok, var].astype(str)).sum()
            wshare = tot / tot.sum() * 100
        rows = []
        for k, level in enumerate(d["level"].dropna().unique()):
            sub = d[d["level"] == level]
            row = {"variable": ctx.label(var, short=70), "category": vl.get(str(level), str(level))}
            for g in cols_g:
                r = sub[sub["group"] == g]
                n = float(r["count"].iloc[0]) if len(r) else 0.0
                pct = float(r["percent"].iloc[0]) if len(r) else 0.0
                if nested and g != "Total" and n == 0:
                    n = pct = np.nan  # structural zero: this form is not in this group
                row[f"n_{g}"], row[f"pct_{g}"] = n, pct
            if wshare is not None:
                row["pct_weighted"] = float(wshare.get(str(level), np.nan))
            row["p_value"] = test.p_value if (test is not None and k == 0) else np.nan
            rows.append(row)
        if not rows:
            ctx.warn(spec["id"], f"no answer to '{var}': left out")
            continue
        block = pd.DataFrame(rows)
        raw_rows.append(block.assign(var=var))
        if nested:
            nested_vars.append(ctx.label(var, short=70))
        count_cols = [f"n_{g}" for g in cols_g]
        block, zeros = _zeros_as_none(ctx, block, count_cols, {f"n_{g}": [f"pct_{g}"] for g in cols_g})
        any_zero = any_zero or zeros
        sup = suppress_small_cells(
            block, count_cols, threshold,
            percent_columns={f"n_{g}": f"pct_{g}" for g in cols_g}, locale=ctx.lang,
        )
        # a suppressed count also hides its weighted share when the total column is hidden
        frame = sup.frame
        if weighted:
            hidden_total = frame["n_Total"].astype(object).eq(SUPPRESSED)
            frame["pct_weighted"] = frame["pct_weighted"].astype(object).where(~hidden_total, SUPPRESSED)
        blocks.append(frame)
        if sup.note:
            notes_supp.append(sup.note)
    out.results["sample"] = pd.concat(raw_rows, ignore_index=True) if raw_rows else pd.DataFrame()
    if blocks:
        table_df = pd.concat(blocks, ignore_index=True)
        show = ["variable", "category"]
        for g in cols_g:
            show += [f"n_{g}", f"pct_{g}"]
        if weighted:
            show.append("pct_weighted")
        show.append("p_value")
        table_df = table_df[show]
        labels = {"variable": "", "category": ""}
        for g in cols_g:
            labels[f"n_{g}"] = ctx.t("n")
            labels[f"pct_{g}"] = "%"
        if weighted:
            labels["pct_weighted"] = ctx.tr("% pondéré", "Weighted %")
        labels["p_value"] = ctx.t("p_value")
        t = _table(table_df, ctx, spec, number, suffix=ctx.tr("variables qualitatives", "categorical variables"),
                   key="categorical").tab_stub("category", "variable").cols_label(labels)
        for g in cols_g:
            name = ctx.t("total") if g == "Total" else ctx.group_label(g)
            t = t.tab_spanner(name, [f"n_{g}", f"pct_{g}"])
        pct_cols = [f"pct_{g}" for g in cols_g] + (["pct_weighted"] if weighted else [])
        t = t.fmt_number(pct_cols, decimals=1).fmt_integer([f"n_{g}" for g in cols_g]).fmt_pvalue("p_value")
        note = ctx.tr(
            "Effectifs et pourcentages en colonne (non pondérés). p : test du khi-deux d'indépendance entre "
            "la variable et la forme juridique (test exact de Fisher ou test de Monte-Carlo quand des "
            "effectifs attendus sont inférieurs à 5).",
            "Counts and column percentages (unweighted). p: chi-square test of independence between the "
            "variable and the legal form (Fisher's exact or Monte-Carlo test when expected counts are below 5).",
        )
        t = t.tab_note(note)
        if weighted:
            t = t.tab_note(ctx.tr(
                "% pondéré : pourcentage de l'ensemble pondéré par les poids de sondage (inverse de la "
                "probabilité d'inclusion par strate région × forme juridique).",
                "Weighted %: percentage of the whole sample weighted by the design weights (inverse of the "
                "inclusion probability per region × legal form stratum)."))
        if nested_vars:
            t = t.tab_note(ctx.tr(
                f"{', '.join(nested_vars)} : chaque modalité appartient à un seul groupe, pas de test.",
                f"{', '.join(nested_vars)}: each category belongs to one group only, no test."))
        if any_zero or nested_vars:
            t = t.tab_note(ctx.tr("— : aucune organisation.", "—: no organisation."))
        if notes_supp:
            t = t.tab_note(_merge_suppression_notes(notes_supp, ctx))
        t = _finish(t, ctx, labels_note=True)
        out.add(t, counts=[f"n_{g}" for g in cols_g])

    # numeric variables: one row group per variable, rows n, M, SD, median; groups in columns
    rows = []
    stats = [("n", ctx.t("n")), ("mean", ctx.t("M")), ("sd", ctx.t("SD")), ("median", ctx.t("Md"))]
    small = False
    for var in nums:
        x = _numeric(data[var])
        p_value = np.nan
        if len(levels) == 2:
            try:
                cmp = compare_groups(data, var, group)
                out.results[f"test_{var}"] = cmp
                p_value = float(cmp.tests.set_index("test").at["welch_t", "p_value"])
            except (InputError, KeyError):
                pass
        wmean = np.nan
        if weighted:
            w = _numeric(data[wcol])
            ok = x.notna() & w.notna()
            wmean = float(np.average(x[ok], weights=w[ok])) if ok.any() else np.nan
        values = {}
        for g in cols_g:
            xs = x if g == "Total" else x[data[group] == g]
            n = float(xs.notna().sum())
            values[g] = {"n": n, "mean": float(xs.mean()), "sd": float(xs.std()), "median": float(xs.median())}
            if n < threshold:
                small = True
        for key, lab in stats:
            row = {"variable": ctx.label(var, short=70), "stat": lab, "key": key}
            for g in cols_g:
                v = values[g][key]
                row[g] = v if values[g]["n"] >= threshold or key == "n" and v == 0 else SUPPRESSED
            if weighted:
                row["weighted"] = wmean if key == "mean" else np.nan
            row["p_value"] = p_value if key == "mean" else np.nan
            rows.append(row)
    if rows:
        num_df = pd.DataFrame(rows)
        out.results["sample_numeric"] = num_df
        show = ["variable", "stat"] + cols_g + (["weighted"] if weighted else []) + ["p_value"]
        table_df = num_df[show].copy()
        is_n = (num_df["key"] == "n").to_numpy()

        # counts as integers, statistics with adaptive decimals: one text per cell
        from analysis.tables import format_integer, get_locale

        loc = get_locale(ctx.lang)
        for g in cols_g + (["weighted"] if weighted else []):
            table_df[g] = [
                v if isinstance(v, str) or pd.isna(v) else
                (format_integer(v, loc) if is_n[i] else _fmt_adaptive(v, loc))
                for i, v in enumerate(table_df[g])
            ]
        labels = {"variable": "", "stat": "", "p_value": "p"}
        for g in cols_g:
            labels[g] = ctx.t("total") if g == "Total" else ctx.group_label(g)
        if weighted:
            labels["weighted"] = ctx.tr("Pondéré", "Weighted")
        t = (
            _table(table_df, ctx, spec, number, suffix=ctx.tr("variables quantitatives", "numeric variables"),
                   key="numeric")
            .tab_stub("stat", "variable")
            .cols_label(labels)
            .cols_align("right", cols_g + (["weighted"] if weighted else []))
            .fmt_pvalue("p_value")
        )
        t = t.tab_note(ctx.tr(
            "n : réponses valides ; M : moyenne ; ÉT : écart-type ; Méd. : médiane (non pondérés). p : test t de "
            "Welch entre associations et coopératives. Montants en dirhams (MAD).",
            "n: valid answers; M: mean; SD: standard deviation; Mdn: median (unweighted). p: Welch t test "
            "between associations and cooperatives. Amounts in dirhams (MAD)."))
        if weighted:
            t = t.tab_note(ctx.tr("Pondéré : moyenne pondérée par les poids de sondage.",
                                  "Weighted: mean weighted by the design weights."))
        if small:
            t = t.tab_note(ctx.tr(f"Statistiques de moins de {threshold} observations masquées ({SUPPRESSED}).",
                                  f"Statistics on fewer than {threshold} observations suppressed ({SUPPRESSED})."))
        t = _finish(t, ctx, labels_note=True)
        out.add(t, counts=cols_g, rows=[i for i in range(len(is_n)) if is_n[i]], landscape=False)
    return out


def _zeros_as_none(ctx: ReportContext, frame: pd.DataFrame, counts: Sequence[str],
                   percents: dict | None = None) -> tuple[pd.DataFrame, bool]:
    """Zero counts shown as "—" (none) rather than suppressed, unless ``publish_zeros: false``.

    A zero is not a small count of people: hiding it (and, by complementary suppression,
    the totals around it) would blank most cells of a breakdown with structural zeros
    (e.g. sectors reserved to cooperatives). Returns the frame and whether a zero was found.
    """
    if not bool(ctx.plan.options.get("publish_zeros", True)):
        return frame, False
    frame = frame.copy()
    found = False
    for c in counts:
        v = pd.to_numeric(frame[c], errors="coerce")
        zero = v.eq(0)
        if zero.any():
            found = True
            frame[c] = v.where(~zero)
            for pc in (percents or {}).get(c, []):
                frame[pc] = pd.to_numeric(frame[pc], errors="coerce").where(~zero)
    return frame, found


def _merge_suppression_notes(notes: list[str], ctx: ReportContext) -> str:
    """One sentence for the suppression notes of several blocks of a table."""
    n_other = 0
    for n in notes:
        m = re.search(r"(\d+) (?:autres?|other) cell", n)
        if m:
            n_other += int(m.group(1))
    base = ctx.tr(
        f"Les effectifs inférieurs à {ctx.threshold} sont masqués ({SUPPRESSED}), de même que les pourcentages "
        "qui en découlent.",
        f"Counts below {ctx.threshold} are suppressed ({SUPPRESSED}), as are the percentages derived from them.",
    )
    if n_other:
        base += ctx.tr(
            f" {n_other} autre{'s' if n_other > 1 else ''} cellule{'s' if n_other > 1 else ''} "
            f"{'sont masquées' if n_other > 1 else 'est masquée'} pour qu'on ne puisse pas les retrouver "
            "à partir des totaux.",
            f" {n_other} other cell{'s' if n_other > 1 else ''} {'are' if n_other > 1 else 'is'} suppressed "
            "so that hidden counts cannot be recovered from totals.",
        )
    return base


def build_likert(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 3: distribution of every Likert block (shares per point, mean, top-2-box) + figures."""
    from analysis.descriptives._describe import likert_distribution
    from analysis.report._figures import likert_diverging_bars

    out = TableOutput(spec["id"])
    names = spec.get("constructs") or [c.name for c in ctx.spec.reflective]
    frames = []
    for name in names:
        construct = ctx.spec[name]
        items = _present(ctx, construct.items, spec["id"])
        if not items:
            continue
        labels = {i: _item_text(ctx, i, i in construct.reverse, short=70) for i in items}
        dist = likert_distribution(ctx.data, items, labels=labels)
        dist = dist[dist["group"] == dist["group"].iloc[0]].copy()
        dist["construct"] = ctx.construct_label(name)
        frames.append(dist)
        point_labels = ctx.value_labels(items[0])
        fig_df = dist.assign(
            level=dist["value"].map(lambda v, pl=point_labels: pl.get(str(int(v)), str(int(v)))),
            share=dist["percent"] / 100,
            item=dist["label"],
        )
        order = [point_labels.get(str(k), str(k)) for k in range(1, 6)]
        out.figures[f"likert_{name}"] = likert_diverging_bars(
            fig_df, levels=order, neutral=order[2], title=ctx.construct_label(name), locale=ctx.lang
        )
    if not frames:
        return out
    dist = pd.concat(frames, ignore_index=True)
    out.results["distribution"] = dist
    wide = dist.pivot_table(
        index=["construct", "item", "label"], columns="value", values="percent", sort=False
    )
    wide.columns = [f"p{int(c)}" for c in wide.columns]
    stats = dist.groupby(["construct", "item", "label"], sort=False)[["n", "mean", "sd", "top2_box"]].first()
    table_df = wide.join(stats).reset_index().drop(columns="item")
    n_min, n_max = int(table_df["n"].min()), int(table_df["n"].max())
    table_df = table_df.drop(columns="n")
    point_labels = ctx.value_labels(frames[0]["item"].iloc[0])
    labels = {"label": "", "construct": "", "mean": ctx.t("M"), "sd": ctx.t("SD"),
              "top2_box": ctx.tr("4 + 5 (%)", "4 + 5 (%)")}
    for k in range(1, 6):
        labels[f"p{k}"] = f"{k}"
    t = (
        _table(table_df, ctx, spec, number)
        .tab_stub("label", "construct")
        .cols_label(labels)
        .tab_spanner(ctx.tr("Réponses (%)", "Answers (%)"), [f"p{k}" for k in range(1, 6)])
        .fmt_number([f"p{k}" for k in range(1, 6)] + ["top2_box"], decimals=1)
        .fmt_number(["mean", "sd"], decimals=2)
    )
    from analysis.tables import format_integer

    scale = " ; ".join(f"{k} = {point_labels.get(str(k), k)}" for k in range(1, 6))
    n_text = (format_integer(n_min, ctx.lang) if n_min == n_max
              else f"{format_integer(n_min, ctx.lang)} {ctx.tr('à', 'to')} {format_integer(n_max, ctx.lang)}")
    t = t.tab_note(ctx.tr(
        f"Échelle : {scale}. Réponses valides par item : n = {n_text} (« je ne sais pas » et refus exclus). "
        "M : moyenne ; ÉT : écart-type ; 4 + 5 : part des réponses 4 ou 5. R : item inversé, présenté tel "
        "que posé.",
        f"Scale: {scale.replace(' ; ', '; ')}. Valid answers per item: n = {n_text} (\"don't know\" and "
        "refusals excluded). M: mean; SD: standard deviation; 4 + 5: share of answers 4 or 5. R: "
        "reverse-keyed item, shown as asked."))
    t = _finish(t, ctx, labels_note=True)
    out.add(t, landscape=bool(spec.get("landscape", True)))  # long item texts: a wide first column
    return out


def build_reliability(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 4: reliability of every scale and dimension (alpha with CI, omega, item-rest r)."""
    from analysis.psychometrics._reliability import alpha, omega

    out = TableOutput(spec["id"])
    rows, item_rows = [], []
    n_f = int(spec.get("omega_factors", 3))
    for construct in ctx.spec.reflective:
        units = [(construct.name, construct.items, construct.reverse)] + [
            (f"{construct.name}__{d.name}", d.items, d.reverse) for d in construct.dimensions
        ]
        for name, items, reverse in units:
            items = [i for i in items if i in ctx.data.columns]
            if len(items) < 2:
                continue
            X = ctx.data[items].apply(_numeric)
            X = X.where((X >= ctx.spec.scale_min) & (X <= ctx.spec.scale_max))
            keys = [("-" + i) if i in reverse else i for i in items]
            with _warnings.catch_warnings():
                _warnings.simplefilter("ignore")
                a = alpha(X, keys=keys)
            row = {
                "construct": ctx.construct_label(construct.name),
                "scale": ctx.construct_label(name) if "__" in name else ctx.tr("Échelle complète", "Whole scale"),
                "k": len(items),
                "n": a.n,
                "alpha": a.alpha,
                "ci_low": a.ci_low,
                "ci_high": a.ci_high,
                "average_r": a.average_r,
                "omega_total": np.nan,
                "omega_h": np.nan,
            }
            if "__" not in name and len(construct.dimensions) >= 3 and len(items) >= 3 * n_f:
                try:
                    Xr = X.copy()
                    for i in reverse:
                        Xr[i] = ctx.spec.scale_min + ctx.spec.scale_max - Xr[i]
                    with _warnings.catch_warnings():
                        _warnings.simplefilter("ignore")
                        o = omega(Xr, n_factors=min(n_f, len(construct.dimensions)))
                    row["omega_total"], row["omega_h"] = o.omega_total, o.omega_h
                    out.results[f"omega_{name}"] = o
                except (InputError, ValueError, np.linalg.LinAlgError) as exc:
                    ctx.warn(spec["id"], f"omega of {name} failed: {exc}")
            rows.append(row)
            out.results[f"alpha_{name}"] = a
            if "__" in name:
                for item, r in a.items.iterrows():
                    item_rows.append({
                        "dimension": ctx.construct_label(name),
                        "item": _item_text(ctx, item, item in reverse, short=70),
                        "r_drop": r["r_drop"],
                        "alpha_if_deleted": r["alpha_if_deleted"],
                    })
    df = pd.DataFrame(rows)
    out.results["scales"] = df
    if df.empty:
        return out
    labels = {"construct": "", "scale": "", "k": ctx.tr("Items", "Items"), "n": "n",
              "alpha": "α", "ci_low": ctx.t("low"), "ci_high": ctx.t("high"),
              "average_r": "r̄", "omega_total": ctx.tr("ω total", "ω total"), "omega_h": "ωh"}
    t = (
        _table(df, ctx, spec, number, suffix=ctx.tr("échelles et dimensions", "scales and dimensions"), key="scales")
        .tab_stub("scale", "construct")
        .cols_label(labels)
        .tab_spanner(ctx.tr("IC 95 % de α", "95% CI of α"), ["ci_low", "ci_high"])
        .fmt_integer(["k", "n"])
        .fmt_number(["alpha", "ci_low", "ci_high", "average_r", "omega_total", "omega_h"], decimals=2)
        .tab_note(ctx.tr(
            "α de Cronbach (items inversés recodés) avec intervalle de confiance de Feldt ; r̄ : corrélation "
            f"inter-items moyenne ; ω total et ωh (hiérarchique) de McDonald, solution de Schmid-Leiman à {n_f} "
            "facteurs de groupe (comme psych::omega), calculés pour les échelles d'au moins trois dimensions "
            "(— : non calculé).",
            "Cronbach's α (reverse-keyed items recoded) with Feldt confidence interval; r̄: mean inter-item "
            f"correlation; McDonald's ω total and ωh (hierarchical), Schmid-Leiman solution with {n_f} group "
            "factors (as psych::omega), computed for scales of at least three dimensions (—: not computed)."))
    )
    t = _finish(t, ctx)
    out.add(t)
    items_df = pd.DataFrame(item_rows)
    out.results["items"] = items_df
    if not items_df.empty:
        t2 = (
            _table(items_df, ctx, spec, number, suffix=ctx.tr("statistiques des items", "item statistics"), key="items")
            .tab_stub("item", "dimension")
            .cols_label({"item": "", "dimension": "",
                         "r_drop": ctx.tr("r item-reste", "Item-rest r"),
                         "alpha_if_deleted": ctx.tr("α sans l'item", "α if deleted")})
            .fmt_number(["r_drop", "alpha_if_deleted"], decimals=2)
            .tab_note(ctx.tr(
                "R : item inversé (recodé). r item-reste : corrélation de l'item avec la somme des autres "
                "items de sa dimension (psych r.drop) ; α sans l'item : α de la dimension si l'item est retiré.",
                "R: reverse-keyed item (recoded). Item-rest r: correlation of the item with the sum of the "
                "other items of its dimension (psych r.drop); α if deleted: α of the dimension without the item."))
        )
        t2 = _finish(t2, ctx, labels_note=True)
        out.add(t2)
    return out


def _match_factors(L: pd.DataFrame, construct) -> tuple[list[str], dict[str, str]]:
    """Order the EFA factors as the dimensions of the construct and name each by the
    dimension whose items load mostly on it (``{}`` for a factor matching no dimension)."""
    primary = L.abs().idxmax(axis=1)
    names: dict[str, str] = {}
    order: list[str] = []
    for d in construct.dimensions:
        votes = primary.reindex([i for i in d.items if i in L.index]).value_counts()
        if votes.empty:
            continue
        f = votes.index[0]
        if f not in names and votes.iloc[0] > len(d.items) / 2:
            names[f] = f"{construct.name}__{d.name}"
            order.append(f)
    order += [f for f in L.columns if f not in order]
    return order, names


def build_efa(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 5: EFA of the SI items (KMO, Bartlett, parallel analysis, loadings, Phi, variance)."""
    from analysis.psychometrics._factor import bartlett, efa, kmo, parallel_analysis
    from analysis.report._figures import loadings_heatmap, scree_plot
    from analysis.tables import format_integer, format_number

    out = TableOutput(spec["id"])
    construct = ctx.spec[spec.get("construct", "si_presence")]
    items = [i for i in construct.items if i in ctx.data.columns]
    X = _cached_items(ctx)[items]
    seed = ctx.plan.options.get("seed")
    method = spec.get("method", "minres")
    rotation = spec.get("rotation", "oblimin")
    n_iter = int(spec.get("n_iter", 20))
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        k = kmo(X)
        b = bartlett(X)
        pa = parallel_analysis(X, n_iter=n_iter, fm=method, seed=seed)
    nf = spec.get("n_factors", "parallel")
    if nf == "parallel":
        n_factors = max(1, int(pa.n_factors))
    elif nf == "dimensions":
        n_factors = len(construct.dimensions)
    else:
        n_factors = int(nf)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        e = efa(X, n_factors, method=method, rotation=rotation)
    for w in list(getattr(e, "warnings", [])) + list(getattr(pa, "warnings", [])):
        ctx.warn(spec["id"], w)
    out.results.update(kmo=k, bartlett=b, parallel=pa, efa=e)
    threshold = float(ctx.option(spec, "loading_threshold", 0.30))
    dec = int(ctx.option(spec, "decimals", 2))
    L = e.loadings
    order, fnames = _match_factors(L, construct)
    short = {f: f"F{j}" for j, f in enumerate(order, start=1)}
    primary = L.abs().idxmax(axis=1)
    # items in the order of their primary factor, then as in the questionnaire
    rank = {f: j for j, f in enumerate(order)}
    item_order = sorted(L.index, key=lambda i: (rank[primary[i]], items.index(i)))
    df = pd.DataFrame({"item": [_item_text(ctx, i, i in construct.reverse, short=55) for i in item_order]})
    cross = 0
    for f in order:
        cells = []
        for i in item_order:
            v = float(L.at[i, f])
            if abs(v) < threshold:
                cells.append(np.nan)
            else:
                text = format_number(v, dec, ctx.lang)
                if primary[i] == f:
                    text += "ᵃ"
                cells.append(text)
        df[short[f]] = cells
    shown = (L.abs() >= threshold).sum(axis=1)
    cross = int((shown > 1).sum())
    df["h2"] = e.communalities.reindex(item_order).to_numpy()
    out.results["loadings"] = L
    var = e.variance
    extra = []
    for key, lab in (("ss_loadings", ctx.tr("Somme des carrés des saturations", "Sum of squared loadings")),
                     ("proportion", ctx.tr("Variance expliquée (%)", "Variance explained (%)")),
                     ("cumulative", ctx.tr("Variance cumulée (%)", "Cumulative variance (%)"))):
        if key in var.index:
            row = {"item": lab}
            for f in order:
                v = float(var.at[key, f])
                row[short[f]] = format_number(v * 100, 1, ctx.lang) if key != "ss_loadings" else format_number(v, dec, ctx.lang)
            row["h2"] = np.nan
            extra.append(row)
    n_items = len(df)
    df = pd.concat([df, pd.DataFrame(extra)], ignore_index=True)
    fcols = [short[f] for f in order]
    t = (
        _table(df, ctx, spec, number, suffix=ctx.tr("saturations", "loadings"), key="loadings")
        .tab_stub("item")
        .cols_label({"item": "", "h2": ctx.t("communality")})
        .fmt_number("h2", decimals=dec)
        .tab_spanner(ctx.t("factor"), fcols)
        .cols_align("right", fcols)
        .sub_missing("")
    )
    if extra:
        t = t.tab_row_group("", list(range(n_items, len(df))))
    fit = e.fit
    parts = []
    for key, name in (("rmsea", "RMSEA"), ("tli", "TLI"), ("rmsr", "RMSR")):
        v = getattr(fit, key, None)
        if v is not None and np.isfinite(v):
            parts.append(f"{name} = {format_number(float(v), 3, ctx.lang)}")
    methods = {"minres": ("résidus minimaux", "minimum residual"), "ml": ("maximum de vraisemblance", "maximum likelihood"),
               "pa": ("axes principaux", "principal axes"), "uls": ("moindres carrés non pondérés", "unweighted least squares")}
    mname = methods.get(method, (method, method))[ctx.lang == "en"]
    dimnames = "; ".join(f"{short[f]} = {ctx.construct_label(fnames[f])}" for f in order if f in fnames)
    chi = format_number(float(b.statistic), 1, ctx.lang)
    pb = _fmt_p(b.p_value, ctx.lang)
    n_txt = format_integer(int(getattr(e, "n", len(X))), ctx.lang)
    thr = format_number(threshold, 2, ctx.lang)
    note = ctx.tr(
        f"n = {n_txt}. Extraction par {mname}, rotation {rotation} ; items inversés (R) recodés. "
        f"KMO = {format_number(float(k.overall), 2, 'fr')} ; test de sphéricité de Bartlett : χ²({int(b.df)}) = {chi}, {pb}. "
        f"Analyse parallèle ({n_iter} réplications) : {int(pa.n_factors)} facteur(s) retenu(s). "
        f"Saturations de valeur absolue inférieure à {thr} non affichées ; ᵃ saturation principale de l'item"
        f"{f' ({cross} item(s) saturent au-dessus du seuil sur plusieurs facteurs)' if cross else ''}. "
        f"Facteurs nommés d'après la dimension dont ils regroupent les items : {dimnames.replace('; ', ' ; ')}. "
        f"{', '.join(parts)}.",
        f"n = {n_txt}. Extraction by {mname}, {rotation} rotation; reverse-keyed items (R) recoded. "
        f"KMO = {format_number(float(k.overall), 2, 'en')}; Bartlett's test of sphericity: χ²({int(b.df)}) = {chi}, {pb}. "
        f"Parallel analysis ({n_iter} replications): {int(pa.n_factors)} factor(s) retained. "
        f"Loadings below {thr} in absolute value not shown; ᵃ primary loading of the item"
        f"{f' ({cross} item(s) load above the threshold on several factors)' if cross else ''}. "
        f"Factors named after the dimension whose items they gather: {dimnames}. {', '.join(parts)}.",
    )
    t = _finish(t.tab_note(note), ctx, labels_note=True)
    out.add(t)
    if e.phi is not None and len(order) > 1:
        phi = e.phi.loc[order, order].copy()
        phi.index = fcols
        phi.columns = fcols
        mask = np.triu(np.ones(phi.shape, dtype=bool), k=1)
        phi = phi.mask(mask)
        phi = phi.reset_index(names="factor")
        phi["factor"] = [f"{short[f]}  {ctx.construct_label(fnames[f])}" if f in fnames else short[f] for f in order]
        t2 = (
            _table(phi, ctx, spec, number, suffix=ctx.tr("corrélations entre facteurs", "factor correlations"), key="phi")
            .tab_stub("factor")
            .cols_label({"factor": ""})
            .fmt_number(fcols, decimals=2)
            .sub_missing("")
            .tab_note(ctx.tr(f"Corrélations entre les facteurs après rotation {rotation}.",
                             f"Correlations between the factors after {rotation} rotation."))
        )
        out.add(t2)
    eig = pa.eigen.reset_index()
    out.figures["scree_" + construct.name] = scree_plot(
        eig, kind="fa", observed="observed_fa", simulated="simulated_fa_quantile",
        n_factors=int(pa.n_factors), locale=ctx.lang,
    )
    Lr = L[order].copy()
    Lr.columns = fcols
    Lr = Lr.loc[item_order]
    long = Lr.rename_axis("item").reset_index().melt(id_vars="item", var_name="factor", value_name="loading")
    out.figures["loadings_" + construct.name] = loadings_heatmap(long, threshold=threshold, locale=ctx.lang)
    return out


def _first_order_model(ctx: ReportContext, constructs: Sequence[str]) -> tuple[str, dict]:
    """lavaan syntax of the first-order factors of the constructs (one factor per dimension)."""
    lines, factor_of = [], {}
    for line in ctx.spec.measurement_model.splitlines():
        line = line.split("#", 1)[0].strip()
        if "=~" not in line:
            continue
        lhs, rhs = (s.strip() for s in line.split("=~", 1))
        indicators = [s.strip() for s in rhs.split("+")]
        if all(i in ctx.data.columns for i in indicators) and any(
            i in ctx.spec[c].items for c in constructs for i in indicators
        ):
            lines.append(f"{lhs} =~ {' + '.join(indicators)}")
            for c in constructs:
                if indicators[0] in ctx.spec[c].items:
                    factor_of[lhs] = c
    return "\n".join(lines), factor_of


def _factor_dimension(ctx: ReportContext, construct: str | None, first_item: str) -> str:
    """``construct__dimension`` of a first-order factor (from its first indicator)."""
    if construct is not None:
        for d in ctx.spec[construct].dimensions:
            if first_item in d.items:
                return f"{construct}__{d.name}"
    for c in ctx.spec.reflective:
        for d in c.dimensions:
            if first_item in d.items:
                return f"{c.name}__{d.name}"
    return first_item


def _fit_rows(ctx: ReportContext, f: pd.Series, robust: bool) -> list[tuple[str, str]]:
    """Formatted fit indices of a CFA: (label, text)."""
    from analysis.tables import format_integer, format_number, format_pvalue

    sfx = "_robust" if robust else ""
    chis = "_scaled" if robust else ""

    def g(key):
        v = f.get(key, np.nan)
        return float(v) if v is not None and np.isfinite(v) else np.nan

    def num(v, d=3):
        return "—" if not np.isfinite(v) else format_number(v, d, ctx.lang)

    rows = [
        ("χ²", num(g("chisq" + chis), 2)),
        (ctx.tr("ddl", "df"), "—" if not np.isfinite(g("df")) else format_integer(g("df"), ctx.lang)),
        ("p", "—" if not np.isfinite(g("pvalue" + chis)) else format_pvalue(g("pvalue" + chis), 3, ctx.lang)),
        ("χ²/" + ctx.tr("ddl", "df"), num(g("chisq" + chis) / g("df"), 2) if g("df") > 0 else "—"),
        ("CFI", num(g("cfi" + sfx))),
        ("TLI", num(g("tli" + sfx))),
        ("RMSEA", num(g("rmsea" + sfx))),
    ]
    lo, hi = g("rmsea_ci_lower" + sfx), g("rmsea_ci_upper" + sfx)
    if np.isfinite(lo) and np.isfinite(hi):
        from analysis.tables import get_locale

        loc = get_locale(ctx.lang)
        rows.append((ctx.tr("RMSEA IC 90 %", "RMSEA 90% CI"),
                     f"[{format_number(lo, 3, ctx.lang)}{loc.interval_sep}{format_number(hi, 3, ctx.lang)}]"))
    rows.append(("SRMR", num(g("srmr"))))
    rows.append(("n", "—" if not np.isfinite(g("ntotal")) else format_integer(g("ntotal"), ctx.lang)))
    return rows


def build_cfa(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 6: CFA of the measurement model (fit, standardised loadings, CR, AVE, HTMT)."""
    from analysis.sem import cfa
    from analysis.report._figures import cfa_loadings_plot

    out = TableOutput(spec["id"])
    names = spec.get("constructs") or [c.name for c in ctx.spec.reflective]
    model, factor_of = _first_order_model(ctx, names)
    X = _cached_items(ctx)
    estimator = spec.get("estimator", "MLR")
    missing = spec.get("missing", "listwise")
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        res = cfa(model, X[[i for i in X.columns if any(i in ctx.spec[c].items for c in names)]],
                  estimator=estimator, missing=missing)
    for w in res.warnings:
        ctx.warn(spec["id"], w)
    out.results["cfa"] = res
    robust = estimator.upper() == "MLR"
    fit_df = pd.DataFrame(_fit_rows(ctx, res.fit, robust), columns=["index", "value"])
    miss_txt = {"fiml": ctx.tr("maximum de vraisemblance à information complète (FIML) pour les réponses manquantes",
                               "full-information maximum likelihood (FIML) for missing answers"),
                "listwise": ctx.tr("organisations ayant répondu à tous les items (suppression des observations "
                                   "incomplètes ; « je ne sais pas » et refus comptent comme manquants)",
                                   "organisations that answered every item (listwise deletion; \"don't know\" "
                                   "and refusals count as missing)")}.get(missing, missing)
    t_fit = (
        _table(fit_df, ctx, spec, number, suffix=ctx.tr("ajustement", "fit"), key="fit")
        .tab_stub("index")
        .cols_label({"index": ctx.t("fit"), "value": ctx.t("value")})
        .cols_align("right", "value")
        .tab_note(ctx.tr(
            f"Modèle à {len(factor_of)} facteurs de premier ordre corrélés (une dimension par facteur). Estimateur "
            f"{estimator} (comme lavaan), {miss_txt} ; items de Likert traités comme continus, items inversés recodés. "
            f"{'χ² mis à l’échelle (Yuan-Bentler) ; CFI, TLI et RMSEA robustes. ' if robust else ''}"
            "Seuils usuels : CFI et TLI ≥ 0,95, RMSEA ≤ 0,06, SRMR ≤ 0,08 (Hu et Bentler, 1999).",
            f"Model with {len(factor_of)} correlated first-order factors (one per dimension). {estimator} estimator "
            f"(as lavaan), {miss_txt}; Likert items treated as continuous, reverse-keyed items recoded. "
            f"{'Scaled χ² (Yuan-Bentler); robust CFI, TLI and RMSEA. ' if robust else ''}"
            "Usual cut-offs: CFI and TLI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08 (Hu and Bentler, 1999)."))
    )
    out.add(t_fit)
    sl = res.std_loadings.copy()
    cr = res.composite_reliability
    ave = res.ave
    cr_s = cr.iloc[:, 0] if isinstance(cr, pd.DataFrame) else pd.Series(cr)
    ave_s = ave.iloc[:, 0] if isinstance(ave, pd.DataFrame) else pd.Series(ave)
    dim_of = {}
    rows = []
    for fct, sub in sl.groupby("lhs", sort=False):
        dim = _factor_dimension(ctx, factor_of.get(fct), sub["rhs"].iloc[0])
        dim_of[fct] = dim
        for k, (_, r) in enumerate(sub.iterrows()):
            rows.append({
                "factor": ctx.construct_label(dim),
                "item": _item_text(ctx, r["rhs"], r["rhs"] in ctx.spec.reverse_items, short=60),
                "estimate": r["estimate"],
                "se": r["se"],
                "cr": float(cr_s.get(fct, np.nan)) if k == 0 else np.nan,
                "ave": float(ave_s.get(fct, np.nan)) if k == 0 else np.nan,
            })
    ld = pd.DataFrame(rows)
    out.results["loadings"] = ld
    t_ld = (
        _table(ld, ctx, spec, number, suffix=ctx.tr("saturations standardisées", "standardised loadings"), key="loadings")
        .tab_stub("item", "factor")
        .cols_label({"item": "", "factor": "", "estimate": "λ", "se": ctx.tr("ET", "SE"),
                     "cr": ctx.tr("FC", "CR"), "ave": "AVE"})
        .fmt_number(["estimate", "se", "cr", "ave"], decimals=2)
        .sub_missing("")
        .tab_note(ctx.tr(
            "λ : saturation standardisée (std.all), ET : son erreur-type ; toutes les saturations sont "
            "significatives (p < ,001). FC : fiabilité composite ; AVE : variance moyenne extraite "
            "(Fornell et Larcker, 1981), sur la première ligne de chaque dimension. R : item inversé (recodé).",
            "λ: standardised loading (std.all), SE: its standard error; all loadings are significant "
            "(p < .001). CR: composite reliability; AVE: average variance extracted (Fornell and Larcker, "
            "1981), on the first row of each dimension. R: reverse-keyed item (recoded)."))
    )
    p_load = res.params[(res.params["op"] == "=~") & res.params["free"].astype(bool)]["p_value"] if "free" in res.params else pd.Series(dtype=float)
    if len(p_load) and float(p_load.max()) >= 0.001:
        t_ld = dataclasses.replace(t_ld, notes=tuple(n.replace(
            ctx.tr("toutes les saturations sont significatives (p < ,001). ", "all loadings are significant (p < .001). "), "")
            for n in t_ld.notes))
    t_ld = _finish(t_ld, ctx, labels_note=True)
    out.add(t_ld)
    H = res.htmt
    if H is not None and not H.empty:
        facs = [f for f in H.columns]
        labs = [ctx.construct_label(dim_of.get(f, f)) for f in facs]
        nums = [str(j) for j in range(1, len(facs) + 1)]
        Hd = H.loc[facs, facs].copy()
        Hd.columns = nums
        Hd = Hd.mask(np.triu(np.ones(Hd.shape, dtype=bool)))
        Hd.insert(0, "factor", [f"{j}. {lab}" for j, lab in zip(nums, labs)])
        Hd = Hd.iloc[:, :-1].reset_index(drop=True)  # row 1 kept (empty) so that every number is named
        above = int((H.where(~np.eye(len(H), dtype=bool)).abs() >= 0.85).to_numpy().sum() // 2)
        t_h = (
            _table(Hd, ctx, spec, number, suffix=ctx.tr("validité discriminante (HTMT)", "discriminant validity (HTMT)"),
                   key="htmt")
            .tab_stub("factor")
            .cols_label({"factor": ""})
            .fmt_number(nums[:-1], decimals=2)
            .sub_missing("")
            .tab_note(ctx.tr(
                "Ratio hétérotrait-monotrait (Henseler et al., 2015) entre les dimensions numérotées ; une valeur "
                f"inférieure à 0,85 soutient la validité discriminante ({above} paire(s) au-dessus).",
                "Heterotrait-monotrait ratio (Henseler et al., 2015) between the numbered dimensions; values below "
                f".85 support discriminant validity ({above} pair(s) above)."))
        )
        out.add(t_h)
    fig_df = sl.rename(columns={"lhs": "factor", "rhs": "item"})
    fig_df["factor"] = fig_df["factor"].map(lambda f: ctx.construct_label(dim_of.get(f, f)))
    for c in names:
        dims = {ctx.construct_label(f"{c}__{d.name}") for d in ctx.spec[c].dimensions}
        part = fig_df[fig_df["factor"].isin(dims)]
        if not part.empty:
            out.figures[f"cfa_loadings_{c}"] = cfa_loadings_plot(part, title=ctx.construct_label(c), locale=ctx.lang)
    return out


def build_invariance(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 6b: measurement invariance across legal forms (configural, metric, scalar)."""
    from analysis.sem import measurement_invariance
    from analysis.tables import format_integer

    out = TableOutput(spec["id"])
    group, levels = _groups(ctx)
    levels = levels[:2]
    if len(levels) < 2:
        ctx.warn(spec["id"], "fewer than two groups: invariance not tested")
        return out
    names = [spec.get("construct", "si_presence")]
    model, factor_of = _first_order_model(ctx, names)
    items = [i for c in names for i in ctx.spec[c].items if i in ctx.data.columns]
    X = _cached_items(ctx)[items].copy()
    X[group] = ctx.data[group].to_numpy()
    X = X[X[group].isin(levels)]
    estimator = spec.get("estimator", "MLR")
    missing = spec.get("missing", "listwise")
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        inv = measurement_invariance(model, X, group, estimator=estimator, missing=missing)
    out.results["invariance"] = inv
    for lv, m in inv.models.items():
        for w in getattr(m, "warnings", []):
            ctx.warn(spec["id"], f"{lv}: {w}")
    comp = inv.comparison.copy()
    robust = estimator.upper() == "MLR"

    def pick(name):
        return f"{name}_robust" if robust and f"{name}_robust" in comp else name

    cols = {
        "model": "model",
        "chisq": "chisq_scaled" if robust and "chisq_scaled" in comp else "chisq",
        "df": "df",
        "cfi": pick("cfi"),
        "tli": pick("tli"),
        "rmsea": pick("rmsea"),
        "srmr": "srmr",
        "delta_chisq": "delta_chisq",
        "delta_df": "delta_df",
        "p_value": "p_value",
        "delta_cfi": pick("delta_cfi") if robust and "delta_cfi_robust" in comp else "delta_cfi",
        "delta_rmsea": "delta_rmsea_robust" if robust and "delta_rmsea_robust" in comp else "delta_rmsea",
    }
    df = pd.DataFrame({k: comp[v] if v in comp else np.nan for k, v in cols.items()})
    for k in ("tli", "srmr"):
        if df[k].isna().all():
            vals = []
            for lv in comp["model"]:
                f = inv.models[lv].fit
                key = pick(k) if k == "tli" else k
                vals.append(float(f[key]) if key in f.index else np.nan)
            df[k] = vals
    df = df.dropna(axis=1, how="all")
    names_models = {"configural": ctx.tr("Configurale", "Configural"),
                    "metric": ctx.tr("Métrique (saturations)", "Metric (loadings)"),
                    "scalar": ctx.tr("Scalaire (+ intercepts)", "Scalar (+ intercepts)"),
                    "strict": ctx.tr("Stricte (+ résidus)", "Strict (+ residuals)")}
    df["model"] = df["model"].map(lambda m: names_models.get(m, m))
    labels = {"model": ctx.t("model"), "chisq": "χ²", "df": ctx.tr("ddl", "df"), "cfi": "CFI", "tli": "TLI",
              "rmsea": "RMSEA", "srmr": "SRMR", "delta_chisq": "Δχ²", "delta_df": ctx.tr("Δddl", "Δdf"),
              "p_value": "p", "delta_cfi": "ΔCFI", "delta_rmsea": "ΔRMSEA"}
    present = list(df.columns)
    t = (
        _table(df, ctx, spec, number)
        .tab_stub("model")
        .cols_label({k: v for k, v in labels.items() if k in present})
        .fmt_number([c for c in ("chisq", "delta_chisq") if c in present], decimals=2)
        .fmt_integer([c for c in ("df", "delta_df") if c in present])
        .fmt_number([c for c in ("cfi", "tli", "rmsea", "srmr", "delta_cfi", "delta_rmsea") if c in present], decimals=3)
        .fmt_pvalue("p_value")
        .tab_spanner(ctx.tr("Ajustement", "Fit"), [c for c in ("chisq", "df", "cfi", "tli", "rmsea", "srmr") if c in present])
        .tab_spanner(ctx.tr("Comparaison au modèle précédent", "Comparison with the previous model"),
                     [c for c in ("delta_chisq", "delta_df", "p_value", "delta_cfi", "delta_rmsea") if c in present])
    )
    nobs = getattr(inv.models[next(iter(inv.models))], "nobs", None) or []
    glabels = getattr(inv.models[next(iter(inv.models))], "group_labels", None) or levels
    ns = ", ".join(f"{ctx.group_label(g)} n = {format_integer(n, ctx.lang)}" for g, n in zip(glabels, nobs))
    lab = ctx.construct_label(names[0])
    miss_txt = ctx.tr("observations incomplètes exclues", "incomplete cases excluded") if missing == "listwise" else "FIML"
    t = t.tab_note(ctx.tr(
        f"{lab} : {len(factor_of)} facteurs de premier ordre. Groupes : {ns} ({miss_txt}). Estimateur {estimator}"
        f"{' ; χ², CFI, TLI et RMSEA robustes ; test de différence du χ² mis à l’échelle (Satorra et Bentler, 2001)' if robust else ' ; test de différence du χ²'}"
        " entre modèles emboîtés. Critères usuels de non-invariance : ΔCFI ≤ −0,01 et ΔRMSEA ≥ 0,015 (Chen, 2007).",
        f"{lab}: {len(factor_of)} first-order factors. Groups: {ns} ({miss_txt}). {estimator} estimator"
        f"{'; robust χ², CFI, TLI and RMSEA; scaled χ² difference test (Satorra and Bentler, 2001)' if robust else '; χ² difference test'}"
        " between nested models. Usual criteria of non-invariance: ΔCFI ≤ −.01 and ΔRMSEA ≥ .015 (Chen, 2007)."))
    out.add(t)
    return out


_FUNDING_FAMILIES = {
    "fund_subsidy_state": {"fr": "Subventions publiques", "en": "Public subsidies"},
    "fund_subsidy_local": {"fr": "Subventions publiques", "en": "Public subsidies"},
    "fund_subsidy_indh": {"fr": "Subventions publiques", "en": "Public subsidies"},
    "fund_crowdfunding": {"fr": "Autres", "en": "Other"},
    "fund_other": {"fr": "Autres", "en": "Other"},
}


#: Short labels of the funding sources (column headers).
FUNDING_SHORT = {
    "fund_dues": ("Cotisations", "Dues"),
    "fund_donations": ("Dons", "Donations"),
    "fund_sponsorship": ("Mécénat", "Sponsorship"),
    "fund_subsidy_state": ("Subv. État", "State subsidies"),
    "fund_subsidy_local": ("Subv. collectivités", "Local subsidies"),
    "fund_subsidy_indh": ("INDH", "INDH"),
    "fund_international": ("Bailleurs étrangers", "Foreign donors"),
    "fund_market": ("Marchand", "Market"),
    "fund_crowdfunding": ("Fin. participatif", "Crowdfunding"),
    "fund_loans": ("Prêts", "Loans"),
    "fund_other": ("Autres", "Other"),
}


def _funding_family(ctx: ReportContext, share: str) -> str:
    """Label of a funding source for the figure (public subsidies and small sources grouped)."""
    fam = _FUNDING_FAMILIES.get(share)
    return fam[ctx.lang] if fam else _share_label(ctx, share)


def _share_label(ctx: ReportContext, share: str) -> str:
    """Label of a funding share without the trailing ``(%)``."""
    return re.sub(r"\s*\(%\)\s*$", "", ctx.label(share, short=60))


def build_funding(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 7: funding mix (mean shares) and hybridisation (HHI, 1-HHI, sources).

    One table by legal form (sources in rows, groups in columns) and one by region
    (the hybridisation indicators and the main sources, regions in rows).
    """
    from analysis.report._figures import funding_mix_bars, regional_bars

    out = TableOutput(spec["id"])
    hyb = next((c for c in ctx.spec.constructs if getattr(c, "kind", "") == "formative"), None)
    shares = [s for s in (getattr(hyb, "shares", None) or []) if s in ctx.data.columns]
    if not shares:
        shares = [c for c in ctx.data.columns if c.startswith("fund_") and c not in ("fund_total", "fund_check")
                  and pd.api.types.is_numeric_dtype(ctx.data[c])]
    indicators = [c for c in ("funding_hhi", "funding_diversity", "funding_n_sources", "funding_market_share")
                  if c in ctx.data.columns]
    group, levels = _groups(ctx)
    by_list = spec.get("by") or [group]
    threshold = ctx.threshold
    d = ctx.data
    S = d[shares].apply(_numeric)
    ind_values = d[indicators].apply(_numeric)
    ind_labels = {
        "funding_hhi": ctx.tr("HHI (concentration)", "HHI (concentration)"),
        "funding_diversity": ctx.tr("1 − HHI (diversification)", "1 − HHI (diversification)"),
        "funding_n_sources": ctx.tr("Nombre de sources", "Number of sources"),
        "funding_market_share": ctx.tr("Part des recettes marchandes (%)", "Share of market income (%)"),
    }
    frames = {}
    for by in by_list:
        if by not in d.columns:
            ctx.warn(spec["id"], f"grouping variable '{by}' absent")
            continue
        grp = d[by].astype("string")
        mean_s = S.groupby(grp).mean()
        mean_s.loc["__total__"] = S.mean()
        mean_i = ind_values.groupby(grp).mean()
        mean_i.loc["__total__"] = ind_values.mean()
        n = S.notna().any(axis=1).groupby(grp).sum().astype(float)
        n.loc["__total__"] = float(S.notna().any(axis=1).sum())
        tab = mean_s.join(mean_i)
        tab["n"] = n
        if "funding_market_share" in tab:
            tab["funding_market_share"] = tab["funding_market_share"] * 100
        frames[by] = tab
        out.results[f"funding_by_{by}"] = tab.rename(index={"__total__": "total"})
    if not frames:
        return out
    small_note = ctx.tr(f"Groupes de moins de {threshold} organisations non publiés ({SUPPRESSED}).",
                        f"Groups of fewer than {threshold} organisations not published ({SUPPRESSED}).")
    first = by_list[0] if by_list[0] in frames else next(iter(frames))
    # table by legal form group: rows = sources and indicators, columns = groups
    tab = frames[first]
    col_keys = [g for g in (levels if first == group else list(tab.index.drop("__total__"))) if g in tab.index] + ["__total__"]
    vl = ctx.value_labels(first)

    def lvl(g):
        if g == "__total__":
            return ctx.t("total")
        return ctx.group_label(g) if first == group else vl.get(str(g), str(g))

    rows = []
    for s in shares:
        rows.append({"row": _share_label(ctx, s), "section": ctx.tr("Part moyenne des ressources (%)", "Mean share of resources (%)"),
                     **{f"c{j}": tab.at[g, s] for j, g in enumerate(col_keys)}})
    market_src = [s for s in shares if "market" in s]
    first_inds = [s for s in indicators if not (s == "funding_market_share" and market_src)]
    for s in first_inds:
        rows.append({"row": ind_labels[s], "section": ctx.tr("Hybridation des ressources", "Resource hybridisation"),
                     **{f"c{j}": tab.at[g, s] for j, g in enumerate(col_keys)}})
    rows.append({"row": ctx.tr("Organisations (n)", "Organisations (n)"), "section": "",
                 **{f"c{j}": tab.at[g, "n"] for j, g in enumerate(col_keys)}})
    t_df = pd.DataFrame(rows)
    ccols = [f"c{j}" for j in range(len(col_keys))]
    small = [f"c{j}" for j, g in enumerate(col_keys) if tab.at[g, "n"] < threshold]
    for c in small:
        t_df[c] = SUPPRESSED
    n_share, n_ind = len(shares), len(first_inds)

    from analysis.tables import format_integer, format_number

    texts = t_df.copy()
    for c in ccols:
        vals = []
        for i, v in enumerate(t_df[c]):
            if isinstance(v, str) or v is None or (isinstance(v, float) and not np.isfinite(v)):
                vals.append(v if isinstance(v, str) else np.nan)
            elif i < n_share:
                vals.append(format_number(float(v), 1, ctx.lang))
            elif i < n_share + n_ind:
                key = first_inds[i - n_share]
                dec = 1 if key == "funding_market_share" else 2
                vals.append(format_number(float(v), dec, ctx.lang))
            else:
                vals.append(format_integer(float(v), ctx.lang))
        texts[c] = vals
    t = (
        _table(texts, ctx, spec, number, suffix=_by_label(ctx, first, group), key=f"by-{_slug(first)}")
        .tab_stub("row", "section")
        .cols_label({"row": "", "section": "", **{c: lvl(g) for c, g in zip(ccols, col_keys)}})
        .cols_align("right", ccols)
    )
    t = t.tab_note(ctx.tr(
        "Moyennes, sur les organisations, des parts de chaque source dans les ressources de la dernière année "
        "(chaque organisation pèse autant ; non pondéré). HHI : indice de Herfindahl-Hirschman des parts (1 = une "
        "seule source) ; 1 − HHI : diversification ; nombre de sources : sources de part non nulle.",
        "Means over organisations of the share of each source in last year's resources (each organisation "
        "weighs the same; unweighted). HHI: Herfindahl-Hirschman index of the shares (1 = a single source); "
        "1 − HHI: diversification; number of sources: sources with a non-zero share."))
    if small:
        t = t.tab_note(small_note)
    t = _finish(t, ctx, labels_note=True)
    out.add(t, counts=[])
    # other groupings: rows = levels, columns = n + indicators + main sources
    for by in by_list:
        if by == first or by not in frames:
            continue
        tab = frames[by]
        vl = ctx.value_labels(by)
        market_src = [s for s in shares if "market" in s]
        top = [s for s in frames[by].loc["__total__", shares].sort_values(ascending=False).index
               if s not in market_src][:3]
        inds = [c for c in indicators if c != "funding_diversity"]  # 1 - HHI is in the first table
        cols = ["n"] + inds + top
        df = tab[cols].copy()
        df.index = [ctx.t("total") if lv == "__total__" else vl.get(str(lv), str(lv)) for lv in df.index]
        order = [i for i in df.index if i != ctx.t("total")] + [ctx.t("total")]
        df = df.loc[order].reset_index(names="level")
        low = df["n"] < threshold
        for c in cols:
            df[c] = df[c].astype(object).where(~low, SUPPRESSED)
        labels = {"level": "", "n": "n"}
        labels.update({"funding_hhi": "HHI",
                       "funding_n_sources": ctx.tr("Sources", "Sources"),
                       "funding_market_share": ctx.tr("Marchand (%)", "Market (%)")})
        for s in top:
            labels[s] = FUNDING_SHORT[s][ctx.lang == "en"] if s in FUNDING_SHORT else _share_label(ctx, s)
        t2 = (
            _table(df, ctx, spec, number, suffix=_by_label(ctx, by, group), key=f"by-{_slug(by)}")
            .tab_stub("level")
            .cols_label(labels)
            .fmt_integer("n")
            .fmt_number([c for c in ("funding_hhi", "funding_n_sources") if c in cols], decimals=2)
            .fmt_number([c for c in cols if c in top or c == "funding_market_share"], decimals=1)
            .tab_spanner(ctx.tr("Hybridation", "Hybridisation"), inds)
            .tab_spanner(ctx.tr("Autres sources principales (%)", "Other main sources (%)"), top)
            .tab_row_group("", [len(df) - 1])
            .tab_note(ctx.tr(
                "Moyennes non pondérées sur les organisations ; HHI : indice de Herfindahl-Hirschman des parts de "
                "financement ; sources : nombre de sources de part non nulle ; marchand : part des recettes "
                "d'activités marchandes ; autres sources principales : les trois sources (hors recettes marchandes) "
                "de plus forte part moyenne dans l'ensemble, en % des ressources.",
                "Unweighted means over organisations; HHI: Herfindahl-Hirschman index of the funding shares; "
                "sources: number of sources with a non-zero share; market: share of market income; other main "
                "sources: the three sources (market income aside) with the largest mean share overall, in % of "
                "resources."))
        )
        if low.any():
            t2 = t2.tab_note(small_note)
        t2 = _finish(t2, ctx, labels_note=True)
        out.add(t2, counts=["n"])
        if by == "region" and "funding_diversity" in indicators:
            reg = tab.drop(index="__total__")
            reg = reg[reg["n"] >= threshold]["funding_diversity"].rename_axis("region").reset_index()
            reg["region"] = reg["region"].map(lambda r, v=vl: v.get(str(r), str(r)))
            reg = reg.rename(columns={"funding_diversity": "value"})
            out.figures["funding_diversity_by_region"] = regional_bars(
                reg, xlabel=ctx.tr("Diversification des ressources (1 − HHI)", "Resource diversification (1 − HHI)"),
                locale=ctx.lang)
    tab = frames[first]
    keep = [g for g in tab.index if g != "__total__" and tab.at[g, "n"] >= threshold]
    long = tab.loc[keep, shares].reset_index(names="group").melt(id_vars="group", var_name="source", value_name="share")
    long["share"] = long["share"] / 100
    long["group"] = long["group"].map(lambda g: ctx.group_label(g) if first == group else ctx.value_labels(first).get(str(g), str(g)))
    long["source"] = long["source"].map(lambda s: _funding_family(ctx, s))
    long = long.groupby(["group", "source"], sort=False, as_index=False)["share"].sum()
    out.figures["funding_mix"] = funding_mix_bars(long, locale=ctx.lang)
    return out


def _by_label(ctx: ReportContext, by: str, group: str) -> str:
    if by == group:
        return ctx.tr("selon la forme juridique", "by legal form")
    if by == "region":
        return ctx.tr("selon la région", "by region")
    return ctx.tr("selon ", "by ") + ctx.label(by, short=40).lower()


def build_problems(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 8: problems of Annexe 2 at scale: share rating each problem serious, by legal form."""
    from analysis.descriptives._group_tests import crosstab

    out = TableOutput(spec["id"])
    group, levels = _groups(ctx)
    levels = levels[:2]
    serious_from = int(spec.get("serious_from", 4))
    groups = getattr(ctx.spec, "problem_groups", {}) or {}
    if not groups:
        items = [c for c in ctx.data.columns if c.startswith("prob_")]
        groups = {"all": {"label_fr": "", "items": items}}
    seed = ctx.plan.options.get("seed")
    threshold = ctx.threshold
    rows = []
    for gname, g in groups.items():
        glabel = PROBLEM_GROUPS_EN.get(gname, g.get("label_fr", gname)) if ctx.lang == "en" else g.get("label_fr", gname)
        grows = []
        for item in g.get("items", []):
            if item not in ctx.data.columns:
                continue
            x = _numeric(ctx.data[item])
            x = x.where((x >= 1) & (x <= 5))
            serious = (x >= serious_from).astype(float).where(x.notna())
            row = {"group": glabel, "item": ctx.label(item, short=75), "var": item, "n": int(x.notna().sum()),
                   "n_serious": int(serious.sum()), "total": float(serious.mean() * 100)}
            for lv in levels:
                s = serious[ctx.data[group] == lv]
                row[f"n_{lv}"] = int(s.notna().sum())
                row[f"k_{lv}"] = int(s.sum())
                row[lv] = float(s.mean() * 100)
            if len(levels) == 2:
                dd = pd.DataFrame({"s": serious, "g": ctx.data[group]}).dropna()
                dd = dd[dd["g"].isin(levels)]
                try:
                    row["p_value"] = crosstab(dd, "g", "s", seed=seed).p_value
                except InputError:
                    row["p_value"] = np.nan
            grows.append(row)
        grows.sort(key=lambda r: -r["total"])
        rows.extend(grows)
    df = pd.DataFrame(rows)
    out.results["problems"] = df
    if df.empty:
        return out
    pct_cols = ["total"] + levels
    show = ["group", "item", "n"] + pct_cols + (["p_value"] if "p_value" in df else [])
    table_df = df[show].copy()
    # a share resting on fewer than `threshold` organisations (or all but fewer) is not published
    hidden = 0
    for lv, nk in [("total", ("n", "n_serious"))] + [(lv, (f"n_{lv}", f"k_{lv}")) for lv in levels]:
        n, k = df[nk[0]], df[nk[1]]
        low = (k < threshold) | (n - k < threshold)
        hidden += int(low.sum())
        table_df[lv] = table_df[lv].astype(object).where(~low, SUPPRESSED)
    labels = {"group": "", "item": "", "n": "n", "total": ctx.t("total"), "p_value": "p"}
    for lv in levels:
        labels[lv] = ctx.group_label(lv)
    t = (
        _table(table_df, ctx, spec, number)
        .tab_stub("item", "group")
        .cols_label(labels)
        .fmt_integer("n")
        .fmt_number(pct_cols, decimals=1)
        .tab_spanner(ctx.t("serious"), pct_cols)
    )
    if "p_value" in table_df:
        t = t.fmt_pvalue("p_value")
    t = t.tab_note(ctx.tr(
        f"Part des organisations jugeant le problème grave ou très grave ({serious_from} ou plus sur une échelle "
        "de 1 = pas un problème à 5 = problème très grave), parmi celles qui ont répondu (n). Problèmes de "
        "l'annexe 2 de l'enquête qualitative, classés par part décroissante dans chaque groupe. p : test du "
        "khi-deux entre associations et coopératives.",
        f"Share of organisations rating the problem serious or very serious ({serious_from} or more on a scale "
        "from 1 = not a problem to 5 = very serious problem), among those who answered (n). Problems of Annex 2 "
        "of the qualitative study, sorted by decreasing share within each group. p: chi-square test between "
        "associations and cooperatives."))
    if hidden:
        t = t.tab_note(ctx.tr(
            f"Parts reposant sur moins de {threshold} organisations non publiées ({SUPPRESSED}).",
            f"Shares resting on fewer than {threshold} organisations not published ({SUPPRESSED})."))
    t = _finish(t, ctx, labels_note=True)
    out.add(t, counts=["n"])
    return out


def _dependent(formula: str) -> str:
    """The dependent variable of a patsy formula (``I(x >= 4)`` gives ``x``)."""
    lhs = formula.split("~", 1)[0].strip()
    m = re.search(r"[A-Za-z_]\w*", lhs[2:] if lhs.startswith("I(") else lhs)
    return m.group(0) if m else lhs


def build_models(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 9: regression models of H1-H3 side by side, plus a coefficient plot."""
    from analysis.report._figures import coefficient_plot, tidy_coefficients
    from analysis.regression._regression import load_analysis_plan, run_analysis_plan
    from analysis.tables import model_table

    out = TableOutput(spec["id"])
    plan = load_analysis_plan()
    names = spec.get("models") or list(plan.models)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        results = run_analysis_plan(ctx.data, plan, models=names)
    for name, r in results.items():
        for w in getattr(r, "warnings", ()) or ():
            ctx.warn(f"{spec['id']}/{name}", w)
    out.results["models"] = results
    cols, dvs, descs, ses = {}, [], [], {}
    colon = ctx.tr(" : ", ": ")
    for i, (name, r) in enumerate(results.items(), start=1):
        mspec = plan.models[name]
        kind = getattr(r, "model", mspec.model)
        key = f"({i}) {MODEL_KINDS.get(kind, {}).get(ctx.lang, kind)}"
        cols[key] = r
        dv = _dependent(mspec.formula)
        dvs.append((key, dv))
        dv_text = DV_LONG.get(dv, {}).get(ctx.lang) or _term_label(ctx, dv)
        se = str(mspec.se or "classical").lower()
        ses[se] = ses.get(se, []) + [f"({i})"]
        if kind == "logit":
            m = re.search(r">=\s*(\d+)", mspec.formula)
            what = ctx.tr(f"probabilité de répondre {m.group(1)} ou plus" if m else "probabilité",
                          f"probability of answering {m.group(1)} or more" if m else "probability")
            descs.append(f"({i}) {dv_text}{colon}{what}, {ctx.tr('log des rapports de cotes', 'log odds ratios')}")
        elif kind in ("negbin", "poisson"):
            descs.append(f"({i}) {dv_text}{colon}{ctx.tr('log des rapports de taux', 'log rate ratios')}")
        elif kind == "ordinal":
            descs.append(f"({i}) {dv_text}{colon}{ctx.tr('log des rapports de cotes cumulées', 'cumulative log odds ratios')}")
        else:
            descs.append(f"({i}) {dv_text}")
        if mspec.center:
            descs[-1] += ctx.tr(" ; variables centrées : ", "; centred variables: ") + ", ".join(
                _term_label(ctx, c) for c in mspec.center)
    coef_labels = {}
    for r in results.values():
        for term in r.coefficients.index:
            coef_labels.setdefault(term, _term_label(ctx, term))
    # predictors of interest first, then interactions, controls, factor levels, the intercept last
    def rank(term: str) -> int:
        if term in ("Intercept", "const"):
            return 5
        if term.startswith("C("):
            return 4
        if ":" in term:
            return 2
        if term in ("log_members", "org_age"):
            return 3
        return 1

    coef_labels = {k: coef_labels[k] for k in sorted(coef_labels, key=rank)}
    omit = []
    for pattern in spec.get("coef_omit", []):
        omit += [t for t in coef_labels if t.startswith(pattern)]
    ref = _reference_notes(ctx, results)
    t = model_table(cols, coef_labels=coef_labels, coef_omit=omit, reference_notes=ref, locale=ctx.lang)
    t = (
        t.with_locale(ctx.lang)
        .tab_header(ctx.title(spec), number=number)
        .tab_label(f"tab:{spec['id']}")
        .tab_source(ctx.source)
    )
    # dependent variables over their columns (adjacent runs)
    run_start = 0
    for j in range(1, len(dvs) + 1):
        if j == len(dvs) or dvs[j][1] != dvs[run_start][1]:
            dv = dvs[run_start][1]
            label = DV_SHORT.get(dv, {}).get(ctx.lang) or _term_label(ctx, dv)
            t = t.tab_spanner(label, [k for k, _ in dvs[run_start:j]])
            # (the full dependent-variable labels are in the note)
            run_start = j
    se_txt = "; ".join(f"{SE_KINDS.get(se, {}).get(ctx.lang, se)} {ctx.tr('pour', 'for')} {', '.join(m)}"
                       if len(ses) > 1 else SE_KINDS.get(se, {}).get(ctx.lang, se) for se, m in ses.items())
    omitted = ""
    if spec.get("coef_omit"):
        fx = [_term_label(ctx, p).lower() if ctx.lang == "en" else _term_label(ctx, p).lower() for p in spec["coef_omit"]]
        omitted = ctx.tr(f" Effets fixes inclus, non affichés : {', '.join(fx)}.",
                         f" Fixed effects included, not shown: {', '.join(fx)}.")
    # model_table's first note ("standard errors in parentheses") is replaced by the precise one
    t = dataclasses.replace(t, notes=(ctx.tr(f"Entre parenthèses : {se_txt}.", f"In parentheses: {se_txt}.")
                                      + omitted,) + tuple(n for n in t.notes if n not in (
                                          "Erreurs types entre parenthèses.", "Standard errors in parentheses.")))
    t = t.tab_note(ctx.tr("Variables dépendantes et coefficients : ", "Dependent variables and coefficients: ")
                   + "; ".join(descs).replace("; (", " ; (" if ctx.lang == "fr" else "; (") + ".")
    t = _finish(t, ctx, labels_note=True)
    out.add(t, counts=[])
    coefs = tidy_coefficients({k: v for k, v in cols.items() if getattr(v, "model", "") == "ols"})
    keep = [t_ for t_ in coefs["term"].unique() if t_.startswith("score_") or ":" in t_ or t_ in ("support_n_types",)]
    coefs = coefs[coefs["term"].isin(keep)]
    if not coefs.empty:
        out.figures["coefficients_h1_h3"] = coefficient_plot(
            coefs, term_labels={k: _term_label(ctx, k) for k in keep}, locale=ctx.lang
        )
    return out


def _term_label(ctx: ReportContext, term: str) -> str:
    m = re.fullmatch(r"C\((\w+)\)(?:\[T\.(.+)\])?", term)
    if m:
        var, level = m.group(1), m.group(2)
        base = ctx.t(var) if var in ("legal_form", "sector", "region") else ctx.label(var, short=40)
        if var == "legal_form_group":
            base = ctx.t("legal_form")
        if level is None:
            return base
        return f"{base} : {ctx.value_labels(var).get(level, level)}" if ctx.lang == "fr" else \
            f"{base}: {ctx.value_labels(var).get(level, level)}"
    parts = term.split(":")
    if len(parts) > 1:
        return " × ".join(_term_label(ctx, p) for p in parts)
    if term in DERIVED_LABELS:
        return DERIVED_LABELS[term][ctx.lang]
    if term.startswith("score_"):
        return ctx.construct_label(term[len("score_"):])
    return ctx.label(term, short=50)


def _reference_notes(ctx: ReportContext, results: dict) -> dict:
    notes = {}
    for var in ("legal_form", "sector", "region"):
        for r in results.values():
            levels = [t for t in r.coefficients.index if t.startswith(f"C({var})[T.")]
            if levels and var in ctx.data.columns:
                present = sorted(ctx.data[var].dropna().astype(str).unique())
                shown = {t.split("[T.", 1)[1].rstrip("]") for t in levels}
                base = [p for p in present if p not in shown]
                if base:
                    notes[ctx.t(var)] = ctx.value_labels(var).get(base[0], base[0])
                break
    return notes


def build_groups(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 10: associations compared with cooperatives (H4) with effect sizes."""
    from analysis.descriptives._group_tests import compare_groups
    from analysis.regression._regression import load_analysis_plan

    out = TableOutput(spec["id"])
    group, levels = _groups(ctx)
    levels = levels[:2]
    comp = load_analysis_plan().comparisons or {}
    outcomes = [o for o in spec.get("outcomes", comp.get("outcomes", [])) if o in ctx.data.columns]
    results = {}
    # the outcomes only (run_comparisons would also run the plan's cross-tables, not shown here)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        for dv in outcomes:
            results[str(dv)] = compare_groups(ctx.data, dv, comp.get("group", group))
    out.results["comparisons"] = results
    rows = []
    for name, res in results.items():
        if not hasattr(res, "tests"):
            continue
        tests = res.tests.set_index("test")
        eff = res.effects.set_index("effect")
        d = res.groups.set_index("group")
        row = {"variable": _term_label(ctx, name)}
        for lv in levels:
            if lv in d.index:
                row[f"n_{lv}"] = float(d.at[lv, "n"]) if "n" in d.columns else np.nan
                row[f"mean_{lv}"] = float(d.at[lv, "mean"])
                row[f"sd_{lv}"] = float(d.at[lv, "sd"])
        if "welch_t" in tests.index:
            row["t"] = float(tests.at["welch_t", "statistic"])
            row["df"] = float(tests.at["welch_t", "df"])
            row["p_value"] = float(tests.at["welch_t", "p_value"])
        if "hedges_g" in eff.index:
            row["g"] = float(eff.at["hedges_g", "estimate"])
            row["g_low"] = float(eff.at["hedges_g", "ci_low"])
            row["g_high"] = float(eff.at["hedges_g", "ci_high"])
        if "mann_whitney" in tests.index:
            row["p_mw"] = float(tests.at["mann_whitney", "p_value"])
        rows.append(row)
    df = pd.DataFrame(rows)
    out.results["table"] = df
    if df.empty:
        return out
    n_cols = [c for c in df.columns if c.startswith("n_")]
    ns = {lv: (int(df[f"n_{lv}"].min()), int(df[f"n_{lv}"].max())) for lv in levels if f"n_{lv}" in df}
    df = df.drop(columns=n_cols)
    differ = 0
    if "p_mw" in df and "p_value" in df:
        differ = int(((df["p_mw"] < 0.05) != (df["p_value"] < 0.05)).sum())
        df = df.drop(columns="p_mw")
    labels = {"variable": "", "t": "t", "df": ctx.tr("ddl", "df"), "p_value": "p",
              "g": "g", "g_low": ctx.t("low"), "g_high": ctx.t("high")}
    df_range = (float(df["df"].min()), float(df["df"].max())) if "df" in df else None
    df = df.drop(columns=[c for c in ("df",) if c in df])
    t = _table(df, ctx, spec, number).tab_stub("variable").cols_label({k: v for k, v in labels.items() if k in df})
    for lv in levels:
        if f"mean_{lv}" in df:
            t = t.cols_label({f"mean_{lv}": ctx.t("M"), f"sd_{lv}": ctx.t("SD")})
            t = t.tab_spanner(ctx.group_label(lv), [f"mean_{lv}", f"sd_{lv}"])
            t = t.fmt_number([f"mean_{lv}", f"sd_{lv}"], decimals=2)
    welch = [c for c in ("t", "p_value") if c in df]
    if welch:
        t = t.tab_spanner(ctx.tr("Test t de Welch", "Welch t test"), welch)
    hed = [c for c in ("g", "g_low", "g_high") if c in df]
    if hed:
        t = t.tab_spanner(ctx.tr("g de Hedges [IC 95 %]", "Hedges' g [95% CI]"), hed)
    t = (
        t.fmt_number([c for c in ("t",) if c in df], decimals=2)
        .fmt_pvalue([c for c in ("p_value",) if c in df])
        .fmt_number([c for c in ("g", "g_low", "g_high") if c in df], decimals=2)
    )
    from analysis.tables import format_integer

    def rng(a, b):
        return format_integer(a, ctx.lang) if a == b else f"{format_integer(a, ctx.lang)}–{format_integer(b, ctx.lang)}"

    n_txt = ", ".join(f"{ctx.group_label(lv)} n = {rng(*ns[lv])}" for lv in levels if lv in ns)
    from analysis.tables import format_number

    ddl = ""
    if df_range is not None:
        a, b = (format_number(v, 1, ctx.lang) for v in df_range)
        ddl = ctx.tr(f" : {a} à {b}", f": {a} to {b}")
    inv_ref = _ref(ctx, next((t_["id"] for t_ in ctx.plan.tables if t_["kind"] == "invariance"), ""),
                   ctx.tr("l'analyse d'invariance", "the invariance analysis"))
    t = t.tab_note(ctx.tr(
        f"{n_txt}. M : moyenne ; ÉT : écart-type. Test t de Welch (ddl de Welch-Satterthwaite{ddl}) ; g de Hedges "
        "(associations moins coopératives) avec intervalle de confiance à 95 %. Le test de Mann-Whitney "
        + (f"change la conclusion au seuil de 5 % pour {differ} variable(s) (voir results/)" if differ else
           "conduit aux mêmes conclusions au seuil de 5 %")
        + f". Les moyennes des construits ne se comparent qu'une fois l'invariance scalaire établie ({inv_ref}).",
        f"{n_txt}. M: mean; SD: standard deviation. Welch t test (Welch-Satterthwaite df{ddl}); Hedges' g "
        "(associations minus cooperatives) with 95% confidence interval. The Mann-Whitney test "
        + (f"changes the conclusion at the 5% level for {differ} variable(s) (see results/)" if differ else
           "leads to the same conclusions at the 5% level")
        + f". Construct means are compared only once scalar invariance holds ({inv_ref})."))
    out.add(t)
    return out


BUILDERS: dict[str, Callable] = {
    "flow": build_flow,
    "sample": build_sample,
    "likert": build_likert,
    "reliability": build_reliability,
    "efa": build_efa,
    "cfa": build_cfa,
    "invariance": build_invariance,
    "funding": build_funding,
    "problems": build_problems,
    "models": build_models,
    "groups": build_groups,
}



# --------------------------------------------------------------------------- driver


def compute_report(
    survey: pd.DataFrame,
    flow: pd.DataFrame | None = None,
    *,
    lang: str = "fr",
    plan: TablePlan | None = None,
    demo: bool = False,
    progress: Callable[[str], None] | None = None,
    timings: dict | None = None,
) -> tuple[dict, list]:
    """Compute every table and figure of the plan, in memory.

    Parameters
    ----------
    survey : pandas.DataFrame
        The cleaned survey (``survey.parquet``).
    flow : pandas.DataFrame, optional
        The respondent flow (``flow.csv``).
    lang : {"fr", "en"}
    plan : TablePlan, optional
        Default :func:`load_table_plan`.
    demo : bool
        Say in the source notes that the data are simulated.
    progress : callable, optional
    timings : dict, optional
        Filled with the seconds spent by each builder (table id -> seconds).

    Returns
    -------
    outputs : dict of str -> TableOutput
    warnings : list of str

    Examples
    --------
    The whole plan on the demo data takes about a minute; one table::

        plan = load_table_plan()
        one = TablePlan(plan.options, tuple(t for t in plan.tables if t["id"] == "table04_reliability"))
        outputs, warnings = compute_report(load_survey(), plan=one)
        outputs["table04_reliability"].tables[0].to_frame()

    >>> load_table_plan().ids[:2]
    ['table01_flow', 'table02_sample']
    """
    import time

    from analysis.study._constructs import load_constructs
    from analysis.study._dataset import prepare_analysis_data
    from analysis.study._instrument import codebook

    if lang not in TEXTS:
        raise ConfigError(f"unknown language '{lang}'; choose fr or en")
    plan = plan or load_table_plan()
    spec = load_constructs()
    data = prepare_analysis_data(survey, spec)
    ctx = ReportContext(data=data, flow=flow, codebook=codebook(), spec=spec, plan=plan, lang=lang, demo=demo)
    outputs = {}
    next_number = 1
    for number, tspec in enumerate(plan.tables, start=1):
        if progress:
            progress(f"table {number}/{len(plan.tables)}: {tspec['id']} ...")
        t0 = time.perf_counter()
        ctx.refs[tspec["id"]] = next_number  # notes cite earlier tables by their final number
        try:
            outputs[tspec["id"]] = BUILDERS[tspec["kind"]](ctx, tspec, next_number)
            next_number += len(outputs[tspec["id"]].tables)
        except (InputError, ConfigError) as exc:
            ctx.warn(tspec["id"], f"table not produced: {exc}")
        if timings is not None:
            timings[tspec["id"]] = time.perf_counter() - t0
    k = 0
    for o in outputs.values():
        for i, t in enumerate(o.tables):
            k += 1
            o.tables[i] = t.tab_header(t.title, t.subtitle, number=k)
    return outputs, ctx.warnings


def _small_counts(df: pd.DataFrame, threshold: int) -> bool:
    """True if a count column (``n``, ``n_*``, ``count``) holds a value from 1 to threshold - 1."""
    for c in df.columns:
        name = str(c)
        if name in ("n", "count") or name.startswith("n_") or name.endswith("_count"):
            x = pd.to_numeric(df[c], errors="coerce")
            if ((x >= 1) & (x < threshold)).any():
                return True
    return False


def _write_results_csv(obj, path: Path, threshold: int = 5) -> bool:
    """Write the unformatted numbers behind a table; not when they hold small cells.

    Returns False (nothing written) for objects without a tidy frame and for frames
    with counts below ``threshold``: the rendered table shows those with small-cell
    suppression, and the raw numbers would undo it.
    """
    from analysis.tables import neutralize_formula_column

    if isinstance(obj, pd.DataFrame):
        df = obj
    elif hasattr(obj, "to_frame"):
        try:
            df = obj.to_frame()
        except (TypeError, ValueError):
            return False
    else:
        return False
    if not isinstance(df, pd.DataFrame) or _small_counts(df, threshold):
        return False
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            df[c] = neutralize_formula_column(df[c])
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=not isinstance(df.index, pd.RangeIndex), float_format="%.10g", lineterminator="\n")
    return True


def _write_docx(rendered: list, landscape: list, path: Path) -> Path:
    """Word document with one table after the other; wide tables on landscape pages."""
    import io

    from docx.enum.section import WD_ORIENT, WD_SECTION

    from analysis.utils.atomic import atomic_write_bytes
    from analysis.tables import add_table_to_document, new_document
    from analysis.tables._io import stable_zip

    document = new_document()
    section = document.sections[-1]
    portrait = (section.page_width, section.page_height)
    current = False
    for k, (r, land) in enumerate(zip(rendered, landscape)):
        if k > 0 and land != current:
            section = document.add_section(WD_SECTION.NEW_PAGE)
            if land:
                section.orientation = WD_ORIENT.LANDSCAPE
                section.page_width, section.page_height = portrait[1], portrait[0]
            else:
                section.orientation = WD_ORIENT.PORTRAIT
                section.page_width, section.page_height = portrait
        elif k == 0 and land:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = portrait[1], portrait[0]
        elif k > 0:
            document.add_paragraph()
        current = land
        size = 9.0 if land and _natural_width_cm(r) > 24 else _TABLE_FONT
        add_table_to_document(document, r, font_size=size, note_font_size=size - 1)
    buf = io.BytesIO()
    document.save(buf)
    return atomic_write_bytes(path, stable_zip(buf.getvalue()))


def _write_tex(rendered: list, landscape: list, path: Path) -> Path:
    """One ``.tex`` file: wide tables in a ``landscape`` environment (package pdflscape)."""
    from analysis.utils.atomic import atomic_write_text
    from analysis.tables import to_latex

    parts = []
    for r, land in zip(rendered, landscape):
        tex = to_latex(r, size="small" if land or _natural_width_cm(r) > _PORTRAIT_CM * 0.9 else None)
        if land:
            tex = "\\begin{landscape}\n" + tex + "\\end{landscape}\n"
        parts.append(tex)
    head = "% si-survey: needs \\usepackage{booktabs, threeparttable" + (", pdflscape" if any(landscape) else "") + "}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, head + "\n".join(parts))


def _save_figure(fig, stem: Path, data: Sequence[bytes] | None = None) -> list[Path]:
    """PNG (300 dpi) and PDF without dates, atomically; the PNG with fast zlib compression.

    The figure is laid out once, for the PNG; the PDF reuses that layout
    (:func:`analysis.report._figures.figure_bytes`). ``data``: the PNG and PDF bytes when
    the figure is already rendered (:func:`_figure_renderer`).
    """
    from analysis.utils.atomic import atomic_write_bytes
    from analysis.report._figures import figure_bytes

    stem.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = figure_bytes(fig, _FIGURE_FORMATS, dpi=300, png_compress_level=1)
    return [atomic_write_bytes(stem.parent / f"{stem.name}.{fmt}", b) for fmt, b in zip(_FIGURE_FORMATS, data)]


_FIGURE_FORMATS = ("png", "pdf")

#: Cost of writing the tables, per table cell, in analysis.report._figures.figure_cost units
#: (roughly 10 ms of CPU): rendering and results CSVs, then each format.
_TABLE_CELL_COST = {"": 0.012, "docx": 0.04, "xlsx": 0.02, "html": 0.001, "md": 0.001, "tex": 0.001}


def _figure_renderer(outputs: dict, formats: Sequence[str], workers: int | None):
    """The figures of ``outputs``, rendered while this process writes the tables.

    Shares them between this process and forked workers
    (:class:`analysis.report._figures.FigureRenderer`); this process's share is smaller by
    the estimated cost of the tables it writes meanwhile.
    """
    from analysis.report._figures import FigureRenderer

    cells = sum(int(t.data.size) for o in outputs.values() for t in o.tables)
    per_cell = _TABLE_CELL_COST[""] + sum(_TABLE_CELL_COST.get(f, 0.0) for f in formats)
    figures = [(name, fig) for o in outputs.values() for name, fig in o.figures.items()]
    return FigureRenderer([fig for _, fig in figures], _FIGURE_FORMATS, dpi=300, png_compress_level=1,
                          names=[name for name, _ in figures], workers=workers, head_start=cells * per_cell)


def write_report(outputs: dict, warnings: list, out_dir: Path, formats: Sequence[str], lang: str,
                 threshold: int = 5, *, workers: int | None = None) -> list[Path]:
    """Render the computed tables and figures into ``out_dir`` (no locking: see :func:`render_reports`).

    Each table is rendered once and the rendering handed to every writer. The numbers
    behind a table go to ``results/`` unless they hold counts below ``threshold``
    (small cells).

    The figures are rendered while the tables are written, a share of them in
    forked worker processes (``workers`` processes in all, this one included;
    default: one per CPU, at most 4; 1: no worker), and written once all of them
    are rendered: a figure that fails (here or in a worker) raises and leaves no
    figure file. The files are the same whatever the number of workers.
    """
    import matplotlib.pyplot as plt

    from analysis.utils.atomic import atomic_write_text
    from analysis.tables import write_html_page, write_markdown, write_xlsx

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    with _figure_renderer(outputs, formats, workers) as figure_renderer:
        rendered = {tid: [t.render() for t in o.tables] for tid, o in outputs.items()}
        all_r = [r for tid in outputs for r in rendered[tid]]
        all_land = [bool(x) for o in outputs.values() for x in (o.landscape or [False] * len(o.tables))]
        title = {"fr": "Tableaux de la thèse", "en": "Thesis tables"}[lang]
        if all_r:
            if "html" in formats:
                files.append(write_html_page(all_r, out_dir / "tables.html", title=title))
            if "md" in formats:
                files.append(write_markdown(all_r, out_dir / "tables.md"))
            if "docx" in formats:
                files.append(_write_docx(all_r, all_land, out_dir / "tables.docx"))
            if "xlsx" in formats:
                files.append(write_xlsx(all_r, out_dir / "tables.xlsx"))
        for tid, o in outputs.items():
            rs = rendered[tid]
            land = list(o.landscape or [False] * len(rs))
            if rs:
                if "tex" in formats:
                    files.append(_write_tex(rs, land, out_dir / "tex" / f"{tid}.tex"))
                if "md" in formats:
                    files.append(write_markdown(rs, out_dir / "md" / f"{tid}.md"))
                if "docx" in formats:
                    files.append(_write_docx(rs, land, out_dir / "docx" / f"{tid}.docx"))
            for name, obj in o.results.items():
                if _write_results_csv(obj, out_dir / "results" / f"{tid}__{name}.csv", threshold):
                    files.append(out_dir / "results" / f"{tid}__{name}.csv")
        figure_data = iter(figure_renderer.finish())
    for o in outputs.values():
        for name, fig in o.figures.items():
            files.extend(_save_figure(fig, out_dir / "figures" / name, next(figure_data)))
            plt.close(fig)
    text = "\n".join(warnings) + ("\n" if warnings else "")
    files.append(atomic_write_text(out_dir / "warnings.txt", text))
    return files


def _is_demo(processed_dir: Path) -> bool:
    """True when the cleaned data come from the bundled simulated export (``data/raw/demo/``)."""
    import json

    from analysis.utils.atomic import sha256_file

    try:
        manifest = json.loads((processed_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    hashes = {f.get("sha256") for f in manifest.get("raw_files", []) if isinstance(f, dict)}
    if not hashes:
        return False
    demo_dir = config.DEMO_RAW_DIR
    if not demo_dir.exists():
        return False
    demo_hashes = set()
    for p in demo_dir.iterdir():
        if p.is_file() and not p.name.startswith(("truth", ".")):
            try:
                demo_hashes.add(sha256_file(p))
            except OSError:
                pass
    return bool(hashes & demo_hashes)


def report_manifest(processed_dir: Path, out_dir: Path, files: Sequence[Path], *, formats: Sequence[str],
                    lang: str, plan: TablePlan, demo: bool) -> dict:
    """What the report stage read and wrote: input hashes, options, versions, output hashes.

    Deterministic: no dates and no absolute paths, so that two runs on the same inputs
    write the same manifest.
    """
    import platform
    from importlib import metadata as _md

    from analysis.utils.atomic import sha256_file
    from analysis.pipeline import code_fingerprint, questionnaire_fingerprint

    processed_dir, out_dir = Path(processed_dir), Path(out_dir)
    inputs = {}
    for name in ("survey.parquet", "flow.csv", "labels.json"):
        p = processed_dir / name
        if p.exists():
            inputs[name] = sha256_file(p)
    quest = {}
    for name in ("tables.yaml", "analysis_plan.yaml", "constructs.yaml", "population.yaml", "survey.csv", "choices.csv"):
        p = config.QUESTIONNAIRE_DIR / name
        if p.exists():
            quest[name] = sha256_file(p)
    if plan.path is not None and Path(plan.path).exists() and Path(plan.path).name not in quest:
        quest[Path(plan.path).name] = sha256_file(Path(plan.path))
    versions = {}
    for pkg in ("si-survey", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "python-docx", "openpyxl"):
        try:
            versions[pkg] = _md.version(pkg)
        except _md.PackageNotFoundError:
            versions[pkg] = None
    versions["python"] = platform.python_version()
    seeds = {"plan": plan.options.get("seed")}
    n_iter = {}
    for t in plan.tables:
        if "seed" in t:
            seeds[t["id"]] = t["seed"]
        if "n_iter" in t:
            n_iter[t["id"]] = t["n_iter"]
    outputs = {}
    for p in sorted(set(Path(f) for f in files)):
        if p.exists() and p.name not in ("manifest.json",):
            outputs[p.relative_to(out_dir).as_posix()] = sha256_file(p)
    return {
        "schema": 1,
        "stage": "report",
        "inputs": inputs,
        "questionnaire": quest,
        "questionnaire_fingerprint": questionnaire_fingerprint(),
        "code": {"fingerprint": code_fingerprint(), "si_survey_version": versions.get("si-survey")},
        "versions": versions,
        "options": {k: plan.options[k] for k in sorted(plan.options)},
        "seeds": seeds,
        "n_iter": n_iter,
        "formats": sorted(formats),
        "lang": lang,
        "demo_data": demo,
        "tables": [t["id"] for t in plan.tables],
        "outputs": outputs,
    }


def build_reports(
    processed_dir: str | Path,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = ALL_FORMATS,
    lang: str = "fr",
    progress: Callable[[str], None] | None = None,
    plan: TablePlan | None = None,
    demo: bool | None = None,
    timings: dict | None = None,
) -> ReportResult:
    """Compute and write every table and figure from ``processed_dir`` into ``out_dir``.

    Writes ``manifest.json`` last. The caller holds the lock and gives a staging folder
    (see :mod:`analysis.pipeline`).

    Parameters
    ----------
    demo : bool, optional
        Whether the source note says the data are simulated; default: detected (the raw
        export is the bundled demo export).
    timings : dict, optional
        Filled with seconds: ``report/<table id>`` per builder and ``report/write``.
    """
    import json
    import time

    from analysis.utils.atomic import atomic_write_text
    from analysis.study._dataset import load_survey

    unknown = [f for f in formats if f not in ALL_FORMATS]
    if unknown:
        raise ConfigError(f"unknown table format(s) {unknown}; choose among {', '.join(ALL_FORMATS)}")
    processed_dir = Path(processed_dir)
    out_dir = Path(out_dir)
    plan = plan or load_table_plan()
    survey = load_survey(processed_dir)
    flow_path = processed_dir / "flow.csv"
    flow = pd.read_csv(flow_path) if flow_path.exists() else None
    if demo is None:
        demo = _is_demo(processed_dir)
    built: dict = {}
    outputs, warnings = compute_report(survey, flow, lang=lang, plan=plan, demo=demo, progress=progress,
                                       timings=built)
    if progress:
        progress(f"writing {sum(len(o.tables) for o in outputs.values())} tables and "
                 f"{sum(len(o.figures) for o in outputs.values())} figures ...")
    t0 = time.perf_counter()
    files = write_report(outputs, warnings, out_dir, formats, lang,
                         threshold=int(plan.options.get("small_cell_threshold", 5)))
    if timings is not None:
        timings.update({f"report/{k}": v for k, v in built.items()})
        timings["report/write"] = time.perf_counter() - t0
    manifest = report_manifest(processed_dir, out_dir, files, formats=formats, lang=lang, plan=plan, demo=demo)
    files.append(atomic_write_text(out_dir / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True,
                                                                         ensure_ascii=False) + "\n"))
    return ReportResult(outputs=outputs, files=files, warnings=warnings, manifest=manifest)


def render_reports(
    data_dir: str | Path = config.PROCESSED_DIR,
    out_dir: str | Path = config.REPORTS_DIR,
    formats: Sequence[str] = ALL_FORMATS,
    lang: str = "fr",
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """``si-survey tables``: render every table and figure, replacing ``out_dir`` in one swap.

    Returns
    -------
    list of Path
        The files written (their final location).

    Examples
    --------
    Same as ``si-survey tables --data data/processed --out reports``::

        files = render_reports("data/processed", "reports", formats=["md", "docx"], lang="fr")
    """
    from analysis.utils.atomic import RunLock, staged_directory

    out_dir = Path(out_dir)
    with RunLock(out_dir), staged_directory(out_dir) as stage:
        result = build_reports(data_dir, stage, formats=formats, lang=lang, progress=progress)
    return [out_dir / p.relative_to(stage) for p in result.files]

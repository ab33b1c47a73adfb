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
    tables.docx            every table, one Word document
    tables.xlsx            every table, one sheet each
    tex/<id>.tex           one LaTeX file per table (\\input{} them)
    md/<id>.md, docx/<id>.docx
    figures/<name>.png|pdf 300 dpi PNG and PDF
    results/<id>.csv       the unformatted numbers behind each table
    warnings.txt           estimation and data warnings worth a look
"""

from __future__ import annotations

import math
import re
import warnings as _warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from .errors import ConfigError, InputError

__all__ = [
    "TablePlan",
    "load_table_plan",
    "ReportContext",
    "ReportResult",
    "compute_report",
    "build_reports",
    "render_reports",
]

ALL_FORMATS = ("docx", "tex", "html", "md", "xlsx")

TEXTS = {
    "fr": {
        "total": "Ensemble",
        "association": "Associations",
        "cooperative": "Coopératives",
        "variable": "Variable",
        "category": "Modalité",
        "item": "Item",
        "n": "n",
        "percent": "%",
        "mean": "Moyenne",
        "sd": "Écart-type",
        "median": "Médiane",
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
    },
    "en": {
        "total": "All",
        "association": "Associations",
        "cooperative": "Cooperatives",
        "variable": "Variable",
        "category": "Category",
        "item": "Item",
        "n": "n",
        "percent": "%",
        "mean": "Mean",
        "sd": "SD",
        "median": "Median",
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
    },
}


#: Labels of the variables derived by :func:`analysis.dataset.prepare_analysis_data`.
DERIVED_LABELS = {
    "log_members": {"fr": "log(membres + 1)", "en": "log(members + 1)"},
    "org_age": {"fr": "Âge de l'organisation (années)", "en": "Age of the organisation (years)"},
    "funding_diversity": {"fr": "Diversification des ressources (1 − HHI)", "en": "Resource diversification (1 − HHI)"},
    "funding_hhi": {"fr": "Concentration des ressources (HHI)", "en": "Resource concentration (HHI)"},
    "funding_market_share": {"fr": "Part des recettes marchandes", "en": "Share of market income"},
    "funding_n_sources": {"fr": "Nombre de sources de financement", "en": "Number of funding sources"},
    "support_n_types": {"fr": "Nombre de types d'appui reçus", "en": "Number of types of support"},
    "legal_form_group": {"fr": "Forme juridique (groupe)", "en": "Legal form (group)"},
    "Intercept": {"fr": "Constante", "en": "Intercept"},
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
        Unknown kind, duplicate id, missing title: the message names the table.

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
    options = {
        "small_cell_threshold": 5,
        "loading_threshold": 0.30,
        "decimals": 2,
        "seed": 2026,
        "group": "legal_form_group",
        **(raw.get("options") or {}),
    }
    tables = raw.get("tables") or []
    seen: set[str] = set()
    for i, spec in enumerate(tables, start=1):
        where = f"table plan '{path.name}', table {i}"
        if not isinstance(spec, dict) or "id" not in spec or "kind" not in spec:
            raise ConfigError(f"{where}: every table needs an 'id' and a 'kind'")
        if spec["kind"] not in BUILDERS:
            raise ConfigError(
                f"{where} ('{spec['id']}'): unknown kind '{spec['kind']}'; "
                f"choose among {', '.join(sorted(BUILDERS))}"
            )
        if spec["id"] in seen:
            raise ConfigError(f"{where}: the id '{spec['id']}' is used twice")
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", str(spec["id"])):
            raise ConfigError(f"{where}: the id '{spec['id']}' must use letters, digits, '_' or '-'")
        title = spec.get("title")
        if not isinstance(title, dict) or "fr" not in title:
            raise ConfigError(f"{where} ('{spec['id']}'): 'title' needs at least a French text (fr: ...)")
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
    spec : analysis.constructs.ConstructSpec
    plan : TablePlan
    lang : {"fr", "en"}
    demo : bool
        True when the data come from the simulator (the source note says so).
    warnings : list of str
    """

    data: pd.DataFrame
    flow: pd.DataFrame | None
    codebook: pd.DataFrame
    spec: object
    plan: TablePlan
    lang: str = "fr"
    demo: bool = False
    warnings: list = field(default_factory=list)

    def t(self, key: str) -> str:
        """A fixed text in the report language."""
        return TEXTS[self.lang][key]

    def title(self, spec: dict) -> str:
        """The table title in the report language (French if no translation)."""
        return spec["title"].get(self.lang) or spec["title"]["fr"]

    @property
    def source(self) -> str:
        """The source line under every table."""
        return self.t("source_demo" if self.demo else "source")

    def label(self, variable: str, short: int | None = None) -> str:
        """The question label of a variable (the codebook's French label; derived variables named here)."""
        cb = self._cb_index
        text = DERIVED_LABELS[variable][self.lang] if variable in DERIVED_LABELS else variable
        if variable in cb.index:
            col = "label_ar" if self.lang == "ar" else "label_fr"
            value = cb.at[variable, col]
            if isinstance(value, str) and value.strip():
                text = value.strip()
        if short and len(text) > short:
            text = text[: short - 1].rstrip() + "…"
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
        cached = getattr(self, "_cb_cache", None)
        if cached is None:
            cached = self.codebook.drop_duplicates("variable").set_index("variable")
            self._cb_cache = cached
        return cached

    def group_label(self, value: object) -> str:
        """Label of a ``legal_form_group`` value (Associations, Coopératives)."""
        return TEXTS[self.lang].get(str(value), str(value))

    def construct_label(self, name: str) -> str:
        """Label of a construct or of one of its dimensions (``construct__dimension``)."""
        construct, _, dim = name.partition("__")
        try:
            c = self.spec[construct]
        except KeyError:
            return name
        if dim:
            for d in c.dimensions:
                if d.name == dim:
                    return getattr(d, "label_fr", None) or dim
            return dim
        return getattr(c, "label_fr", None) or construct

    def warn(self, where: str, message: str) -> None:
        """Record a warning for the run summary."""
        self.warnings.append(f"{where}: {message}")


@dataclass
class TableOutput:
    """What one table of the plan produced: tables, figures and the numbers behind them."""

    id: str
    tables: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)


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
    """

    outputs: dict = field(default_factory=dict)
    files: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


# --------------------------------------------------------------------------- helpers


def _table(df: pd.DataFrame, ctx: ReportContext, spec: dict, number: int, *, suffix: str = ""):
    from .tables import Table

    title = ctx.title(spec) + (f" — {suffix}" if suffix else "")
    label = f"tab:{spec['id']}" + (f"-{_slug(suffix)}" if suffix else "")
    return (
        Table(df)
        .with_locale(ctx.lang)
        .tab_header(title, number=number)
        .tab_label(label)
        .tab_source(ctx.source)
        .sub_missing()
    )


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


def _keys_for(construct) -> list[str]:
    return [("-" + i) if i in construct.reverse else i for i in construct.items]


# --------------------------------------------------------------------------- builders


def build_flow(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 1: respondent flow (received, removed at each step, analysed), by legal form."""
    out = TableOutput(spec["id"])
    flow = ctx.flow
    if flow is None or flow.empty:
        ctx.warn(spec["id"], "no respondent flow (flow.csv) was found")
        return out
    df = flow.copy()
    label_col = next((c for c in ("label_" + ctx.lang, "label_fr", "label", "step") if c in df.columns), df.columns[0])
    keep = [label_col] + [c for c in df.columns if c != label_col and pd.api.types.is_numeric_dtype(df[c])]
    df = df[keep]
    labels = {label_col: ""}
    for c in keep[1:]:
        labels[c] = TEXTS[ctx.lang].get(c, ctx.t("total") if c in ("total", "all", "overall") else c)
    t = _table(df, ctx, spec, number).cols_label(labels).fmt_integer(keep[1:])
    note = {
        "fr": "Chaque ligne retire les questionnaires écartés à cette étape ; la dernière ligne donne l'effectif analysé.",
        "en": "Each row removes the questionnaires set aside at that step; the last row is the analysed sample.",
    }[ctx.lang]
    out.tables.append(t.tab_note(note))
    out.results["flow"] = flow
    return out


def build_sample(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 2: sample description by legal form (counts and %, means), with tests."""
    from .descriptives import describe
    from .group_tests import compare_groups, crosstab
    from .tables import suppress_small_cells

    out = TableOutput(spec["id"])
    group, levels = _groups(ctx)
    data = ctx.data[ctx.data[group].isin(levels)] if levels else ctx.data
    cats = _present(ctx, spec.get("categorical", []), spec["id"])
    nums = _present(ctx, spec.get("numeric", []), spec["id"])
    wcol = spec.get("weights")
    weighted = bool(wcol) and wcol in data.columns
    rows = []
    for var in cats:
        d = describe(data, [var], by=group if levels else None)
        vl = ctx.value_labels(var)
        try:
            test = crosstab(data, var, group, seed=ctx.plan.options.get("seed")) if levels else None
        except InputError:
            test = None
        wshare = None
        if weighted:
            w = _numeric(data[wcol])
            tot = w.groupby(data[var].astype(str)).sum()
            wshare = tot / tot.sum() * 100
        for level in d["level"].dropna().unique():
            sub = d[d["level"] == level]
            row = {
                "variable": ctx.label(var, short=60),
                "category": vl.get(str(level), str(level)),
            }
            for g in ["Total"] + levels:
                r = sub[sub["group"] == g]
                row[f"n_{g}"] = float(r["count"].iloc[0]) if len(r) else np.nan
                row[f"pct_{g}"] = float(r["percent"].iloc[0]) if len(r) else np.nan
            if wshare is not None:
                row["pct_weighted"] = float(wshare.get(str(level), np.nan))
            row["p_value"] = test.p_value if test is not None and level == d["level"].dropna().iloc[0] else np.nan
            rows.append(row)
    for var in nums:
        x = _numeric(data[var])
        row = {"variable": ctx.label(var, short=60), "category": ctx.t("mean")}
        row_sd = {"variable": ctx.label(var, short=60), "category": ctx.t("sd")}
        row2 = {"variable": ctx.label(var, short=60), "category": ctx.t("median")}
        for g in ["Total"] + levels:
            xs = x if g == "Total" else x[data[group] == g]
            row[f"n_{g}"] = float(xs.notna().sum())
            row[f"pct_{g}"] = float(xs.mean())
            row_sd[f"n_{g}"] = np.nan
            row_sd[f"pct_{g}"] = float(xs.std())
            row2[f"n_{g}"] = np.nan
            row2[f"pct_{g}"] = float(xs.median())
        if weighted:
            w = _numeric(data[wcol])
            ok = x.notna() & w.notna()
            row["pct_weighted"] = float(np.average(x[ok], weights=w[ok])) if ok.any() else np.nan
        try:
            cmp = compare_groups(data, var, group) if len(levels) == 2 else None
            row["p_value"] = float(cmp.tests.set_index("test").at["welch_t", "p_value"]) if cmp is not None else np.nan
        except (InputError, AttributeError, IndexError, KeyError):
            row["p_value"] = np.nan
        row2["p_value"] = row_sd["p_value"] = np.nan
        rows.extend([row, row_sd, row2])
    df = pd.DataFrame(rows)
    out.results["sample"] = df
    if df.empty:
        return out
    count_cols = [f"n_{g}" for g in ["Total"] + levels]
    pct_map = {f"n_{g}": f"pct_{g}" for g in ["Total"] + levels}
    is_cat = ~df["category"].isin([ctx.t("mean"), ctx.t("sd"), ctx.t("median")])
    threshold = int(ctx.plan.options.get("small_cell_threshold", 5))
    cat_part = df[is_cat].reset_index(drop=True)
    note_supp = None
    if not cat_part.empty:
        sup = suppress_small_cells(
            cat_part, count_cols, threshold, percent_columns=pct_map, locale=ctx.lang
        )
        cat_part = sup.frame
        note_supp = sup.note
    num_part = df[~is_cat].reset_index(drop=True)
    table_df = pd.concat([cat_part, num_part], ignore_index=True)
    show = ["variable", "category"]
    for g in ["Total"] + levels:
        show += [f"n_{g}", f"pct_{g}"]
    if "pct_weighted" in table_df.columns:
        show.append("pct_weighted")
    show.append("p_value")
    table_df = table_df[show]
    labels = {"variable": "", "category": ""}
    for g in ["Total"] + levels:
        labels[f"n_{g}"] = ctx.t("n")
        labels[f"pct_{g}"] = "% / " + ctx.t("mean").lower()
    if "pct_weighted" in show:
        labels["pct_weighted"] = f"% / {ctx.t('mean').lower()} ({ctx.t('weighted')})"
    labels["p_value"] = ctx.t("p_value")
    t = _table(table_df, ctx, spec, number).tab_stub("category", "variable").cols_label(labels)
    for g in ["Total"] + levels:
        name = ctx.t("total") if g == "Total" else ctx.group_label(g)
        t = t.tab_spanner(name, [f"n_{g}", f"pct_{g}"])
    num_cols = [c for c in show if c.startswith(("n_", "pct_"))]
    t = t.fmt_number([c for c in num_cols if c.startswith("pct_")], decimals=1)
    t = t.fmt_integer([c for c in num_cols if c.startswith("n_")]).fmt_pvalue("p_value")
    note = {
        "fr": "Variables qualitatives : effectifs et pourcentages en colonne, test du khi-deux d'indépendance "
        "(test exact de Fisher ou Monte-Carlo quand des effectifs attendus sont inférieurs à 5). "
        "Variables quantitatives : moyenne, écart-type et médiane ; test t de Welch.",
        "en": "Categorical variables: counts and column percentages, chi-square test of independence "
        "(Fisher's exact or Monte-Carlo test when expected counts are below 5). "
        "Numeric variables: mean, standard deviation and median; Welch t test.",
    }[ctx.lang]
    t = t.tab_note(note)
    if weighted:
        t = t.tab_note(
            {"fr": "Pourcentages et moyennes pondérés par les poids de sondage (colonne « pondéré »).",
             "en": "Percentages and means weighted by the design weights (column 'weighted')."}[ctx.lang]
        )
    if note_supp:
        t = t.tab_note(note_supp)
    out.tables.append(t)
    return out


def build_likert(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 3: distribution of every Likert block (shares per point, mean, top-2-box) + figures."""
    from .descriptives import likert_distribution
    from .figures import likert_diverging_bars

    out = TableOutput(spec["id"])
    names = spec.get("constructs") or [c.name for c in ctx.spec.reflective]
    frames = []
    for name in names:
        construct = ctx.spec[name]
        items = _present(ctx, construct.items, spec["id"])
        if not items:
            continue
        labels = {i: ctx.label(i, short=70) for i in items}
        dist = likert_distribution(ctx.data, items, labels=labels)
        dist = dist[dist["group"] == dist["group"].iloc[0]]
        dist["construct"] = ctx.construct_label(name)
        frames.append(dist)
        point_labels = ctx.value_labels(items[0])
        fig_df = dist.assign(
            level=dist["value"].map(lambda v: point_labels.get(str(int(v)), str(int(v)))),
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
    point_labels = ctx.value_labels(frames[0]["item"].iloc[0])
    labels = {"label": "", "construct": "", "n": "n", "mean": ctx.t("mean"), "sd": ctx.t("sd"),
              "top2_box": {"fr": "Top 2 (%)", "en": "Top 2 (%)"}[ctx.lang]}
    for k in range(1, 6):
        labels[f"p{k}"] = f"{k}"
    t = (
        _table(table_df, ctx, spec, number)
        .tab_stub("label", "construct")
        .cols_label(labels)
        .tab_spanner({"fr": "Réponses (%)", "en": "Answers (%)"}[ctx.lang], [f"p{k}" for k in range(1, 6)])
        .fmt_number([f"p{k}" for k in range(1, 6)] + ["top2_box"], decimals=1)
        .fmt_number(["mean", "sd"], decimals=2)
        .fmt_integer("n")
    )
    scale = "; ".join(f"{k} = {point_labels.get(str(k), k)}" for k in range(1, 6))
    t = t.tab_note(
        {"fr": f"Échelle : {scale}. Items inversés présentés tels que posés. Top 2 : part des réponses 4 ou 5.",
         "en": f"Scale: {scale}. Reverse-keyed items shown as asked. Top 2: share of answers 4 or 5."}[ctx.lang]
    )
    out.tables.append(t)
    return out


def build_reliability(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 4: reliability of every scale and dimension (alpha with CI, omega, item-rest r)."""
    from .reliability import alpha, omega

    out = TableOutput(spec["id"])
    rows, item_rows = [], []
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
                "scale": ctx.construct_label(name) if "__" in name else ctx.t("total"),
                "k": len(items),
                "n": a.n,
                "alpha": a.alpha,
                "ci_low": a.ci_low,
                "ci_high": a.ci_high,
                "std_alpha": a.std_alpha,
                "average_r": a.average_r,
                "omega_total": np.nan,
                "omega_h": np.nan,
            }
            n_f = int(spec.get("omega_factors", 3))
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
                        "item": f"{item}{' (R)' if item in reverse else ''}",
                        "label": ctx.label(item, short=60),
                        "r_drop": r["r_drop"],
                        "alpha_if_deleted": r["alpha_if_deleted"],
                    })
    df = pd.DataFrame(rows)
    out.results["scales"] = df
    if df.empty:
        return out
    labels = {"construct": "", "scale": "", "k": {"fr": "Items", "en": "Items"}[ctx.lang], "n": "n",
              "alpha": "α", "ci_low": {"fr": "IC 95 % inf.", "en": "95% CI low"}[ctx.lang],
              "ci_high": {"fr": "IC 95 % sup.", "en": "95% CI high"}[ctx.lang],
              "std_alpha": {"fr": "α standardisé", "en": "Standardised α"}[ctx.lang],
              "average_r": "r̄", "omega_total": "ω total", "omega_h": "ω h"}
    t = (
        _table(df, ctx, spec, number)
        .tab_stub("scale", "construct")
        .cols_label(labels)
        .fmt_integer(["k", "n"])
        .fmt_number(["alpha", "ci_low", "ci_high", "std_alpha", "average_r", "omega_total", "omega_h"], decimals=2)
        .tab_note({"fr": "α de Cronbach (items inversés recodés), intervalle de confiance de Feldt ; "
                         "ω de McDonald (Schmid-Leiman, comme psych::omega) pour les échelles multidimensionnelles ; "
                         "r̄ : corrélation inter-items moyenne.",
                   "en": "Cronbach's α (reverse-keyed items recoded), Feldt confidence interval; McDonald's ω "
                         "(Schmid-Leiman, as psych::omega) for multidimensional scales; r̄: mean inter-item "
                         "correlation."}[ctx.lang])
    )
    out.tables.append(t)
    items_df = pd.DataFrame(item_rows)
    out.results["items"] = items_df
    if not items_df.empty:
        t2 = (
            _table(items_df, ctx, spec, number, suffix={"fr": "statistiques des items", "en": "item statistics"}[ctx.lang])
            .tab_stub("item", "dimension")
            .cols_label({"item": "", "dimension": "", "label": ctx.t("item"),
                         "r_drop": {"fr": "r item-reste", "en": "Item-rest r"}[ctx.lang],
                         "alpha_if_deleted": {"fr": "α si supprimé", "en": "α if deleted"}[ctx.lang]})
            .fmt_number(["r_drop", "alpha_if_deleted"], decimals=2)
            .tab_note({"fr": "(R) : item inversé. r item-reste : corrélation de l'item avec la somme des autres "
                             "items de sa dimension (psych r.drop).",
                       "en": "(R): reverse-keyed item. Item-rest r: correlation of the item with the sum of the "
                             "other items of its dimension (psych r.drop)."}[ctx.lang])
        )
        out.tables.append(t2)
    return out


def build_efa(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 5: EFA of the SI items (KMO, Bartlett, parallel analysis, loadings, Phi, variance)."""
    from .constructs import prepare_items
    from .factor import bartlett, efa, kmo, parallel_analysis
    from .figures import loadings_heatmap, scree_plot

    out = TableOutput(spec["id"])
    construct = ctx.spec[spec.get("construct", "si_presence")]
    items = [i for i in construct.items if i in ctx.data.columns]
    X = prepare_items(ctx.data, ctx.spec)[items]
    seed = ctx.plan.options.get("seed")
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        k = kmo(X)
        b = bartlett(X)
        pa = parallel_analysis(X, n_iter=int(spec.get("n_iter", 20)), fm=spec.get("method", "minres"), seed=seed)
    nf = spec.get("n_factors", "parallel")
    if nf == "parallel":
        n_factors = max(1, int(pa.n_factors))
    elif nf == "dimensions":
        n_factors = len(construct.dimensions)
    else:
        n_factors = int(nf)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        e = efa(X, n_factors, method=spec.get("method", "minres"), rotation=spec.get("rotation", "oblimin"))
    for w in list(getattr(e, "warnings", [])) + list(getattr(pa, "warnings", [])):
        ctx.warn(spec["id"], w)
    out.results.update(kmo=k, bartlett=b, parallel=pa, efa=e)
    threshold = float(ctx.plan.options.get("loading_threshold", 0.30))
    L = e.loadings
    primary = L.abs().idxmax(axis=1)
    cols = list(L.columns)
    df = pd.DataFrame({"item": [f"{i}{' (R)' if i in construct.reverse else ''}" for i in L.index],
                       "label": [ctx.label(i, short=55) for i in L.index]})
    for c in cols:
        vals = []
        for item in L.index:
            v = L.at[item, c]
            if abs(v) < threshold:
                vals.append("")
            else:
                vals.append(v)
        df[c] = vals
    df["h2"] = e.communalities.reindex(L.index).to_numpy()
    loc_dec = int(ctx.plan.options.get("decimals", 2))

    from .tables import format_number

    def _fmt_loading(col):
        def f(v, item_idx=None):
            return v

        return f

    # format loadings as text here (suppressed cells blank, primary loading in bold marker)
    for c in cols:
        df[c] = [
            "" if v == "" else format_number(v, loc_dec, ctx.lang) + ("ᵃ" if primary.iloc[i] == c else "")
            for i, v in enumerate(df[c])
        ]
    var = e.variance
    extra = []
    for key, lab in (("ss_loadings", {"fr": "Somme des carrés des saturations", "en": "SS loadings"}),
                     ("proportion", {"fr": "Part de variance expliquée", "en": "Proportion of variance"}),
                     ("cumulative", {"fr": "Part cumulée", "en": "Cumulative proportion"})):
        if key in var.index:
            row = {"item": lab[ctx.lang], "label": ""}
            for c in cols:
                row[c] = format_number(float(var.at[key, c]), loc_dec, ctx.lang)
            row["h2"] = np.nan
            extra.append(row)
    df = pd.concat([df, pd.DataFrame(extra)], ignore_index=True)
    labels = {"item": "", "label": ctx.t("item"), "h2": ctx.t("communality")}
    t = (
        _table(df, ctx, spec, number)
        .cols_label(labels)
        .fmt_number("h2", decimals=2)
        .tab_spanner(ctx.t("factor"), cols)
    )
    fit = getattr(e, "fit", None)
    fit_txt = ""
    if isinstance(fit, (pd.Series, dict)):
        f = pd.Series(fit)
        parts = []
        for key, name in (("rmsea", "RMSEA"), ("tli", "TLI"), ("rmsr", "RMSR")):
            if key in f.index and pd.notna(f[key]):
                parts.append(f"{name} = {format_number(float(f[key]), 3, ctx.lang)}")
        fit_txt = ", ".join(parts)
    method = {"minres": {"fr": "résidus minimaux", "en": "minimum residual"},
              "ml": {"fr": "maximum de vraisemblance", "en": "maximum likelihood"},
              "pa": {"fr": "axes principaux", "en": "principal axes"},
              "uls": {"fr": "moindres carrés non pondérés", "en": "unweighted least squares"}}[spec.get("method", "minres")][ctx.lang]
    chi = format_number(float(b.statistic), 1, ctx.lang)
    note = {
        "fr": f"Extraction par {method}, rotation {spec.get('rotation', 'oblimin')}. KMO = "
              f"{format_number(float(k.overall), 2, 'fr')} ; test de sphéricité de Bartlett : χ²({int(b.df)}) = {chi}, "
              f"p {'< ,001' if b.p_value < 0.001 else '= ' + format_number(float(b.p_value), 3, 'fr')}. "
              f"Analyse parallèle ({int(spec.get('n_iter', 20))} réplications) : {int(pa.n_factors)} facteur(s). "
              f"Saturations inférieures à {format_number(threshold, 2, 'fr')} en valeur absolue non affichées ; "
              f"ᵃ saturation principale de l'item ; (R) item inversé (recodé avant l'analyse). {fit_txt}",
        "en": f"Extraction by {method}, {spec.get('rotation', 'oblimin')} rotation. KMO = "
              f"{format_number(float(k.overall), 2, 'en')}; Bartlett's test of sphericity: χ²({int(b.df)}) = {chi}, "
              f"p {'< .001' if b.p_value < 0.001 else '= ' + format_number(float(b.p_value), 3, 'en')}. "
              f"Parallel analysis ({int(spec.get('n_iter', 20))} replications): {int(pa.n_factors)} factor(s). "
              f"Loadings below {format_number(threshold, 2, 'en')} in absolute value not shown; ᵃ primary loading "
              f"of the item; (R) reverse-keyed item (recoded before the analysis). {fit_txt}",
    }[ctx.lang]
    out.tables.append(t.tab_note(note.strip()))
    if e.phi is not None and len(cols) > 1:
        phi = e.phi.reset_index().rename(columns={"index": "factor"})
        phi.columns = ["factor"] + cols
        t2 = (
            _table(phi, ctx, spec, number, suffix={"fr": "corrélations entre facteurs", "en": "factor correlations"}[ctx.lang])
            .cols_label({"factor": ""})
            .fmt_number(cols, decimals=2)
        )
        out.tables.append(t2)
    eig = pa.eigen.reset_index()
    out.figures["scree_" + construct.name] = scree_plot(
        eig, kind="fa", observed="observed_fa", simulated="simulated_fa_quantile",
        n_factors=int(pa.n_factors), locale=ctx.lang,
    )
    long = L.reset_index().melt(id_vars=L.index.name or "index", var_name="factor", value_name="loading")
    long = long.rename(columns={L.index.name or "index": "item"})
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


def build_cfa(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 6: CFA of the measurement model (fit, standardised loadings, CR, AVE, HTMT)."""
    from .cfa import cfa
    from .constructs import prepare_items
    from .figures import cfa_loadings_plot

    out = TableOutput(spec["id"])
    names = spec.get("constructs") or [c.name for c in ctx.spec.reflective]
    model, factor_of = _first_order_model(ctx, names)
    X = prepare_items(ctx.data, ctx.spec)
    estimator = spec.get("estimator", "MLR")
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        res = cfa(model, X, estimator=estimator)
    for w in res.warnings:
        ctx.warn(spec["id"], w)
    out.results["cfa"] = res
    f = res.fit
    sfx = "_robust" if estimator.upper() == "MLR" else ""
    chis = "_scaled" if estimator.upper() == "MLR" else ""

    def g(key):
        return float(f[key]) if key in f.index else np.nan

    fit_rows = [
        ("χ²", g("chisq" + chis)), ("df", g("df")), ("p", g("pvalue" + chis)),
        ("CFI", g("cfi" + sfx)), ("TLI", g("tli" + sfx)),
        ("RMSEA", g("rmsea" + sfx)), ("RMSEA IC 90 % inf." if ctx.lang == "fr" else "RMSEA 90% CI low", g("rmsea_ci_lower" + sfx)),
        ("RMSEA IC 90 % sup." if ctx.lang == "fr" else "RMSEA 90% CI high", g("rmsea_ci_upper" + sfx)),
        ("SRMR", g("srmr")), ("n", g("ntotal")),
    ]
    fit_df = pd.DataFrame(fit_rows, columns=["index", "value"])
    fit_df["value_text"] = [
        _fmt_fit(name, v, ctx.lang) for name, v in fit_rows
    ]
    t_fit = (
        _table(fit_df[["index", "value_text"]], ctx, spec, number, suffix={"fr": "ajustement", "en": "fit"}[ctx.lang])
        .cols_label({"index": ctx.t("fit"), "value_text": ctx.t("value")})
        .tab_note({"fr": f"Estimateur {estimator} (lavaan) ; items de Likert traités comme continus, items inversés "
                         f"recodés. {'χ² de Satorra-Bentler (mis à l’échelle) ; CFI, TLI et RMSEA robustes.' if sfx else ''} "
                         "Seuils usuels : CFI et TLI ≥ 0,95, RMSEA ≤ 0,06, SRMR ≤ 0,08 (Hu et Bentler, 1999).",
                   "en": f"{estimator} estimator (lavaan); Likert items treated as continuous, reverse-keyed items "
                         f"recoded. {'Satorra-Bentler scaled χ²; robust CFI, TLI and RMSEA.' if sfx else ''} "
                         "Usual cut-offs: CFI and TLI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08 (Hu and Bentler, 1999)."}[ctx.lang])
    )
    out.tables.append(t_fit)
    sl = res.std_loadings.copy()
    sl["construct"] = sl["lhs"].map(lambda fct: ctx.construct_label(factor_of.get(fct, fct)))
    cr = res.composite_reliability
    ave = res.ave
    cr_s = cr.iloc[:, 0] if isinstance(cr, pd.DataFrame) else pd.Series(cr)
    ave_s = ave.iloc[:, 0] if isinstance(ave, pd.DataFrame) else pd.Series(ave)
    rows = []
    for fct, sub in sl.groupby("lhs", sort=False):
        dim_name = _dimension_of(ctx, factor_of.get(fct), sub["rhs"].iloc[0])
        for _, r in sub.iterrows():
            rows.append({
                "factor": dim_name,
                "item": r["rhs"],
                "label": ctx.label(r["rhs"], short=55),
                "estimate": r["estimate"],
                "se": r["se"],
                "cr": float(cr_s.get(fct, np.nan)),
                "ave": float(ave_s.get(fct, np.nan)),
            })
    ld = pd.DataFrame(rows)
    # CR and AVE only on the first row of each factor
    first = ~ld["factor"].duplicated()
    ld.loc[~first, ["cr", "ave"]] = np.nan
    t_ld = (
        _table(ld, ctx, spec, number, suffix={"fr": "saturations standardisées", "en": "standardised loadings"}[ctx.lang])
        .tab_stub("item", "factor")
        .cols_label({"item": "", "factor": "", "label": ctx.t("item"), "estimate": "λ", "se": {"fr": "E.-T.", "en": "SE"}[ctx.lang],
                     "cr": {"fr": "FC", "en": "CR"}[ctx.lang], "ave": "AVE"})
        .fmt_number(["estimate", "se", "cr", "ave"], decimals=2)
        .tab_note({"fr": "λ : saturation standardisée (std.all) ; FC : fiabilité composite ; AVE : variance moyenne "
                         "extraite (Fornell et Larcker, 1981).",
                   "en": "λ: standardised loading (std.all); CR: composite reliability; AVE: average variance "
                         "extracted (Fornell and Larcker, 1981)."}[ctx.lang])
    )
    out.tables.append(t_ld)
    H = res.htmt
    if H is not None and not H.empty:
        names_h = [_dimension_of(ctx, factor_of.get(c), None, fallback=c) for c in H.columns]
        Hd = H.copy()
        Hd.columns = names_h
        mask = np.triu(np.ones(Hd.shape, dtype=bool))
        Hd = Hd.mask(mask)
        Hd.insert(0, "factor", names_h)
        Hd = Hd.iloc[1:, :-1] if Hd.shape[1] > 2 else Hd
        t_h = (
            _table(Hd.reset_index(drop=True), ctx, spec, number,
                   suffix={"fr": "validité discriminante (HTMT)", "en": "discriminant validity (HTMT)"}[ctx.lang])
            .cols_label({"factor": ""})
            .fmt_number([c for c in Hd.columns if c != "factor"], decimals=2)
            .tab_note({"fr": "Ratio hétérotrait-monotrait (Henseler et al., 2015) ; une valeur inférieure à 0,85 "
                             "soutient la validité discriminante.",
                       "en": "Heterotrait-monotrait ratio (Henseler et al., 2015); values below .85 support "
                             "discriminant validity."}[ctx.lang])
        )
        out.tables.append(t_h)
    fig_df = sl.rename(columns={"lhs": "factor", "rhs": "item"})
    out.figures["cfa_loadings"] = cfa_loadings_plot(fig_df, locale=ctx.lang)
    return out


def _dimension_of(ctx: ReportContext, construct: str | None, item: str | None, fallback: str | None = None) -> str:
    if construct is not None:
        c = ctx.spec[construct]
        for d in c.dimensions:
            if item is not None and item in d.items:
                return getattr(d, "label_fr", None) or d.name
            if fallback is not None and fallback.split("_")[-1] in d.name:
                return getattr(d, "label_fr", None) or d.name
    if fallback is not None:
        for c in ctx.spec.reflective:
            for d in c.dimensions:
                if d.items and d.items[0].rsplit("_", 1)[0] == fallback:
                    return getattr(d, "label_fr", None) or d.name
        return fallback
    return item or ""


def _fmt_fit(name: str, value: float, lang: str) -> str:
    from .tables import format_integer, format_number, format_pvalue

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if name in ("df", "n"):
        return format_integer(value, lang)
    if name == "p":
        return format_pvalue(value, 3, lang)
    if name == "χ²":
        return format_number(value, 2, lang)
    return format_number(value, 3, lang)


def build_invariance(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 6b: measurement invariance across legal forms (configural, metric, scalar)."""
    from .constructs import prepare_items
    from .invariance import measurement_invariance

    out = TableOutput(spec["id"])
    group, levels = _groups(ctx)
    if len(levels) < 2:
        ctx.warn(spec["id"], "fewer than two groups: invariance not tested")
        return out
    names = [spec.get("construct", "si_presence")]
    model, _ = _first_order_model(ctx, names)
    X = prepare_items(ctx.data, ctx.spec)
    X[group] = ctx.data[group].to_numpy()
    X = X[X[group].isin(levels)]
    estimator = spec.get("estimator", "MLR")
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        inv = measurement_invariance(model, X, group, estimator=estimator)
    out.results["invariance"] = inv
    comp = inv.comparison.copy()
    robust = estimator.upper() == "MLR"
    cols = {
        "model": "model",
        "chisq": "chisq_scaled" if robust and "chisq_scaled" in comp else "chisq",
        "df": "df",
        "cfi": "cfi_robust" if robust and "cfi_robust" in comp else "cfi",
        "rmsea": "rmsea_robust" if robust and "rmsea_robust" in comp else "rmsea",
        "delta_chisq": "delta_chisq",
        "delta_df": "delta_df",
        "p_value": "p_value",
        "delta_cfi": "delta_cfi_robust" if robust and "delta_cfi_robust" in comp else "delta_cfi",
        "delta_rmsea": "delta_rmsea_robust" if robust and "delta_rmsea_robust" in comp else "delta_rmsea",
    }
    df = pd.DataFrame({k: comp[v] if v in comp else np.nan for k, v in cols.items()})
    names_models = {"fr": {"configural": "Configurale", "metric": "Métrique (saturations)", "scalar": "Scalaire (+ intercepts)"},
                    "en": {"configural": "Configural", "metric": "Metric (loadings)", "scalar": "Scalar (+ intercepts)"}}[ctx.lang]
    df["model"] = df["model"].map(lambda m: names_models.get(m, m))
    t = (
        _table(df, ctx, spec, number)
        .cols_label({"model": ctx.t("model"), "chisq": "χ²", "df": "df", "cfi": "CFI", "rmsea": "RMSEA",
                     "delta_chisq": "Δχ²", "delta_df": "Δdf", "p_value": "p", "delta_cfi": "ΔCFI",
                     "delta_rmsea": "ΔRMSEA"})
        .fmt_number(["chisq", "delta_chisq"], decimals=2)
        .fmt_integer(["df", "delta_df"])
        .fmt_number(["cfi", "rmsea", "delta_cfi", "delta_rmsea"], decimals=3)
        .fmt_pvalue("p_value")
        .tab_note({"fr": f"Groupes : {', '.join(ctx.group_label(g) for g in levels)}. Test de différence du χ² "
                         f"{'mis à l’échelle (Satorra et Bentler, 2001) ' if robust else ''}entre modèles emboîtés. "
                         "Critères usuels de non-invariance : ΔCFI < -0,01 et ΔRMSEA > 0,015 (Chen, 2007).",
                   "en": f"Groups: {', '.join(ctx.group_label(g) for g in levels)}. "
                         f"{'Scaled (Satorra and Bentler, 2001) ' if robust else ''}χ² difference test between nested "
                         "models. Usual criteria of non-invariance: ΔCFI < -.01 and ΔRMSEA > .015 (Chen, 2007)."}[ctx.lang])
    )
    out.tables.append(t)
    return out


def build_funding(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 7: funding mix (mean shares) and hybridisation (HHI, 1-HHI, sources) by group."""
    from .figures import funding_mix_bars, regional_bars

    out = TableOutput(spec["id"])
    hyb = next((c for c in ctx.spec.constructs if getattr(c, "kind", "") == "formative"), None)
    shares = [s for s in (getattr(hyb, "shares", None) or []) if s in ctx.data.columns]
    if not shares:
        shares = [c for c in ctx.data.columns if c.startswith("fund_") and c not in ("fund_total", "fund_check")
                  and pd.api.types.is_numeric_dtype(ctx.data[c])]
    indicators = [c for c in ("funding_hhi", "funding_diversity", "funding_n_sources", "funding_market_share")
                  if c in ctx.data.columns]
    by_list = spec.get("by") or [ctx.plan.options.get("group", "legal_form_group")]
    frames = []
    for by in by_list:
        if by not in ctx.data.columns:
            ctx.warn(spec["id"], f"grouping variable '{by}' absent")
            continue
        d = ctx.data
        S = d[shares].apply(_numeric)
        vl = ctx.value_labels(by)
        grp = d[by].astype("string")
        table = S.groupby(grp).mean()
        table.loc["__total__"] = S.mean()
        ind = d[indicators].apply(_numeric).groupby(grp).mean()
        ind.loc["__total__"] = d[indicators].apply(_numeric).mean()
        n = grp.value_counts()
        n.loc["__total__"] = len(d)
        tab = table.join(ind)
        tab["n"] = n
        tab = tab.reset_index(names="level")
        tab["by"] = ctx.label(by, short=40) if by != "legal_form_group" else {"fr": "Forme juridique", "en": "Legal form"}[ctx.lang]
        tab["level"] = [
            ctx.t("total") if lv == "__total__" else (ctx.group_label(lv) if by == "legal_form_group" else vl.get(str(lv), str(lv)))
            for lv in tab["level"]
        ]
        frames.append(tab)
        if by == by_list[0]:
            long = table.drop(index="__total__").reset_index(names="group").melt(id_vars="group", var_name="source", value_name="share")
            long["share"] = long["share"] / 100
            long["group"] = long["group"].map(lambda g: ctx.group_label(g) if by == "legal_form_group" else vl.get(str(g), str(g)))
            long["source"] = long["source"].map(lambda s: _funding_family(ctx, s))
            long = long.groupby(["group", "source"], sort=False, as_index=False)["share"].sum()
            out.figures["funding_mix"] = funding_mix_bars(long, locale=ctx.lang)
        if by == "region" and "funding_diversity" in ind.columns:
            reg = ind.drop(index="__total__")["funding_diversity"].rename_axis("region").reset_index()
            reg["region"] = reg["region"].map(lambda r: vl.get(str(r), str(r)))
            reg = reg.rename(columns={"funding_diversity": "value"})
            out.figures["funding_diversity_by_region"] = regional_bars(
                reg, xlabel={"fr": "Diversification (1 − HHI)", "en": "Diversification (1 − HHI)"}[ctx.lang],
                locale=ctx.lang)
    if not frames:
        return out
    df = pd.concat(frames, ignore_index=True)
    out.results["funding"] = df
    threshold = int(ctx.plan.options.get("small_cell_threshold", 5))
    small = df["n"] < threshold
    df.loc[small, shares + indicators] = np.nan
    labels = {"by": "", "level": "", "n": "n"}
    for s in shares:
        labels[s] = ctx.label(s, short=28)
    labels.update({"funding_hhi": "HHI", "funding_diversity": "1 − HHI",
                   "funding_n_sources": {"fr": "Nb de sources", "en": "No. of sources"}[ctx.lang],
                   "funding_market_share": {"fr": "Part marchande", "en": "Market share"}[ctx.lang]})
    t = (
        _table(df[["by", "level", "n"] + shares + indicators], ctx, spec, number)
        .tab_stub("level", "by")
        .cols_label(labels)
        .fmt_integer("n")
        .fmt_number(shares, decimals=1)
        .fmt_number(indicators, decimals=2)
        .tab_spanner({"fr": "Part moyenne des ressources (%)", "en": "Mean share of resources (%)"}[ctx.lang], shares)
        .tab_spanner({"fr": "Hybridation", "en": "Hybridisation"}[ctx.lang], indicators)
        .tab_note({"fr": "HHI : indice de Herfindahl-Hirschman des parts de financement (1 = une seule source) ; "
                         "1 − HHI : diversification ; part marchande : part des recettes d'activités marchandes "
                         f"(proportion). Groupes de moins de {threshold} organisations non publiés.",
                   "en": "HHI: Herfindahl-Hirschman index of the funding shares (1 = a single source); 1 − HHI: "
                         "diversification; market share: share of market income (proportion). Groups of fewer than "
                         f"{threshold} organisations not published."}[ctx.lang])
    )
    out.tables.append(t)
    return out


_FUNDING_FAMILIES = {
    "fund_subsidy_state": {"fr": "Subventions publiques", "en": "Public subsidies"},
    "fund_subsidy_local": {"fr": "Subventions publiques", "en": "Public subsidies"},
    "fund_subsidy_indh": {"fr": "Subventions publiques", "en": "Public subsidies"},
    "fund_crowdfunding": {"fr": "Autres", "en": "Other"},
    "fund_other": {"fr": "Autres", "en": "Other"},
}


def _funding_family(ctx: ReportContext, share: str) -> str:
    """Label of a funding source for the figure (public subsidies and small sources grouped)."""
    fam = _FUNDING_FAMILIES.get(share)
    return fam[ctx.lang] if fam else ctx.label(share, short=30)


def build_problems(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 8: problems of Annexe 2 at scale: share rating each problem serious, by legal form."""
    from .group_tests import crosstab

    out = TableOutput(spec["id"])
    group, levels = _groups(ctx)
    serious_from = int(spec.get("serious_from", 4))
    groups = getattr(ctx.spec, "problem_groups", {}) or {}
    if not groups:
        items = [c for c in ctx.data.columns if c.startswith("prob_")]
        groups = {"all": {"label_fr": "", "items": items}}
    rows = []
    for gname, g in groups.items():
        for item in g.get("items", []):
            if item not in ctx.data.columns:
                continue
            x = _numeric(ctx.data[item])
            x = x.where((x >= 1) & (x <= 5))
            serious = (x >= serious_from).astype(float).where(x.notna())
            row = {"group": g.get("label_fr", gname), "item": ctx.label(item, short=70), "n": int(x.notna().sum()),
                   "total": float(serious.mean() * 100)}
            for lv in levels:
                s = serious[ctx.data[group] == lv]
                row[lv] = float(s.mean() * 100)
            if len(levels) >= 2:
                d = pd.DataFrame({"s": serious, "g": ctx.data[group]}).dropna()
                d = d[d["g"].isin(levels)]
                try:
                    row["p_value"] = crosstab(d, "g", "s", seed=ctx.plan.options.get("seed")).p_value
                except InputError:
                    row["p_value"] = np.nan
            rows.append(row)
    df = pd.DataFrame(rows)
    out.results["problems"] = df
    if df.empty:
        return out
    labels = {"group": "", "item": "", "n": "n", "total": ctx.t("total"), "p_value": "p"}
    for lv in levels:
        labels[lv] = ctx.group_label(lv)
    pct_cols = ["total"] + levels
    t = (
        _table(df, ctx, spec, number)
        .tab_stub("item", "group")
        .cols_label(labels)
        .fmt_integer("n")
        .fmt_number(pct_cols, decimals=1)
        .tab_spanner(ctx.t("serious"), pct_cols)
    )
    if "p_value" in df:
        t = t.fmt_pvalue("p_value")
    t = t.tab_note({"fr": f"Part des organisations jugeant le problème grave ou très grave ({serious_from} ou plus sur "
                          "une échelle de 1 = pas un problème à 5 = problème très grave). Problèmes issus de l'annexe 2 "
                          "de l'enquête qualitative. p : test du khi-deux entre formes juridiques.",
                    "en": f"Share of organisations rating the problem serious or very serious ({serious_from} or more "
                          "on a scale from 1 = not a problem to 5 = very serious problem). Problems from Annex 2 of "
                          "the qualitative study. p: chi-square test between legal forms."}[ctx.lang])
    out.tables.append(t)
    return out


def build_models(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 9: regression models of H1-H3 side by side, plus a coefficient plot."""
    from .figures import coefficient_plot, tidy_coefficients
    from .regression import load_analysis_plan, run_analysis_plan
    from .tables import model_table

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
    kinds = {"ols": {"fr": "MCO", "en": "OLS"}, "logit": {"fr": "Logit", "en": "Logit"},
             "ordinal": {"fr": "Logit ordonné", "en": "Ordered logit"}, "poisson": {"fr": "Poisson", "en": "Poisson"},
             "negbin": {"fr": "Binomiale nég.", "en": "Neg. binomial"}}
    cols = {}
    for i, (name, r) in enumerate(results.items(), start=1):
        kind = getattr(r, "model", "")
        cols[f"({i}) {kinds.get(kind, {}).get(ctx.lang, kind)}"] = r
    coef_labels = {}
    for r in results.values():
        for term in r.coefficients.index:
            coef_labels.setdefault(term, _term_label(ctx, term))
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
    desc = "; ".join(f"({i}) {plan.models[n].description if hasattr(plan.models[n], 'description') else n}"
                     for i, n in enumerate(results, start=1))
    se_note = {"fr": "Erreurs-types robustes HC3 entre parenthèses (sauf mention contraire dans le plan d'analyse).",
               "en": "HC3 robust standard errors in parentheses (unless the analysis plan says otherwise)."}[ctx.lang]
    omitted = ""
    if spec.get("coef_omit"):
        omitted = {"fr": " Effets fixes non affichés : ", "en": " Fixed effects not shown: "}[ctx.lang] + ", ".join(
            _term_label(ctx, p) for p in spec["coef_omit"]) + "."
    t = t.tab_note(se_note + omitted).tab_note(desc)
    out.tables.append(t)
    coefs = tidy_coefficients({k: v for k, v in cols.items() if getattr(v, "model", "") == "ols"})
    keep = [t_ for t_ in coefs["term"].unique() if t_.startswith("score_")]
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
        base = ctx.label(var, short=30) if var != "legal_form_group" else {"fr": "Forme juridique", "en": "Legal form"}[ctx.lang]
        if level is None:
            return base
        return f"{base} : {ctx.value_labels(var).get(level, level)}"
    parts = term.split(":")
    if len(parts) > 1:
        return " × ".join(_term_label(ctx, p) for p in parts)
    if term.startswith("score_"):
        return ctx.construct_label(term[len("score_"):])
    if term in DERIVED_LABELS:
        return DERIVED_LABELS[term][ctx.lang]
    return ctx.label(term, short=40)


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
                    notes[ctx.label(var, short=30)] = ctx.value_labels(var).get(base[0], base[0])
                break
    return notes


def build_groups(ctx: ReportContext, spec: dict, number: int) -> TableOutput:
    """Table 10: associations compared with cooperatives (H4) with effect sizes."""
    from .group_tests import run_comparisons

    out = TableOutput(spec["id"])
    group, levels = _groups(ctx)
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        results = run_comparisons(ctx.data)
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
                row[f"mean_{lv}"] = float(d.at[lv, "mean"])
                row[f"sd_{lv}"] = float(d.at[lv, "sd"])
        if "welch_t" in tests.index:
            row["t"] = float(tests.at["welch_t", "statistic"])
            row["df"] = float(tests.at["welch_t", "df"])
            row["p_value"] = float(tests.at["welch_t", "p_value"])
        if "mann_whitney" in tests.index:
            row["p_mw"] = float(tests.at["mann_whitney", "p_value"])
        if "hedges_g" in eff.index:
            row["g"] = float(eff.at["hedges_g", "estimate"])
            row["g_low"] = float(eff.at["hedges_g", "ci_low"])
            row["g_high"] = float(eff.at["hedges_g", "ci_high"])
        if "rank_biserial" in eff.index:
            row["r_rb"] = float(eff.at["rank_biserial", "estimate"])
        rows.append(row)
    df = pd.DataFrame(rows)
    out.results["table"] = df
    if df.empty:
        return out
    labels = {"variable": "", "t": "t", "df": "df", "p_value": "p", "p_mw": {"fr": "p (Mann-Whitney)", "en": "p (Mann-Whitney)"}[ctx.lang],
              "g": "g", "g_low": {"fr": "IC inf.", "en": "CI low"}[ctx.lang], "g_high": {"fr": "IC sup.", "en": "CI high"}[ctx.lang],
              "r_rb": "r rb"}
    t = _table(df, ctx, spec, number).cols_label(labels)
    for lv in levels:
        if f"mean_{lv}" in df:
            labels_lv = {f"mean_{lv}": ctx.t("mean"), f"sd_{lv}": ctx.t("sd")}
            t = t.cols_label(labels_lv).tab_spanner(ctx.group_label(lv), [f"mean_{lv}", f"sd_{lv}"])
            t = t.fmt_number([f"mean_{lv}", f"sd_{lv}"], decimals=2)
    t = (
        t.fmt_number([c for c in ("t", "df") if c in df], decimals=2)
        .fmt_pvalue([c for c in ("p_value", "p_mw") if c in df])
        .fmt_number([c for c in ("g", "g_low", "g_high", "r_rb") if c in df], decimals=2)
    )
    t = t.tab_note({"fr": "Test t de Welch et test de Mann-Whitney ; g de Hedges avec intervalle de confiance à 95 % ; "
                          "r rb : corrélation rang-bisériale. Les moyennes des construits ne se comparent qu'une fois "
                          "l'invariance scalaire établie (tableau 6b).",
                    "en": "Welch t test and Mann-Whitney test; Hedges' g with 95% confidence interval; r rb: "
                          "rank-biserial correlation. Construct means are compared only once scalar invariance holds "
                          "(table 6b)."}[ctx.lang])
    out.tables.append(t)
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

    Returns
    -------
    outputs : dict of str -> TableOutput
    warnings : list of str
    """
    from .constructs import load_constructs
    from .dataset import prepare_analysis_data
    from .instrument import codebook

    if lang not in TEXTS:
        raise ConfigError(f"unknown language '{lang}'; choose fr or en")
    plan = plan or load_table_plan()
    spec = load_constructs()
    data = prepare_analysis_data(survey, spec)
    ctx = ReportContext(data=data, flow=flow, codebook=codebook(), spec=spec, plan=plan, lang=lang, demo=demo)
    outputs = {}
    for number, tspec in enumerate(plan.tables, start=1):
        if progress:
            progress(f"table {number}/{len(plan.tables)}: {tspec['id']} ...")
        try:
            outputs[tspec["id"]] = BUILDERS[tspec["kind"]](ctx, tspec, number)
        except (InputError, ConfigError) as exc:
            ctx.warn(tspec["id"], f"table not produced: {exc}")
    k = 0
    for o in outputs.values():
        for i, t in enumerate(o.tables):
            k += 1
            o.tables[i] = t.tab_header(t.title, t.subtitle, number=k)
    return outputs, ctx.warnings


def _write_results_csv(obj, path: Path) -> bool:
    from .tables import neutralize_formula

    if isinstance(obj, pd.DataFrame):
        df = obj
    elif hasattr(obj, "to_frame"):
        try:
            df = obj.to_frame()
        except (TypeError, ValueError):
            return False
    else:
        return False
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            df[c] = df[c].map(lambda v: neutralize_formula(v) if isinstance(v, str) else v)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=not isinstance(df.index, pd.RangeIndex), float_format="%.10g", lineterminator="\n")
    return True


def write_report(outputs: dict, warnings: list, out_dir: Path, formats: Sequence[str], lang: str) -> list[Path]:
    """Render the computed tables and figures into ``out_dir`` (no locking: see :func:`render_reports`)."""
    import matplotlib.pyplot as plt

    from .figures import save_figure
    from .tables import write_docx, write_html_page, write_latex, write_markdown, write_xlsx

    out_dir = Path(out_dir)
    files: list[Path] = []
    all_tables = [t for o in outputs.values() for t in o.tables]
    title = {"fr": "Tableaux de la thèse", "en": "Thesis tables"}[lang]
    if "html" in formats and all_tables:
        files.append(write_html_page(all_tables, out_dir / "tables.html", title=title))
    if "md" in formats and all_tables:
        files.append(write_markdown(all_tables, out_dir / "tables.md"))
    if "docx" in formats and all_tables:
        files.append(write_docx(all_tables, out_dir / "tables.docx"))
    if "xlsx" in formats and all_tables:
        files.append(write_xlsx(all_tables, out_dir / "tables.xlsx"))
    for tid, o in outputs.items():
        if not o.tables:
            continue
        if "tex" in formats:
            files.append(write_latex(o.tables, out_dir / "tex" / f"{tid}.tex"))
        if "md" in formats:
            files.append(write_markdown(o.tables, out_dir / "md" / f"{tid}.md"))
        if "docx" in formats:
            files.append(write_docx(o.tables, out_dir / "docx" / f"{tid}.docx"))
        for name, obj in o.results.items():
            if _write_results_csv(obj, out_dir / "results" / f"{tid}__{name}.csv"):
                files.append(out_dir / "results" / f"{tid}__{name}.csv")
    for o in outputs.values():
        for name, fig in o.figures.items():
            files.extend(save_figure(fig, out_dir / "figures" / name))
            plt.close(fig)
    text = "\n".join(warnings) + ("\n" if warnings else "")
    (out_dir / "warnings.txt").write_text(text, encoding="utf-8")
    files.append(out_dir / "warnings.txt")
    return files


def build_reports(
    processed_dir: str | Path,
    out_dir: str | Path,
    *,
    formats: Sequence[str] = ALL_FORMATS,
    lang: str = "fr",
    progress: Callable[[str], None] | None = None,
    plan: TablePlan | None = None,
) -> ReportResult:
    """Compute and write every table and figure from ``processed_dir`` into ``out_dir``.

    The caller holds the lock and gives a staging folder (see :mod:`analysis.pipeline`).
    """
    import json

    from .dataset import load_survey

    processed_dir = Path(processed_dir)
    survey = load_survey(processed_dir)
    flow_path = processed_dir / "flow.csv"
    flow = pd.read_csv(flow_path) if flow_path.exists() else None
    demo = False
    manifest = processed_dir / "manifest.json"
    if manifest.exists():
        try:
            text = manifest.read_text(encoding="utf-8")
            demo = "demo" in json.dumps(json.loads(text).get("raw_files", json.loads(text)))
        except (OSError, ValueError):
            demo = False
    outputs, warnings = compute_report(survey, flow, lang=lang, plan=plan, demo=demo, progress=progress)
    if progress:
        progress(f"writing {sum(len(o.tables) for o in outputs.values())} tables and "
                 f"{sum(len(o.figures) for o in outputs.values())} figures ...")
    files = write_report(outputs, warnings, Path(out_dir), formats, lang)
    return ReportResult(outputs=outputs, files=files, warnings=warnings)


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
    """
    from .atomic import RunLock, staged_directory

    out_dir = Path(out_dir)
    with RunLock(out_dir), staged_directory(out_dir) as stage:
        result = build_reports(data_dir, stage, formats=formats, lang=lang, progress=progress)
    return [out_dir / p.relative_to(stage) for p in result.files]

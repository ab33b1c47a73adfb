"""The analysis plan of the study (``questionnaire/analysis_plan.yaml``): its models and comparisons.

:func:`load_analysis_plan` reads and checks the plan into an :class:`AnalysisPlan` (one
:class:`ModelSpec` per model); :func:`run_analysis_plan` fits its models with the regression
engine (:func:`analysis.regression.regress`) and :func:`run_comparisons` runs its group
comparisons and cross-tables with the descriptives engine
(:func:`analysis.descriptives.compare_groups`, :func:`analysis.descriptives.crosstab`). The
engines take DataFrames and options; only this module reads the plan file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from analysis.descriptives import compare_groups, crosstab
from analysis.errors import ConfigError, InputError
from analysis.regression import MODEL_KINDS, MiceOptions, RegressionResult, regress, simple_slopes

__all__ = ["AnalysisPlan", "ModelSpec", "load_analysis_plan", "run_analysis_plan", "run_comparisons"]


@dataclass(frozen=True)
class ModelSpec:
    """One model of the analysis plan (``questionnaire/analysis_plan.yaml``).

    Attributes
    ----------
    name : str
        Key of the model (e.g. ``h1_impact``).
    hypothesis : str
        ``H1`` .. ``H4``.
    description : str
        One sentence for table notes.
    formula : str
        Patsy formula with the ``{term}`` snippets already inserted.
    model : str
        Model kind (see :data:`analysis.regression.MODEL_KINDS`).
    se : str
        ``classical``, ``hc3`` or ``cluster``.
    cluster : str or None
        Cluster column for ``se="cluster"``.
    filter : str or None
        ``pandas.DataFrame.query`` expression selecting the rows.
    center : tuple of str
        Columns mean-centred before fitting.
    simple_slopes : dict or None
        ``{"focal": ..., "moderator": ..., "at": [...]}`` for
        :func:`analysis.regression.simple_slopes`.
    impute : MiceOptions or None
        Multiple imputation options.
    """

    name: str
    hypothesis: str
    description: str
    formula: str
    model: str = "ols"
    se: str = "classical"
    cluster: str | None = None
    filter: str | None = None
    center: tuple[str, ...] = ()
    simple_slopes: dict | None = None
    impute: MiceOptions | None = None


@dataclass(frozen=True)
class AnalysisPlan:
    """The analysis plan: regression models (H1-H3) and group comparisons (H4).

    Attributes
    ----------
    models : dict of str -> ModelSpec
        In file order.
    comparisons : dict
        ``{"group": column, "outcomes": [...], "requires": text}``.
    crosstabs : tuple of dict
        ``{"row": ..., "col": ...}`` pairs.
    terms : dict of str -> str
        Formula snippets (``controls``...).
    path : str or None
        File read.
    """

    models: dict[str, ModelSpec]
    comparisons: dict = field(default_factory=dict)
    crosstabs: tuple[dict, ...] = ()
    terms: dict[str, str] = field(default_factory=dict)
    path: str | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per model: ``name, hypothesis, model, se, formula, filter, description``."""
        return pd.DataFrame([
            {"name": m.name, "hypothesis": m.hypothesis, "model": m.model, "se": m.se,
             "formula": m.formula, "filter": m.filter, "description": m.description}
            for m in self.models.values()
        ])


def load_analysis_plan(path=None) -> AnalysisPlan:
    """Read and check the analysis plan (default ``questionnaire/analysis_plan.yaml``).

    Parameters
    ----------
    path : str or Path, optional
        YAML file; default :data:`analysis.config.QUESTIONNAIRE_DIR` / ``analysis_plan.yaml``.

    Returns
    -------
    AnalysisPlan

    Raises
    ------
    analysis.errors.ConfigError
        Unreadable file, unknown keys, model kinds or SE types, undefined ``{snippets}``.

    Examples
    --------
    >>> from analysis.study._analysis_plan import load_analysis_plan
    >>> plan = load_analysis_plan()
    >>> plan.models["h1_impact"].model
    'ols'
    """
    import yaml

    from analysis.config import QUESTIONNAIRE_DIR

    path = QUESTIONNAIRE_DIR / "analysis_plan.yaml" if path is None else path
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the analysis plan {path}: {exc}") from exc
    terms = {str(k): str(v) for k, v in (raw.get("terms") or {}).items()}
    defaults = raw.get("defaults") or {}
    allowed = {"hypothesis", "description", "formula", "model", "se", "cluster", "filter",
               "center", "simple_slopes", "impute"}
    models: dict[str, ModelSpec] = {}
    for name, spec in (raw.get("models") or {}).items():
        if not isinstance(spec, dict) or "formula" not in spec:
            raise ConfigError(f"{path}: model '{name}' needs a formula")
        unknown = set(spec) - allowed
        if unknown:
            raise ConfigError(f"{path}: model '{name}' has unknown keys {sorted(unknown)}")
        merged = {**defaults, **spec}
        formula = str(merged["formula"])
        missing = [t for t in re.findall(r"{(\w+)}", formula) if t not in terms]
        if missing:
            raise ConfigError(f"{path}: model '{name}' uses undefined terms {missing}")
        formula = formula.format(**terms)
        kind = merged.get("model", "ols")
        se = merged.get("se", "classical")
        if kind not in MODEL_KINDS:
            raise ConfigError(f"{path}: model '{name}': unknown model kind '{kind}'")
        if se not in ("classical", "hc3", "cluster"):
            raise ConfigError(f"{path}: model '{name}': unknown se '{se}'")
        if se == "cluster" and not merged.get("cluster"):
            raise ConfigError(f"{path}: model '{name}': se = cluster needs a cluster column")
        imp = merged.get("impute")
        impute = MiceOptions(**imp) if isinstance(imp, dict) else None
        models[str(name)] = ModelSpec(
            name=str(name),
            hypothesis=str(merged.get("hypothesis", "")),
            description=str(merged.get("description", "")),
            formula=formula,
            model=kind,
            se=se,
            cluster=merged.get("cluster"),
            filter=merged.get("filter"),
            center=tuple(merged.get("center") or ()),
            simple_slopes=merged.get("simple_slopes"),
            impute=impute,
        )
    return AnalysisPlan(
        models=models,
        comparisons=dict(raw.get("comparisons") or {}),
        crosstabs=tuple(raw.get("crosstabs") or ()),
        terms=terms,
        path=str(path),
    )


def run_analysis_plan(data: pd.DataFrame, plan: AnalysisPlan | str | None = None, *,
                      design=None, models: Sequence[str] | None = None
                      ) -> dict[str, RegressionResult]:
    """Fit the models of the analysis plan.

    Parameters
    ----------
    data : pandas.DataFrame
        Analysis data set (one row per organisation, scores and indicators computed).
    plan : AnalysisPlan or path, optional
        Default: :func:`load_analysis_plan`.
    design : analysis.survey._design.SurveyDesign, optional
        Fit design-based models instead (``design.glm``; ``filter`` must then be applied to
        the design by the caller).
    models : sequence of str, optional
        Names of the models to fit (default: all).

    Returns
    -------
    dict of str -> RegressionResult
        In plan order. Each result carries ``extra["spec"]`` (its :class:`ModelSpec`) and, for
        moderation models, ``extra["simple_slopes"]`` (table of :func:`simple_slopes`).

    Raises
    ------
    analysis.errors.InputError
        A variable of a model is not in ``data`` (the message names the model).

    Examples
    --------
    >>> plan = load_analysis_plan()
    >>> "h1_impact" in plan.models
    True

    On the analysis data set (``analysis.study._dataset.prepare_analysis_data``), e.g. in
    ``notebooks/5.0-modeles-des-hypotheses.ipynb``::

        results = run_analysis_plan(data, models=["h1_impact"])
        results["h1_impact"].coefficients
    """
    if not isinstance(plan, AnalysisPlan):
        plan = load_analysis_plan(plan)
    names = list(plan.models) if models is None else list(models)
    out: dict[str, RegressionResult] = {}
    for name in names:
        if name not in plan.models:
            raise InputError("no such model in the analysis plan", value=name,
                             expected=", ".join(plan.models))
        spec = plan.models[name]
        if design is not None:
            res = regress(spec.formula, model=spec.model, design=design)
        else:
            sub = data.query(spec.filter) if spec.filter else data
            try:
                res = regress(spec.formula, sub, model=spec.model, se=spec.se,
                              cluster=spec.cluster, impute=spec.impute,
                              center=list(spec.center) or None)
            except InputError as exc:
                exc.message = f"model '{name}': {exc.message}"
                raise
            except Exception as exc:  # patsy: unknown variable, ...
                raise InputError(f"model '{name}' cannot be fitted: {exc}") from exc
        if isinstance(res, RegressionResult):
            res.extra["spec"] = spec
            if spec.simple_slopes:
                ss = dict(spec.simple_slopes)
                res.extra["simple_slopes"] = simple_slopes(res, ss["focal"], ss["moderator"],
                                                           at=ss.get("at"))
        out[name] = res
    return out


def run_comparisons(data: pd.DataFrame, plan=None) -> dict[str, object]:
    """Run the H4 comparisons of the analysis plan (``comparisons`` and ``crosstabs``).

    Parameters
    ----------
    data : pandas.DataFrame
    plan : AnalysisPlan or path, optional
        Default: :func:`load_analysis_plan`.

    Returns
    -------
    dict
        ``"<outcome>"`` -> :class:`analysis.descriptives.GroupComparison` for each outcome of ``comparisons``, and
        ``"<row>_x_<col>"`` -> :class:`analysis.descriptives.CrosstabResult` for each cross-table. Outcomes or
        cross-tables whose columns are absent from ``data`` raise :class:`InputError`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> cols = ["score_si_presence", "score_internal_capacity", "score_external_barriers",
    ...         "score_perceived_impact", "funding_diversity", "funding_market_share",
    ...         "funding_n_sources", "support_n_types"]
    >>> df = pd.DataFrame(rng.normal(size=(80, len(cols))), columns=cols)
    >>> df["legal_form_group"] = ["association", "cooperative"] * 40
    >>> df["support_used"] = rng.integers(0, 2, 80)
    >>> df["si_self_identified"] = rng.integers(1, 6, 80)
    >>> df["region"] = rng.choice(["R01", "R02"], 80)
    >>> out = run_comparisons(df)
    >>> out["score_si_presence"].tests["test"].tolist()
    ['welch_t', 'student_t', 'mann_whitney']
    """
    if not isinstance(plan, AnalysisPlan):
        plan = load_analysis_plan(plan)
    out: dict[str, object] = {}
    comp = plan.comparisons
    if comp:
        group = comp["group"]
        for dv in comp.get("outcomes", []):
            out[str(dv)] = compare_groups(data, dv, group)
    for ct in plan.crosstabs:
        out[f"{ct['row']}_x_{ct['col']}"] = crosstab(data, ct["row"], ct["col"],
                                                     seed=ct.get("seed", 2026))
    return out

"""si-survey: survey toolkit for a doctoral study of Social Innovation in Morocco.

The public API is re-exported here, each name from the module of its topic:

========================  ==============================================================
topic                     names
========================  ==============================================================
questionnaire             load_questionnaire, codebook, build_instrument, build_xform,
                          load_constructs, score_constructs, hybridisation, prepare_items,
                          construct_reliability
simulation                simulate_export, simulate_survey
cleaning                  clean, clean_data, CleanResult, load_survey, prepare_analysis_data
reliability and EFA       alpha, omega, kmo, bartlett, parallel_analysis, efa, factor_scores,
                          rotate, correlation_matrix
ordinal methods           polychoric, tetrachoric, fit_wlsmv, ordinal_invariance
                          (also ``cfa(..., estimator="WLSMV")``)
CFA                       cfa, htmt, measurement_invariance
survey design             SurveyDesign, design_weights, poststratify, rake,
                          load_population_totals
regression                regress, compare_models, simple_slopes, pool_rubin, MiceOptions,
                          load_analysis_plan, run_analysis_plan
descriptives and tests    describe, likert_distribution, crosstab, compare_groups,
                          run_comparisons
reports                   load_table_plan, compute_report, render_reports, run
========================  ==============================================================

Names are imported on first use (PEP 562), so ``import analysis`` and the
``si-survey`` command start quickly.

Examples
--------
>>> import analysis as si
>>> si.alpha.__module__
'analysis.reliability'
"""

from __future__ import annotations

import importlib
import sys
import types

from . import config
from .errors import ConfigError, EstimationWarning, InputError, SiSurveyError

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # questionnaire and constructs
    "Questionnaire": "instrument",
    "load_questionnaire": "instrument",
    "validate_questionnaire": "instrument",
    "codebook": "instrument",
    "build_instrument": "instrument",
    "build_xform": "instrument",
    "ConstructSpec": "constructs",
    "load_constructs": "constructs",
    "score_constructs": "constructs",
    "hybridisation": "constructs",
    "prepare_items": "constructs",
    "construct_reliability": "constructs",
    # simulation
    "simulate_export": "simulate",
    "simulate_survey": "simulate",
    "SurveySimulation": "simulate",
    # cleaning and the analysis data set
    "clean": "cleaning",
    "clean_data": "cleaning",
    "CleanResult": "cleaning",
    "load_survey": "dataset",
    "prepare_analysis_data": "dataset",
    # reliability and exploratory factor analysis
    "alpha": "reliability",
    "omega": "reliability",
    "AlphaResult": "reliability",
    "OmegaResult": "reliability",
    "kmo": "factor",
    "bartlett": "factor",
    "parallel_analysis": "factor",
    "efa": "factor",
    "factor_scores": "factor",
    "correlation_matrix": "factor",
    "EFAResult": "factor",
    "rotate": "rotation",
    # ordinal methods
    "polychoric": "polychoric",
    "tetrachoric": "polychoric",
    "PolychoricResult": "polychoric",
    "fit_wlsmv": "wlsmv",
    "ordinal_invariance": "wlsmv",
    "WLSMVResult": "wlsmv",
    # confirmatory factor analysis
    "cfa": "cfa",
    "htmt": "cfa",
    "CFAResults": "cfa",
    "measurement_invariance": "invariance",
    "InvarianceResults": "invariance",
    # survey design and weights
    "SurveyDesign": "survey_design",
    "SurveyEstimate": "survey_design",
    "design_weights": "weighting",
    "poststratify": "weighting",
    "rake": "weighting",
    "load_population_totals": "weighting",
    # regression
    "regress": "regression",
    "RegressionResult": "regression",
    "compare_models": "regression",
    "simple_slopes": "regression",
    "pool_rubin": "regression",
    "MiceOptions": "regression",
    "load_analysis_plan": "regression",
    "run_analysis_plan": "regression",
    # descriptives and group comparisons
    "describe": "descriptives",
    "likert_distribution": "descriptives",
    "crosstab": "group_tests",
    "compare_groups": "group_tests",
    "run_comparisons": "group_tests",
    # reports and the main job
    "load_table_plan": "reports",
    "compute_report": "reports",
    "render_reports": "reports",
    "run": "pipeline",
}

__all__ = [
    "__version__",
    "config",
    "ConfigError",
    "EstimationWarning",
    "InputError",
    "SiSurveyError",
    *_EXPORTS,
]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


class _Package(types.ModuleType):
    """The package's module type: a function named like its submodule stays the function.

    ``analysis.cfa`` and ``analysis.polychoric`` are functions defined in the modules of
    the same name. Importing such a submodule makes Python set the package attribute to the
    module, which would hide the function depending on import order: that one assignment
    is refused, so ``analysis.cfa`` is always the function (the module stays reachable as
    ``sys.modules["analysis.cfa"]`` and through ``from analysis.cfa import ...``).
    """

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

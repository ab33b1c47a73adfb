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
CB-SEM                    cfa, sem, htmt, measurement_invariance
PLS-SEM                   pls
survey design             SurveyDesign, design_weights, poststratify, rake,
                          load_population_totals
regression                regress, compare_models, simple_slopes, pool_rubin, MiceOptions,
                          load_analysis_plan, run_analysis_plan
descriptives and tests    describe, likert_distribution, crosstab, compare_groups,
                          run_comparisons
fieldwork                 draw_sample, run_checks, write_monitor, review_points, write_review,
                          read_decisions, verify, simulate_fieldwork
reports                   load_table_plan, compute_report, render_reports, run
========================  ==============================================================

Names are imported on first use (PEP 562), so ``import analysis`` and the
``si-survey`` command start quickly.

Examples
--------
>>> import analysis as si
>>> si.alpha.__module__
'analysis.psychometrics._reliability'
"""

from __future__ import annotations

from analysis import config
from analysis.errors import ConfigError, EstimationWarning, InputError, SiSurveyError
from analysis.utils.lazy import lazy_exports

__version__ = "0.1.0"

#: public name -> subpackage (or module) that exports it
_EXPORTS: dict[str, str] = {
    # questionnaire and constructs
    "Questionnaire": "study",
    "load_questionnaire": "study",
    "validate_questionnaire": "study",
    "codebook": "study",
    "build_instrument": "study",
    "build_xform": "study",
    "ConstructSpec": "study",
    "load_constructs": "study",
    "score_constructs": "study",
    "hybridisation": "study",
    "prepare_items": "study",
    "construct_reliability": "study",
    # simulation
    "simulate_export": "simulate",
    "simulate_survey": "simulate",
    "SurveySimulation": "simulate",
    "simulate_fieldwork": "simulate",
    # cleaning and the analysis data set
    "clean": "cleaning",
    "clean_data": "cleaning",
    "CleanResult": "cleaning",
    "load_survey": "study",
    "prepare_analysis_data": "study",
    # reliability and exploratory factor analysis
    "alpha": "psychometrics",
    "omega": "psychometrics",
    "AlphaResult": "psychometrics",
    "OmegaResult": "psychometrics",
    "kmo": "psychometrics",
    "bartlett": "psychometrics",
    "parallel_analysis": "psychometrics",
    "efa": "psychometrics",
    "factor_scores": "psychometrics",
    "correlation_matrix": "psychometrics",
    "EFAResult": "psychometrics",
    "rotate": "psychometrics",
    # ordinal methods
    "polychoric": "psychometrics",
    "tetrachoric": "psychometrics",
    "PolychoricResult": "psychometrics",
    "fit_wlsmv": "cbsem",
    "ordinal_invariance": "cbsem",
    "WLSMVResult": "cbsem",
    # confirmatory factor analysis
    "cfa": "cbsem",
    "sem": "cbsem",
    "htmt": "cbsem",
    "CFAResults": "cbsem",
    "measurement_invariance": "cbsem",
    # PLS-SEM
    "pls": "plssem",
    "PLSResults": "plssem",
    "InvarianceResults": "cbsem",
    # survey design and weights
    "SurveyDesign": "survey",
    "SurveyEstimate": "survey",
    "design_weights": "survey",
    "poststratify": "survey",
    "rake": "survey",
    "load_population_totals": "study",
    # regression
    "regress": "regression",
    "RegressionResult": "regression",
    "compare_models": "regression",
    "simple_slopes": "regression",
    "pool_rubin": "regression",
    "MiceOptions": "regression",
    "load_analysis_plan": "study",
    "run_analysis_plan": "study",
    # descriptives and group comparisons
    "describe": "descriptives",
    "likert_distribution": "descriptives",
    "crosstab": "descriptives",
    "compare_groups": "descriptives",
    "run_comparisons": "study",
    # fieldwork
    "draw_sample": "fieldwork",
    "run_checks": "fieldwork",
    "write_monitor": "fieldwork",
    "review_points": "fieldwork",
    "write_review": "fieldwork",
    "read_decisions": "fieldwork",
    "verify": "fieldwork",
    # reports and the main job
    "load_table_plan": "report",
    "compute_report": "report",
    "render_reports": "report",
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

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

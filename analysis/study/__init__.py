"""The study: questionnaire, constructs, regions and the analysis data set.

Public names are imported from their private module on first use.
"""

from __future__ import annotations

from analysis.utils.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "DEFAULT_CONSTRUCTS_PATH": "_constructs",
    "Dimension": "_constructs",
    "Construct": "_constructs",
    "ConstructSpec": "_constructs",
    "load_constructs": "_constructs",
    "score_constructs": "_constructs",
    "prepare_items": "_constructs",
    "hybridisation": "_constructs",
    "construct_reliability": "_constructs",
    "load_survey": "_dataset",
    "prepare_analysis_data": "_dataset",
    "LEGAL_FORM_GROUPS": "_dataset",
    "FUNDING_ALIASES": "_dataset",
    "select_options": "_dataset",
    "design_weights_for": "_dataset",
    "Questionnaire": "_instrument",
    "load_questionnaire": "_instrument",
    "validate_questionnaire": "_instrument",
    "build_xform": "_instrument",
    "java_available": "_instrument",
    "xlsform_bytes": "_instrument",
    "codebook": "_instrument",
    "build_instrument": "_instrument",
    "CODEBOOK_COLUMNS": "_instrument",
    "LANG_FR": "_instrument",
    "LANG_AR": "_instrument",
    "DONT_KNOW": "_instrument",
    "REFUSED": "_instrument",
    "NOT_APPLICABLE": "_instrument",
    "NUMERIC_DONT_KNOW": "_instrument",
    "NUMERIC_REFUSED": "_instrument",
    "LIKERT_MIN": "_instrument",
    "LIKERT_MAX": "_instrument",
    "SYSTEM_COLUMNS": "_instrument",
    "REGIONS": "_regions",
    "REGIONS_AR": "_regions",
    "OLD_REGIONS": "_regions",
    "PROVINCES": "_regions",
    "fold_key": "_regions",
    "normalize_arabic": "_regions",
    "match_regions": "_regions",
    "match_provinces": "_regions",
    "RegionMatch": "_regions",
    "REGION_STATUSES": "_regions",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

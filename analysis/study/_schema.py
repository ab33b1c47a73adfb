"""The keys each study file accepts: one table per file, one per table kind.

Each table maps a key to a one-line description (the same shape as the
``OPTIONS`` dictionary a table-kind module of the report declares), so that
:func:`analysis.study.validate_study` can reject a misspelt key with a "did you
mean" and the documentation can list the options. The table kinds' options are
declared by the report's kind modules (``OPTIONS`` in ``analysis/report/kinds/``) and passed
to :func:`analysis.study.validate_study` (``kind_options=``) by the commands.

Keys of the form ``label_<lang>`` (``label_fr``, ``label_en``, ``label_ar``...)
are accepted wherever a label is.
"""

from __future__ import annotations

import re

__all__ = [
    "TABLE_KEYS",
    "TABLE_PLAN_KEYS",
    "TABLE_PLAN_OPTIONS",
    "ANALYSIS_PLAN_KEYS",
    "MODEL_KEYS",
    "COMPARISON_KEYS",
    "CONSTRUCTS_KEYS",
    "CONSTRUCT_KEYS",
    "DIMENSION_KEYS",
    "CLEANING_KEYS",
    "POPULATION_KEYS",
    "POPULATION_TABLE_KEYS",
    "POPULATION_CELL_KEYS",
    "is_label_key",
]

_LABEL_KEY = re.compile(r"^(label|title|description|note)_[a-z]{2}$")


def is_label_key(key: object) -> bool:
    """True for ``label_fr``, ``label_en``, ``description_en``... (a text in one language).

    Examples
    --------
    >>> is_label_key("label_en"), is_label_key("labels")
    (True, False)
    """
    return isinstance(key, str) and bool(_LABEL_KEY.match(key))


# --------------------------------------------------------------------------- tables.yaml

TABLE_PLAN_KEYS: dict[str, str] = {
    "version": "version of the file format (1)",
    "options": "options of every table (a table may override some)",
    "tables": "the tables, in order",
}

TABLE_PLAN_OPTIONS: dict[str, str] = {
    "small_cell_threshold": "counts below this are suppressed in published cross-tabulations",
    "publish_zeros": "zero counts shown as a dash (false: suppressed like small counts)",
    "loading_threshold": "EFA loadings below this (absolute) are not printed",
    "decimals": "decimals of the estimates",
    "seed": "random seed (parallel analysis, Monte-Carlo tests)",
    "group": "grouping column of the comparisons (legal_form_group)",
    "construct": "default construct of the tables that study one construct",
    "default_construct": "default construct of the tables that study one construct",
    "apa_text": ("true (default) or false: the APA-style results text after each table of the "
                 "Markdown and HTML reports (never in Word or LaTeX)"),
}

#: Keys every table has, whatever its kind.
TABLE_KEYS: dict[str, str] = {
    "id": "file name stem of the outputs",
    "kind": "what is computed",
    "title": "{fr: ..., en: ...}",
}

#: Options whose values are construct names, column names or model names (for the cross-checks).
CONSTRUCT_OPTIONS = ("construct", "constructs")
COLUMN_OPTIONS = ("categorical", "numeric", "weights", "by", "outcomes", "group")
MODEL_OPTIONS = ("models",)

# --------------------------------------------------------------------------- analysis_plan.yaml

ANALYSIS_PLAN_KEYS: dict[str, str] = {
    "version": "version of the file format (1)",
    "terms": "snippets of formulas inserted by {name}",
    "defaults": "default keys of every model",
    "models": "the models (regressions of the hypotheses)",
    "comparisons": "group comparisons (H4)",
    "crosstabs": "cross-tabulations {row:, col:}",
    "labels": "labels of derived and dependent variables",
    "variables": "labels of derived and dependent variables",
    "factors": "factor covariates: label and reference category of each",
    "references": "reference categories of factor covariates",
    "reference_categories": "reference categories of factor covariates",
}

MODEL_KEYS: dict[str, str] = {
    "hypothesis": "H1..H4",
    "description": "one sentence, for the table notes",
    "formula": "patsy formula; {name} inserts a snippet of terms",
    "model": "ols, logit, ordinal, poisson or negbin",
    "se": "classical, hc3 or cluster",
    "cluster": "column of cluster ids when se = cluster",
    "filter": "pandas query selecting the rows",
    "center": "columns mean-centred before fitting",
    "simple_slopes": "{focal:, moderator:, at:} conditional effects",
    "impute": "{m:, seed:} multiple imputation, or null",
    "label": "label of the model column",
}

COMPARISON_KEYS: dict[str, str] = {
    "group": "grouping column",
    "requires": "condition stated in the notes",
    "outcomes": "outcomes compared",
}

# --------------------------------------------------------------------------- constructs.yaml

CONSTRUCTS_KEYS: dict[str, str] = {
    "version": "version of the file format (1)",
    "scale": "{min:, max:, missing_codes:}",
    "constructs": "the constructs",
    "problem_groups": "groups of the problems grid",
    "measurement_model": "lavaan syntax (default: follows the dimensions)",
    "structural_model": "lavaan syntax",
    "derived": "labels of derived variables",
    "derived_variables": "labels of derived variables",
    "labels": "labels of derived variables",
}

CONSTRUCT_KEYS: dict[str, str] = {
    "kind": "reflective or formative",
    "role": "role in the model (free text)",
    "rule": "mean_of_dimensions or mean_of_items",
    "min_valid": "minimum valid items",
    "min_valid_dimensions": "minimum valid dimensions",
    "dimensions": "the dimensions and their items",
    "shares": "formative index: share columns",
    "market_share": "formative index: market share column",
    "outputs": "formative index: score columns and their descriptions",
    "share_labels": "formative index: short labels and families of the shares (funding tables)",
}

DIMENSION_KEYS: dict[str, str] = {
    "items": "Likert items",
    "reverse": "reverse-keyed items",
    "min_valid": "minimum valid items",
}

PROBLEM_GROUP_KEYS: dict[str, str] = {"items": "problems of the group"}

SCALE_KEYS: dict[str, str] = {"min": "lowest code", "max": "highest code", "missing_codes": "codes read as missing"}

# --------------------------------------------------------------------------- cleaning.yaml

#: Sections of cleaning.yaml and their keys (None: any key, e.g. a mapping of codes).
CLEANING_KEYS: dict[str, dict[str, str] | None | str] = {
    "version": "version of the file format (1)",
    "time_zone": "UTC offset of timestamps (start, end, dateTime questions) written without one (e.g. +01:00)",
    "text": {"unicode_form": "", "collapse_spaces": ""},
    "numbers": {"dot_thousands": ""},
    "regions": {"fuzzy_cutoff": "", "resolve_ambiguous_by_province": ""},
    "tests": {"interview_status": "", "validation_status": "", "name_patterns": "", "name_columns": "",
              "fieldwork_start": ""},
    "duplicates": {"organisation_key": "", "contact_columns": "", "keep": ""},
    "speeders": {"fraction_of_median": "", "min_minutes": ""},
    "straightliners": {"min_items": "", "min_grids": "", "min_share_flat": ""},
    "eligibility": {"consent": "", "org_active": "", "require_legal_form_group": ""},
    "incomplete": {"min_share_required": ""},
    "exclude": "flags that exclude a row from the analysis",
    "funding": {"prefix": "", "total": "", "tolerance": ""},
    "legal_form_groups": None,
    "funding_families": None,
    "legal_form_group_order": "order of the legal-form groups in the tables",
    "survey_year": "survey year for org_age",
    "recode_other": "file of recodes of 'other' answers",
}

CLEANING_FLAGS = ("duplicate", "test", "speeder", "straightliner", "ineligible", "incomplete")

# --------------------------------------------------------------------------- population.yaml

POPULATION_KEYS: dict[str, str] = {
    "version": "version of the file format (1)",
    "sources": "the sources cited",
    "tables": "tables of population counts",
}

POPULATION_TABLE_KEYS: dict[str, str] = {
    "description": "", "variable": "", "total": "", "source": "", "cells": "",
}

POPULATION_CELL_KEYS: dict[str, str] = {
    "code": "", "label": "", "count": "", "share_pct": "", "derived": "", "how": "", "source": "",
    "approximate": "", "members": "",
}

"""The analysis data set: cleaned survey rows plus construct scores and derived indicators.

The cleaning stage writes one row per submission in ``survey.parquet`` with
flags; the analyses use the rows flagged ``analysed`` with, in addition, the
construct scores (:func:`analysis.study._constructs.score_constructs`), the funding
hybridisation indicators, and a few derived variables named in the analysis
plan (``log_members``, ``org_age``, ``support_n_types``, ``legal_form_group``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import InputError
from analysis.study._constructs import load_constructs, score_constructs
from analysis.study._study import load_cleaning_settings

__all__ = ["load_survey", "prepare_analysis_data", "LEGAL_FORM_GROUPS", "FUNDING_ALIASES", "DERIVED_COLUMNS",  # noqa: F822 (module __getattr__)
           "select_options", "design_weights_for"]


def __getattr__(name: str):
    # LEGAL_FORM_GROUPS is read from questionnaire/cleaning.yaml (legal_form_groups), its one source
    if name == "LEGAL_FORM_GROUPS":
        return load_cleaning_settings().legal_form_groups
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Names used by the analysis plan for the formative hybridisation index.
FUNDING_ALIASES: dict[str, str] = {
    "funding_diversity": "score_hybridisation",
    "funding_hhi": "score_hybridisation__hhi",
    "funding_n_sources": "score_hybridisation__n_sources",
    "funding_market_share": "score_hybridisation__market_share",
}

#: Columns :func:`prepare_analysis_data` adds besides the construct scores.
DERIVED_COLUMNS: tuple[str, ...] = (*FUNDING_ALIASES, "legal_form_group", "org_age", "log_members",
                                    "support_n_types", "design_stratum", "design_weight")


def load_survey(processed_dir: str | Path = config.PROCESSED_DIR) -> pd.DataFrame:
    """Read ``survey.parquet`` written by the cleaning stage.

    Raises
    ------
    InputError
        If the file does not exist (the cleaning stage has not been run).

    Examples
    --------
    >>> import tempfile
    >>> try:
    ...     load_survey(tempfile.mkdtemp())
    ... except InputError as exc:
    ...     print(str(exc).split(": ", 1)[1][:31])
    the cleaned data set is missing
    """
    path = Path(processed_dir) / "survey.parquet"
    if not path.exists():
        raise InputError(
            "the cleaned data set is missing; run 'si-survey clean' (or 'si-survey run') first",
            file=path,
        )
    return pd.read_parquet(path)


def select_options(data: pd.DataFrame, question: str) -> list[str]:
    """Names of the 0/1 option columns ``question/option`` of a select_multiple question."""
    prefix = f"{question}/"
    return [c for c in data.columns if c.startswith(prefix)]


def prepare_analysis_data(
    survey: pd.DataFrame, spec=None, *, analysed_only: bool = True, reference_year: int | None = None,
    legal_form_groups: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Add construct scores and derived indicators to the cleaned survey.

    Parameters
    ----------
    survey : pandas.DataFrame
        Cleaned data (``survey.parquet``), numeric codes for Likert items.
    spec : ConstructSpec, optional
        Default :func:`analysis.study._constructs.load_constructs`.
    analysed_only : bool, default True
        Keep only the rows flagged ``analysed`` (when the column exists).
    reference_year : int, optional
        Year used for the age of the organisation when ``org_age`` is absent;
        default: the year of the latest ``_submission_time`` (or ``end``).
    legal_form_groups : dict, optional
        Legal form -> group, used when ``legal_form_group`` is absent; default
        ``legal_form_groups`` of ``questionnaire/cleaning.yaml``.

    Returns
    -------
    pandas.DataFrame
        The rows kept, with the columns of ``survey`` plus ``score_*``,
        ``funding_*`` (aliases of the hybridisation scores named in the analysis plan), ``log_members``, ``org_age``, ``support_n_types``, ``legal_form_group`` and the design weights
        ``design_stratum``, ``design_weight`` (:func:`design_weights_for`), each added only if absent.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"legal_form": ["cooperative"], "n_members": [19],
    ...                    "year_created": [2015], "_submission_time": ["2026-05-01T10:00:00"]})
    >>> out = prepare_analysis_data(df)
    >>> out.loc[0, "legal_form_group"], float(out.loc[0, "org_age"]), round(float(out.loc[0, "log_members"]), 3)
    ('cooperative', 11.0, 2.996)
    """
    data = survey
    if analysed_only and "analysed" in data.columns:
        data = data[data["analysed"].astype(bool)]
    data = data.reset_index(drop=True)  # copy-on-write (pandas >= 3): the caller's frame is never modified
    if spec is None:
        spec = load_constructs()
    item_cols = [c for c in spec.items if c in data.columns]
    if item_cols:
        scores = score_constructs(data, spec)
        new = [c for c in scores.columns if c not in data.columns]
        data = pd.concat([data, scores[new]], axis=1)
    for alias, source in FUNDING_ALIASES.items():
        if alias not in data.columns and source in data.columns:
            data[alias] = pd.to_numeric(data[source], errors="coerce").astype(float)
    if "legal_form_group" not in data.columns and "legal_form" in data.columns:
        groups = legal_form_groups if legal_form_groups is not None else load_cleaning_settings().legal_form_groups
        data["legal_form_group"] = data["legal_form"].map(groups)
    if "org_age" not in data.columns and "year_created" in data.columns:
        if reference_year is None:
            stamp = data.get("_submission_time", data.get("end"))
            years = pd.to_datetime(stamp, errors="coerce", utc=True).dt.year if stamp is not None else None
            reference_year = int(years.max()) if years is not None and years.notna().any() else None
        if reference_year is not None:
            age = reference_year - pd.to_numeric(data["year_created"], errors="coerce")
            data["org_age"] = age.where(age >= 0).astype(float)
    if "log_members" not in data.columns and "n_members" in data.columns:
        members = pd.to_numeric(data["n_members"], errors="coerce")
        data["log_members"] = np.log1p(members.where(members >= 0))
    if "support_n_types" not in data.columns:
        opts = [c for c in select_options(data, "support_types") if not c.endswith("/autre")]
        if opts:
            counts = data[opts].apply(pd.to_numeric, errors="coerce").sum(axis=1, min_count=1)
            if "support_used" in data.columns:
                used = pd.to_numeric(data["support_used"], errors="coerce")
                counts = counts.where(used != 0, 0.0).where(used.notna())
            data["support_n_types"] = counts.astype(float)
    if "design_weight" not in data.columns:
        data["design_stratum"], data["design_weight"] = design_weights_for(data)
    return data


def design_weights_for(data: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Design weights N_h / n_h of the strata region x legal form of the sampling frame.

    See :func:`analysis.study._population.frame_design_weights`; the frame is
    ``questionnaire/sampling_frame.csv``. Rows outside the frame's strata (e.g. an
    unknown legal form, a missing region) get a missing weight.

    Returns
    -------
    stratum, weight : pandas.Series
    """
    from analysis.study._population import frame_design_weights

    if "region" not in data.columns or "legal_form" not in data.columns:
        nan = pd.Series(np.nan, index=data.index)
        return nan.astype("object"), nan
    return frame_design_weights(data)

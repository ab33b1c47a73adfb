"""Tests of analysis.dataset: the analysis data set (derived variables, design weights)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.dataset import (
    FUNDING_ALIASES,
    LEGAL_FORM_GROUPS,
    design_weights_for,
    load_survey,
    prepare_analysis_data,
    select_options,
)
from analysis.errors import InputError
from analysis.weighting import load_population_totals, population_recode


def _hand_example() -> pd.DataFrame:
    return pd.DataFrame({
        "analysed": [True, True, True, False],
        "legal_form": ["association", "fondation", "union_coop", "cooperative"],
        "region": ["R01", "R05", "R07", "R01"],
        "year_created": [2016, 2026, 2030, 2000],
        "n_members": [0, 19, -3, 10],
        "_submission_time": ["2026-03-01T10:00:00", "2026-05-02T09:00:00", None, "2026-01-01T00:00:00"],
        "support_used": [1, 0, np.nan, 1],
        "support_types/financial": [1, 1, 0, 1],
        "support_types/technical": [1, 0, 1, 0],
        "support_types/autre": [1, 0, 0, 0],
        "score_hybridisation": [0.25, 0.0, np.nan, 0.5],
        "score_hybridisation__hhi": [0.75, 1.0, np.nan, 0.5],
    })


def test_prepare_analysis_data_hand_example():
    out = prepare_analysis_data(_hand_example())
    # the row not analysed is dropped, the others renumbered
    assert len(out) == 3 and list(out.index) == [0, 1, 2]
    assert out["legal_form_group"].tolist() == ["association", "association", "cooperative"]
    # age from the year of the latest submission (2026); a creation year in the future is missing
    assert out["org_age"].tolist()[:2] == [10.0, 0.0]
    assert np.isnan(out.loc[2, "org_age"])
    # log(members + 1); negative counts are missing
    assert_allclose(out["log_members"].to_numpy()[:2], [0.0, np.log(20.0)])
    assert np.isnan(out.loc[2, "log_members"])
    # types of support: options ticked ('autre' not counted), 0 when no support used, missing if unknown
    assert out.loc[0, "support_n_types"] == 2.0
    assert out.loc[1, "support_n_types"] == 0.0
    assert np.isnan(out.loc[2, "support_n_types"])
    # aliases of the hybridisation scores named in the analysis plan
    assert_allclose(out["funding_diversity"].to_numpy()[:2], [0.25, 0.0])
    assert_allclose(out["funding_hhi"].to_numpy()[:2], [0.75, 1.0])
    assert "funding_n_sources" not in out  # its source column is absent
    assert set(FUNDING_ALIASES) >= {"funding_diversity", "funding_hhi"}


def test_prepare_analysis_data_keeps_existing_columns_and_reference_year():
    df = _hand_example().assign(org_age=[1.0, 2.0, 3.0, 4.0])
    out = prepare_analysis_data(df, analysed_only=False)
    assert len(out) == 4
    assert out["org_age"].tolist() == [1.0, 2.0, 3.0, 4.0]  # never overwritten
    out2 = prepare_analysis_data(_hand_example(), reference_year=2020)
    assert out2["org_age"].tolist()[0] == 4.0


def test_select_options():
    df = _hand_example()
    assert select_options(df, "support_types") == [
        "support_types/financial", "support_types/technical", "support_types/autre"]
    assert select_options(df, "absent") == []


def test_legal_form_groups_cover_the_two_families():
    assert set(LEGAL_FORM_GROUPS.values()) == {"association", "cooperative"}


def test_design_weights_sum_to_population_totals_per_stratum():
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame({
        "legal_form_group": rng.choice(["association", "cooperative", "other"], p=[0.6, 0.35, 0.05], size=n),
        "region": rng.choice([f"R{k:02d}" for k in range(1, 13)], size=n),
    })
    df.loc[:4, "region"] = None
    stratum, weight = design_weights_for(df)
    totals = load_population_totals()
    by_region = totals["associations_by_region"]
    frame = totals["organisations_by_frame"]
    sums = weight.groupby(stratum).sum()
    for region, total in by_region.items():
        assert_allclose(sums[f"association:{region}"], total, rtol=1e-12)
    assert_allclose(sums["cooperative"], frame["cooperative"], rtol=1e-12)
    # the association strata together give the national total of associations
    assert_allclose(sum(by_region), frame["association"], rtol=1e-12)
    # rows outside the strata (other forms, associations without region) get no weight
    outside = (df["legal_form_group"] == "other") | ((df["legal_form_group"] == "association") & df["region"].isna())
    assert weight[outside].isna().all() and stratum[outside].isna().all()
    # the five regions without a published share form one stratum
    recode = population_recode("associations_by_region")
    assert recode["R05"] == "R_other"


def test_design_weights_without_groups_are_missing():
    stratum, weight = design_weights_for(pd.DataFrame({"x": [1, 2]}))
    assert weight.isna().all() and len(stratum) == 2


def test_load_survey_missing_file(tmp_path):
    with pytest.raises(InputError, match="run 'si-survey clean'"):
        load_survey(tmp_path)

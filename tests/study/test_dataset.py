"""Tests of analysis.study._dataset: the analysis data set (derived variables, design weights)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.errors import InputError
from analysis.study._dataset import (
    FUNDING_ALIASES,
    LEGAL_FORM_GROUPS,
    design_weights_for,
    load_survey,
    prepare_analysis_data,
    select_options,
)
from analysis.study._population import load_sampling_frame


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
    """Weights N_h / n_h of the sampling frame's strata (region x legal form) add up to N_h."""
    frame = load_sampling_frame()
    rng = np.random.default_rng(3)
    strata = frame.sample(n=min(12, len(frame)), random_state=1)
    rows = []
    for _, st in strata.iterrows():
        for _ in range(int(rng.integers(1, 9))):
            rows.append({"region": st["region"], "legal_form": st["legal_form"]})
    rows += [{"region": None, "legal_form": "association"}, {"region": "R01", "legal_form": "not_a_form"}]
    df = pd.DataFrame(rows)
    stratum, weight = design_weights_for(df)
    known = weight.notna()
    assert known.sum() == len(df) - 2  # rows outside the frame's strata get no weight
    assert weight[~known].isna().all()
    sums = weight[known].groupby(stratum[known]).sum()
    n_by = frame.set_index(["region", "legal_form"])["N"]
    got = df[known].assign(w=weight[known]).groupby(["region", "legal_form"])["w"].sum()
    assert len(got) == len(strata) == len(sums)
    for key, total in got.items():
        assert_allclose(total, n_by[key], rtol=1e-12)
    # through prepare_analysis_data too (analysed rows only)
    out = prepare_analysis_data(df.assign(analysed=True))
    assert_allclose(out["design_weight"].sum(), float(n_by[list(got.index)].sum()), rtol=1e-12)


def test_design_weights_without_groups_are_missing():
    stratum, weight = design_weights_for(pd.DataFrame({"x": [1, 2]}))
    assert weight.isna().all() and len(stratum) == 2


def test_load_survey_missing_file(tmp_path):
    with pytest.raises(InputError, match="run 'si-survey clean'"):
        load_survey(tmp_path)

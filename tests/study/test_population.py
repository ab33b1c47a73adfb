"""The study's population (analysis.study._population): the totals of questionnaire/population.yaml,
the sampling frame of questionnaire/sampling_frame.csv and the design weights built on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.errors import InputError
from analysis.simulate._model import load_simulation_config, sample_design
from analysis.study._population import (
    frame_design_weights,
    load_population_totals,
    load_sampling_frame,
    population_recode,
)
from analysis.survey import poststratify
from analysis.xlsform._form import read_form


def test_frame_is_the_simulators_frame():
    """The demo data are drawn from this frame: the strata sizes must be the simulator's."""
    cfg = load_simulation_config(config.QUESTIONNAIRE_DIR / "simulation.yaml")
    form = read_form(config.QUESTIONNAIRE_DIR)
    design = sample_design(1000, cfg, form.choices["region"], form.choices["legal_form"])
    sim = pd.DataFrame({"region": design.region, "legal_form": design.legal_form, "N": design.N})
    sim = sim[sim["N"] > 0].set_index(["region", "legal_form"])["N"].sort_index()
    frame = load_sampling_frame().set_index(["region", "legal_form"])["N"].sort_index()
    pd.testing.assert_series_equal(frame, sim.astype(float), check_names=False)


def test_weights_reproduce_stratum_sizes():
    """Summed over the sample, the weights of each stratum give back its frame size N_h."""
    frame = load_sampling_frame()
    rng = np.random.default_rng(3)
    strata = frame.sample(10, random_state=1)
    rows = strata.loc[strata.index.repeat(rng.integers(1, 6, size=len(strata)))]
    stratum, weight = frame_design_weights(rows[["region", "legal_form"]].reset_index(drop=True), frame)
    sums = weight.groupby(stratum).sum()
    expected = pd.Series(strata["N"].to_numpy(), index=strata["region"] + "_" + strata["legal_form"])
    pd.testing.assert_series_equal(sums.sort_index(), expected.sort_index(), check_names=False)


def test_stratum_outside_frame_gets_no_weight():
    frame = pd.DataFrame({"region": ["R01"], "legal_form": ["association"], "N": [10.0]})
    s = pd.DataFrame({"region": ["R01", "R02", None], "legal_form": ["association", "association", "association"]})
    _, w = frame_design_weights(s, frame)
    assert w.iloc[0] == 10.0 and np.isnan(w.iloc[1]) and np.isnan(w.iloc[2])


def test_bad_frame_file_names_row_and_column(tmp_path):
    p = tmp_path / "frame.csv"
    p.write_text("region,legal_form,N\nR01,association,12\nR02,association,-3\n")
    with pytest.raises(InputError, match=r"row 3.*column 'N'"):
        load_sampling_frame(p)
    p.write_text("region,legal_form,N\nR01,association,12\nR01,association,4\n")
    with pytest.raises(InputError, match="listed twice"):
        load_sampling_frame(p)


def test_population_totals_file():
    tables = load_population_totals()
    assert tables["associations_by_region"].sum() == 187834
    assert tables["organisations_by_frame"]["association"] == 187834
    assert tables["organisations_by_frame"]["cooperative"] == 34515
    assert tables["cooperatives_by_sector"].sum() == 34515
    assert tables["cooperatives_women"].sum() == 34515
    recode = population_recode("associations_by_region")
    assert sorted(recode) == [f"R{i:02d}" for i in range(1, 13)]
    assert set(recode.values()) == set(tables["associations_by_region"].index)


def test_population_totals_drive_poststratification():
    rng = np.random.default_rng(1)
    regions = [f"R{i:02d}" for i in range(1, 13)]
    sample = pd.DataFrame({"region": rng.choice(regions, 400)})
    sample["ps_region"] = sample["region"].map(population_recode("associations_by_region"))
    totals = load_population_totals()["associations_by_region"]
    w = poststratify(sample, strata="ps_region", population_totals=totals)
    assert w.sum() == pytest.approx(187834)

"""Sampling: allocation rules (property tests), margin of error, the draw and its files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import InputError
from analysis.fieldwork._sampling import allocate, draw_sample, sample_size_for_moe
from analysis.study import frame_design_weights, load_population_totals, load_sampling_frame

sizes = st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(N_h=sizes, frac=st.floats(min_value=0.0, max_value=1.0))
def test_proportional_within_one_unit_and_exact_total(N_h, frac):
    N = sum(N_h)
    n = int(round(frac * N))
    n_h = allocate(n, N_h)
    exact = n * np.asarray(N_h) / N
    assert n_h.sum() == n
    assert np.all(np.abs(n_h - exact) < 1 + 1e-9)
    assert np.all((n_h >= 0) & (n_h <= np.asarray(N_h)))


@settings(max_examples=200, deadline=None)
@given(N_h=sizes, frac=st.floats(min_value=0.0, max_value=1.0), k=st.integers(min_value=1, max_value=20),
       rule=st.sampled_from(["proportional", "equal", "neyman"]), data=st.data())
def test_every_rule_total_caps_and_minimum(N_h, frac, k, rule, data):
    N_h = np.asarray(N_h)
    n = int(round(frac * N_h.sum()))
    sd = data.draw(st.lists(st.floats(min_value=0.1, max_value=10), min_size=len(N_h), max_size=len(N_h)))
    floor = np.minimum(k, N_h)
    if floor.sum() > n:
        with pytest.raises(InputError):
            allocate(n, N_h, allocation=rule, sd=sd, min_per_stratum=k)
        return
    n_h = allocate(n, N_h, allocation=rule, sd=sd, min_per_stratum=k)
    assert n_h.sum() == n
    assert np.all(n_h <= N_h)
    assert np.all(n_h >= floor)


@settings(max_examples=100, deadline=None)
@given(N_h=sizes, frac=st.floats(min_value=0.0, max_value=1.0))
def test_equal_allocation_differs_by_at_most_one_among_uncapped(N_h, frac):
    N_h = np.asarray(N_h)
    n = int(round(frac * N_h.sum()))
    n_h = allocate(n, N_h, allocation="equal")
    free = n_h < N_h
    if free.sum() > 1:
        assert n_h[free].max() - n_h[free].min() <= 1
    assert np.all(n_h[~free] <= n_h[free].max(initial=N_h.max()) + 1)


def test_neyman_is_proportional_to_N_times_sd():
    assert allocate(30, [100, 100, 200], allocation="neyman", sd=[1, 2, 1]).tolist() == [6, 12, 12]


def test_moe_sample_size_matches_cochran():
    # Cochran (1977) eq. 4.2: n0 = 1.96^2 * 0.25 / 0.05^2 = 384.15; N = 5000 -> 356.8 -> 357
    assert sample_size_for_moe(0.05, 5000) == 357
    assert sample_size_for_moe(0.03, 100) == 92   # 1067.07 / (1 + 1066.07 / 100) = 91.5
    with pytest.raises(InputError):
        sample_size_for_moe(1.5, 100)


def _frame(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    regions = ["R01", "casablanca - settat", "Fès-Meknès", "R07"]
    forms = ["Association", "coopérative", "association", "Fondation"]
    return pd.DataFrame({
        "org_id": [f"O{i:05d}" for i in range(n)],
        "region": rng.choice(regions, n, p=[0.4, 0.3, 0.2, 0.1]),
        "legal_form": rng.choice(forms, n, p=[0.3, 0.3, 0.3, 0.1]),
    })


def test_draw_is_deterministic_harmonised_and_consistent(tmp_path):
    f = _frame()
    a = draw_sample(f, n=200, strata=["region", "legal_form"], reserve=3, seed=11)
    b = draw_sample(f, n=200, strata="region,legal_form", reserve=3, seed=11)
    pd.testing.assert_frame_equal(a.sample, b.sample)
    c = draw_sample(f, n=200, strata=["region", "legal_form"], reserve=3, seed=12)
    assert set(c.sample["org_id"]) != set(a.sample["org_id"])
    assert set(a.sample["region"]) <= {"R01", "R03", "R06", "R07"}
    assert set(a.sample["legal_form"]) <= {"association", "cooperative", "fondation"}
    main = a.sample[a.sample["reserve_rank"] == 0]
    assert len(main) == 200 and main["org_id"].is_unique and a.sample["org_id"].is_unique
    got = main.groupby("stratum").size()
    alloc = a.allocation.set_index("stratum")
    assert (got == alloc.loc[got.index, "n_h"]).all()
    np.testing.assert_allclose(main["design_weight"] * main["inclusion_prob"], 1.0)
    # design weights of the main sample add up to the frame size
    np.testing.assert_allclose(main["design_weight"].sum(), len(f))
    # reserve ranks 1..3 in every stratum
    res = a.sample[a.sample["reserve_rank"] > 0].groupby("stratum")["reserve_rank"].max()
    assert (res == 3).all()
    assert (a.allocation["expected_moe"] > 0).all() and 0 < a.overall_moe < 0.1

    paths = a.write(tmp_path)
    frame = load_sampling_frame(paths["frame_counts"])
    assert frame["N"].sum() == len(f)
    stratum, w = frame_design_weights(main, frame)
    np.testing.assert_allclose(w.to_numpy(), main["design_weight"].to_numpy())
    tot = load_population_totals(paths["population"])["organisations_by_stratum"]
    assert tot.sum() == len(f) and set(tot.index) == set(a.allocation["stratum"])
    assert set(pd.read_csv(paths["allocation"]).columns) >= {"stratum", "N_h", "n_h", "target_completes"}


def test_moe_option_and_errors(tmp_path):
    f = _frame(n=1000)
    r = draw_sample(f, moe=0.05, strata=["region"], seed=1)
    assert r.n == sample_size_for_moe(0.05, 1000) == len(r.sample)
    with pytest.raises(InputError, match="either"):
        draw_sample(f, strata=["region"])
    bad = f.copy()
    bad.loc[5, "region"] = "Atlantis"
    with pytest.raises(InputError) as e:
        draw_sample(bad, n=10, strata=["region"])
    assert e.value.row == 7
    with pytest.raises(InputError):
        draw_sample(f, n=10, strata=["nope"])
    sd = pd.DataFrame({"region": ["R01", "R06", "R03", "R07"], "sd": [1, 1, 1, 5]})
    p = tmp_path / "sd.csv"
    sd.to_csv(p, index=False)
    ney = draw_sample(f, n=100, strata=["region"], allocation="neyman", sd=p, seed=2)
    prop = draw_sample(f, n=100, strata=["region"], seed=2)
    a1 = ney.allocation.set_index("stratum")["n_h"]
    a2 = prop.allocation.set_index("stratum")["n_h"]
    assert a1["R07"] > a2["R07"]


def test_frame_file_csv_semicolon(tmp_path):
    p = tmp_path / "frame.csv"
    _frame(n=50).to_csv(p, sep=";", index=False)
    r = draw_sample(p, n=20, strata=["region", "legal_form"], seed=3, min_per_stratum=1)
    assert r.n == 20 and (r.allocation["n_h"] >= 1).all()


def test_caps_and_minimum_fixed_in_turn_keep_the_total():
    # a take-all stratum and a raised stratum found in the same pass (found by hypothesis)
    assert allocate(3, [1, 5], allocation="neyman", sd=[4.0, 0.125], min_per_stratum=1).tolist() == [1, 2]
    assert allocate(3, [2, 100, 100], allocation="neyman", sd=[1000, 1, 1], min_per_stratum=1).tolist() == [1, 1, 1]

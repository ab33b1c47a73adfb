"""Tests of analysis.cbsem._invariance that are not comparisons with R: the results object,
bad input, other engines, shared work across levels, import structure. The comparisons with
lavaan's lavTestLRT (tests/reference/lavaan_reference.json) are in the parity catalogue
(``tests/parity/catalogue.py``, section ``lavaan``).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis import config
from analysis.cbsem import (
    ORDERED_LEVELS,
    InvarianceEngine,
    InvarianceResults,
    measurement_invariance,
)
from analysis.errors import InputError

REF = json.loads((config.TESTS_REFERENCE_DIR / "lavaan_reference.json").read_text())
HS = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "holzinger1939.csv")
MODEL = REF["header"]["model"]
_CACHE: dict[str, InvarianceResults] = {}


def _mi(est: str) -> InvarianceResults:
    if est not in _CACHE:
        _CACHE[est] = measurement_invariance(MODEL, HS, "school", estimator=est)
    return _CACHE[est]


@pytest.mark.parametrize("est", ["ML", "MLR"])
def test_results_hold_every_level(est):
    mi = _mi(est)
    assert list(mi.comparison["model"]) == ["configural", "metric", "scalar"]
    assert set(mi.models) == {"configural", "metric", "scalar"}
    assert mi.to_frame().equals(mi.comparison)
    assert "<table" in mi._repr_html_()


def test_bad_levels_and_estimator():
    with pytest.raises(InputError):
        measurement_invariance(MODEL, HS, "school", levels=("configural", "weak"))
    with pytest.raises(InputError):
        measurement_invariance(MODEL, HS, "school", estimator="GLS")
    with pytest.raises(InputError):
        measurement_invariance(MODEL, HS, "school", group_equal=("loadings",))


def test_other_estimators_are_passed_as_an_engine():
    calls = []

    class Fake:
        def __init__(self, chisq, df):
            self.fit = pd.Series({"npar": 10.0, "chisq": chisq, "df": df, "cfi": 0.9,
                                  "rmsea": 0.05})  # fmt: skip

    def fake_fit(model, data, group, group_equal, **kw):
        calls.append(group_equal)
        return Fake(10.0 + 2 * len(group_equal), 5.0 + len(group_equal))

    fake = InvarianceEngine(fit=fake_fit, levels=ORDERED_LEVELS)
    mi = measurement_invariance(MODEL, HS, "school", estimator=fake,
                                levels=("configural", "thresholds", "thresholds+loadings"))  # fmt: skip
    assert calls == [(), ("thresholds",), ("thresholds", "loadings")]
    assert list(mi.comparison["delta_chisq"][1:]) == [2.0, 2.0]


@pytest.mark.parametrize("missing", ["listwise", "fiml"])
def test_shared_model_free_work_gives_the_same_fits(missing):
    # measurement_invariance hands cfa a dict that keeps the prepared data, the baseline
    # model and the HTMT across levels: each fit must equal a fit on its own
    from analysis.cbsem import cfa

    hs = HS.copy()
    hs.loc[hs.index[::7], "x3"] = float("nan")
    mi = measurement_invariance(MODEL, hs, "school", estimator="MLR", missing=missing)
    for lv, eq in [("configural", ()), ("metric", ("loadings",)), ("scalar", ("loadings", "intercepts"))]:
        alone = cfa(MODEL, hs, group="school", group_equal=eq, estimator="MLR", missing=missing)
        got = mi.models[lv]
        pd.testing.assert_series_equal(got.fit, alone.fit)
        pd.testing.assert_frame_equal(got.params, alone.params)
        pd.testing.assert_frame_equal(got.htmt, alone.htmt)


def test_no_import_cycle_and_no_registry():
    # the estimator table is written out: the sem modules import each other in one direction
    # only (no module-level nor deferred import back), and importing registers nothing
    import ast
    import importlib

    pkg = importlib.import_module("analysis.cbsem")
    here = config.PROJECT_ROOT / "analysis" / "sem"
    graph = {}
    for f in here.glob("_*.py"):
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analysis.cbsem"):
                deps.add(node.module.rsplit(".", 1)[-1])
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
                deps.add("import_module")
        graph[f.stem] = deps
    assert not any("import_module" in d for d in graph.values())

    def reach(start, seen):
        for d in graph.get(start, ()):
            if d not in seen:
                seen.add(d)
                reach(d, seen)
        return seen

    assert [m for m in graph if m in reach(m, set())] == []
    assert not hasattr(pkg, "register_engine")

"""The review workbook: points to decide, earlier decisions kept, the sheet protected."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from analysis.fieldwork import review
from analysis.fieldwork._decisions import DECISION_COLUMNS
from analysis.fieldwork._review import REVIEW_COLUMNS
from analysis.simulate import simulate_export


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("review")
    return simulate_export(n=120, seed=8, out_dir=tmp / "raw")["export"]


def _points(path):
    return pd.read_excel(path, sheet_name="decisions", dtype=str, engine="openpyxl").fillna("")


def test_workbook_columns_dropdown_and_protection(export, tmp_path):
    path = review([export], tmp_path)
    pts = _points(path)
    assert list(pts.columns) == list(REVIEW_COLUMNS) and len(pts) > 0
    wb = openpyxl.load_workbook(path)
    ws = wb["decisions"]
    assert ws.protection.sheet
    ct = list(REVIEW_COLUMNS).index("change_type") + 1
    assert not ws.cell(2, ct).protection.locked and ws.cell(2, 1).protection.locked
    assert any("change_response" in (dv.formula1 or "") for dv in ws.data_validations.dataValidation)
    assert set(pts["check_id"]) <= set(pd.read_excel(path, sheet_name="checks", engine="openpyxl")["check_id"])


def test_points_already_decided_are_not_asked_again(export, tmp_path):
    first = _points(review([export], tmp_path / "r1"))
    decided = first.head(5).copy()
    decided["change_type"] = "no_action"
    ddir = tmp_path / "decisions"
    ddir.mkdir()
    decided[list(DECISION_COLUMNS)].assign(new_value="").to_csv(ddir / "week1.csv", index=False)
    second = _points(review([export], tmp_path / "r2", decisions=ddir))
    key = ["uuid", "question", "check_id"]
    done = set(map(tuple, decided[key].to_numpy()))
    assert not done & set(map(tuple, second[key].to_numpy()))
    assert len(second) == len(first) - len(done)

"""verify: the analysis file is the raw export plus the logged changes, and it catches tampering."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.cleaning import clean
from analysis.fieldwork._verify import verify, verify_frames
from analysis.simulate import simulate_export


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("verify")
    files = [simulate_export(n=150, seed=11, out_dir=tmp / "raw")["export"]]
    clean(files, out_dir=tmp / "processed", private_dir=tmp / "private")
    return files, tmp / "processed"


def test_clean_output_verifies(cleaned):
    files, processed = cleaned
    res = verify(files, processed)
    assert res.ok, (res.unexplained.head(), res.unapplied.head(), res.rows.head())
    assert res.cells_checked > 10_000 and res.log_rows_checked > 50


def _frames(cleaned):
    from analysis.ingest import read_exports
    from analysis.study import codebook, load_questionnaire

    files, processed = cleaned
    q = load_questionnaire()
    raw, _ = read_exports(files, codebook(q), q)
    proc = pd.read_parquet(processed / "survey.parquet")
    log = pd.read_csv(processed / "cleaning_log.csv", dtype=str, keep_default_na=False)
    return raw, proc, log


def _pid(u):
    from analysis.cleaning._rules import pseudonymous_id

    return pseudonymous_id(u)


def test_a_changed_cell_without_log_is_listed(cleaned):
    raw, proc, log = _frames(cleaned)
    i = int(np.flatnonzero(proc["year_created"].notna())[0])
    proc.loc[i, "year_created"] = proc.loc[i, "year_created"] + 1
    res = verify_frames(raw, proc, log, pseudonymise=_pid)
    assert not res.ok
    assert res.unexplained[["resp_id", "column"]].values.tolist() == [[proc.loc[i, "resp_id"], "year_created"]]


def test_a_deleted_log_row_and_a_false_log_row_are_listed(cleaned):
    raw, proc, log = _frames(cleaned)
    dropped = log.iloc[[0]]
    res = verify_frames(raw, proc, log.drop(index=log.index[0]), pseudonymise=_pid)
    assert res.unexplained["column"].tolist() == dropped["column"].tolist()
    fake = log.iloc[[0]].copy()
    fake["new_value"] = "12345"
    res = verify_frames(raw, proc, pd.concat([log, fake]), pseudonymise=_pid)
    assert res.unapplied["problem"].str.contains("does not hold the new value").any()


def test_a_missing_row_is_listed(cleaned):
    raw, proc, log = _frames(cleaned)
    res = verify_frames(raw, proc.iloc[1:], log, pseudonymise=_pid)
    assert res.rows["problem"].str.contains("missing from the analysis file").sum() == 1

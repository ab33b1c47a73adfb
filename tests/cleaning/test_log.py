"""The log is a log (issue 14, point 7): no two rows of cleaning_log.csv are the same."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from analysis.cleaning._clean import LOG_COLUMNS, clean_data

FILES = Path(__file__).parents[1] / "malformed" / "files"


def test_a_submission_received_twice_gives_distinct_log_rows(tmp_path):
    df = pd.read_csv(FILES / "bom_crlf.csv", sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.loc[3, "si_nov_01"] = "98"  # "Je ne sais pas": set missing, one log row
    df = pd.concat([df, df.iloc[[3]]], ignore_index=True)  # the same submission received twice
    path = tmp_path / "twice.csv"
    df.to_csv(path, sep=";", index=False, quoting=csv.QUOTE_ALL, encoding="utf-8")
    log = clean_data([path]).log
    assert list(log.columns) == LOG_COLUMNS
    assert not log.duplicated().any()
    twice = log[(log["column"] == "si_nov_01") & (log["_uuid"] == df.loc[3, "_uuid"])]
    assert sorted(twice["source_row"]) == [5, 14]
    assert set(twice["rule"]) == {"dont_know"}

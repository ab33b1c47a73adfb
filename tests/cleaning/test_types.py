"""Types decide parsing (issue 14, point 4): decimals, calculates, timestamps without offset."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.cleaning._clean import clean_data
from analysis.cleaning._types import configured_time_zone, infer_offset, numeric_calculate
from analysis.errors import ConfigError

BASE = Path(__file__).parents[1] / "malformed" / "files" / "bom_crlf.csv"
QDIR = Path(__file__).parents[2] / "questionnaire"
FUND = ["fund_dues", "fund_donations", "fund_sponsorship", "fund_subsidy_state", "fund_subsidy_local",
        "fund_subsidy_indh", "fund_international", "fund_market", "fund_crowdfunding", "fund_loans", "fund_other"]


def _base() -> pd.DataFrame:
    return pd.read_csv(BASE, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, sep=";", index=False, quoting=csv.QUOTE_ALL, encoding="utf-8")
    return path


def _config(tmp_path: Path, **changes) -> Path:
    cfg = yaml.safe_load((QDIR / "cleaning.yaml").read_text(encoding="utf-8"))
    for k, v in changes.items():
        if v is None:
            cfg.pop(k, None)
        else:
            cfg[k] = v
    p = tmp_path / "cleaning.yaml"
    p.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def decimal_shares(tmp_path_factory):
    """The thesis form's funding shares with three decimals, as Kobo exports a decimal question."""
    tmp = tmp_path_factory.mktemp("decimals")
    df = _base()
    df.loc[0, FUND] = "0"
    df.loc[0, ["fund_dues", "fund_donations", "fund_market"]] = ["33.333", "33.333", "33.334"]
    df.loc[0, "fund_total"] = "100"
    df.loc[1, FUND] = "0"
    df.loc[1, ["fund_dues", "fund_loans"]] = ["12.5", "87.5"]
    df.loc[1, "fund_total"] = "100"
    return df, clean_data([_write(df, tmp / "decimals.csv")])


def test_decimal_share_keeps_its_three_decimals(decimal_shares):
    df, result = decimal_shares
    row = result.data.set_index("_source_row").loc[2]  # first data row (header = 1)
    assert row["fund_dues"] == pytest.approx(33.333)
    assert row["fund_donations"] == pytest.approx(33.333)
    assert row["fund_market"] == pytest.approx(33.334)
    assert row["fund_total"] == pytest.approx(100.0)
    assert row["fund_loans"] == 0.0


def test_decimal_shares_are_not_logged_or_reported(decimal_shares):
    _df, result = decimal_shares
    log = result.log
    first_uuid = result._uuid[0]
    assert not ((log["_uuid"] == first_uuid) & log["column"].str.startswith("fund_")).any()
    v = result.validation
    assert not ((v["row"] == first_uuid) & (v["rule"].isin(["out_of_range", "funding_sum"]))).any()


def test_typed_thousands_in_a_decimal_question_still_read():
    from analysis.cleaning._types import _parse_distinct

    vals, st = _parse_distinct(np.array(["33.333", "5.200", "1 500", "0.125", "2,5"], dtype=object),
                               "decimal", True)
    assert vals.tolist() == [33.333, 5200.0, 1500.0, 0.125, 2.5]
    assert st.tolist() == ["ok", "parsed", "parsed", "ok", "parsed"]
    vals, _ = _parse_distinct(np.array(["5.200"], dtype=object), "decimal", False)
    assert vals.tolist() == [5.2]


@pytest.mark.parametrize("calc, values, numeric", [
    ("coalesce(${a}, 0) + coalesce(${b}, 0)", ["100"], True),
    ("uuid()", ["4f1c2a9e-3b7d-4c11-9a0e-5d2f8b6c7e10"], False),
    ("concat(${first}, '-', ${last})", ["a-b"], False),
    ("once(uuid())", [], False),
    ("${x}", ["1", "2.5"], True),
    ("${x}", ["1", "ABC"], False),
    ("if(${a} = 'yes', 'x-y', 'z')", ["x-y"], False),
    ("sum(${r/amount})", [], True),
])
def test_calculate_is_a_number_only_when_its_use_says_so(calc, values, numeric):
    assert numeric_calculate(calc, values) is numeric


def test_fund_total_calculate_stays_numeric(decimal_shares):
    _df, result = decimal_shares
    assert result.data["fund_total"].dtype == np.float64
    assert result.manifest["calculates_kept_as_text"] == []


def test_time_zone_option():
    assert configured_time_zone({"time_zone": "-03:30"}) == "-03:30"
    assert configured_time_zone({"timezone": "+01:00"}) == "+01:00"
    assert configured_time_zone({"time_zone": "UTC"}) == "+00:00"
    with pytest.raises(ConfigError):
        configured_time_zone({"time_zone": "Africa/Casablanca"})


def test_infer_offset_rounds_up_to_the_quarter_hour():
    loc = pd.Series(pd.to_datetime(["2026-04-01 12:00", "2026-04-01 15:30", "2026-04-02 09:00"])).dt.tz_localize("UTC")
    sub = pd.Series(pd.to_datetime(["2026-04-01 11:01", "2026-04-01 14:52", "2026-04-02 08:10"])).dt.tz_localize("UTC")
    assert infer_offset(loc, sub) == ("+01:00", 3)
    assert infer_offset(loc.iloc[:0], sub.iloc[:0]) == (None, 0)


def _naive_export(tmp_path: Path) -> tuple[pd.DataFrame, Path]:
    """start/end without their offset (local time +01:00), _submission_time in UTC."""
    df = _base()
    for c in ("start", "end"):
        df[c] = df[c].str.replace(r"[+-]\d{2}:\d{2}$", "", regex=True)
    return df, _write(df, tmp_path / "naive.csv")


def test_naive_timestamps_offset_inferred_and_reported(tmp_path):
    df, path = _naive_export(tmp_path)
    result = clean_data([path], config_path=_config(tmp_path, time_zone=None))
    assert result.manifest["time_zone"] == {"offset": "+01:00", "source": "inferred"}
    assert any("inferred from _submission_time" in w for w in result.warnings)
    expected = pd.to_datetime(df["end"]) - pd.Timedelta(hours=1)
    got = result.data["end"].dt.tz_convert(None).reset_index(drop=True)
    assert (got.astype("datetime64[ms]") == expected.astype("datetime64[ms]")).all()


def test_naive_timestamps_take_the_stated_offset(tmp_path):
    _df, path = _naive_export(tmp_path)
    result = clean_data([path], config_path=_config(tmp_path, time_zone=None), time_zone="+00:00")
    assert result.manifest["time_zone"] == {"offset": "+00:00", "source": "option"}
    assert not any("inferred" in w for w in result.warnings)


def test_end_after_submission_is_flagged(tmp_path):
    df = _base()
    df.loc[3, "_submission_time"] = "2026-01-01T00:00:00"
    result = clean_data([_write(df, tmp_path / "late.csv")])
    v = result.validation
    hit = v[v["rule"] == "end_after_submission"]
    assert list(hit["column"]) == ["end"]
    assert list(hit["source_row"]) == [5]

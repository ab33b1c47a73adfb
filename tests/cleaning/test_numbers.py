"""Tests of the number parser (analysis.cleaning._numbers)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.cleaning._numbers import parse_number, parse_numbers

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    ("text", "value", "status"),
    [
        ("12", 12.0, "ok"),
        ("-98", -98.0, "ok"),
        ("2.5", 2.5, "ok"),
        ("1 500", 1500.0, "parsed"),
        ("1\u00a0500", 1500.0, "parsed"),
        ("1\u202f500 000", 1_500_000.0, "parsed"),
        ("1.500", 1500.0, "parsed"),
        ("1.500.000", 1_500_000.0, "parsed"),
        ("1,500,000", 1_500_000.0, "parsed"),
        ("2,5", 2.5, "parsed"),
        ("1.500,25", 1500.25, "parsed"),
        ("1,500.25", 1500.25, "parsed"),
        ("15%", 15.0, "parsed"),
        ("15 %", 15.0, "parsed"),
        ("1 500 DH", 1500.0, "parsed"),
        ("740.000 MAD", 740_000.0, "parsed"),
        ("env. 30", 30.0, "parsed"),
        ("en 2015", 2015.0, "parsed"),
        ("depuis 1998", 1998.0, "parsed"),
        ("سنة 2010", 2010.0, "parsed"),
        ("١٥٠٠", 1500.0, "parsed"),
        ("۱۲", 12.0, "parsed"),
        ("٢٫٥", 2.5, "parsed"),
        ("−5", -5.0, "parsed"),
        ("1e5", 100000.0, "parsed"),
        ("Je ne sais pas", math.nan, "dont_know"),
        ("NSP", math.nan, "dont_know"),
        ("لا أعرف", math.nan, "dont_know"),
        ("Refus", math.nan, "refused"),
        ("رفض", math.nan, "refused"),
        ("", math.nan, "empty"),
        ("abc", math.nan, "invalid"),
        ("1e400", math.nan, "invalid"),
        ("9" * 400, math.nan, "invalid"),
        ("1 50", math.nan, "invalid"),
        ("12-15", math.nan, "invalid"),
    ],
)
def test_parse_number_examples(text, value, status):
    v, s = parse_number(text)
    assert s == status
    if math.isnan(value):
        assert math.isnan(v)
    else:
        assert v == pytest.approx(value)


def test_dot_thousands_option():
    assert parse_number("1.500", dot_thousands=False) == (1.5, "ok")
    assert parse_number("1.500")[0] == 1500.0


def test_parse_numbers_vectorised_and_missing_codes():
    s = pd.Series(["1", "1 500", "", None, "-98", "-99", "x", "1 500"])
    r = parse_numbers(s, missing_codes={-98: "dont_know", -99: "refused"})
    np.testing.assert_array_equal(r.status, ["ok", "parsed", "empty", "empty", "dont_know", "refused", "invalid", "parsed"])
    np.testing.assert_allclose(r.values, [1, 1500, np.nan, np.nan, np.nan, np.nan, np.nan, 1500])
    assert list(r.to_frame().columns) == ["value", "status"]


def _group(k: int, sep: str) -> str:
    return f"{k:,}".replace(",", sep)


@settings(max_examples=150, deadline=None)
@given(k=st.integers(min_value=0, max_value=10**12), sep=st.sampled_from([" ", "\u00a0", "\u202f", ".", ","]),
       suffix=st.sampled_from(["", " DH", " MAD", "%", " %"]), arabic=st.booleans(), neg=st.booleans())
def test_integers_written_any_way_parse_back(k, sep, suffix, arabic, neg):
    text = _group(k, sep) + suffix
    if arabic:
        text = text.translate(ARABIC)
    if neg:
        text = "-" + text
    v, status = parse_number(text)
    assert status in ("ok", "parsed")
    expected = k
    if sep == "," and 1000 <= k < 1_000_000:
        expected = k / 1000  # a single comma is a decimal comma (French convention), documented
    assert v == pytest.approx(-expected if neg else expected)


@settings(max_examples=150, deadline=None)
@given(x=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_canonical_floats_round_trip(x):
    text = repr(float(x))
    v, status = parse_number(text, dot_thousands=False)
    assert status in ("ok", "parsed")
    assert v == pytest.approx(float(text), rel=1e-12, abs=0)


@settings(max_examples=200, deadline=None)
@given(i=st.integers(min_value=0, max_value=999_999), frac=st.integers(min_value=1, max_value=99))
def test_decimal_comma(i, frac):
    v, status = parse_number(f"{i},{frac:02d}")
    assert status == "parsed"
    assert v == pytest.approx(i + frac / 100)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=30))
def test_never_raises_and_status_is_known(text):
    v, status = parse_number(text)
    assert status in ("ok", "parsed", "empty", "dont_know", "refused", "not_applicable", "invalid")
    assert (status in ("ok", "parsed")) == (not math.isnan(v))
    if not math.isnan(v):
        assert math.isfinite(v)

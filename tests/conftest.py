"""Shared fixtures: the public reference datasets of ``tests/data/`` (copied from R packages).

The tests never read ``../shared/``: every dataset a test needs is a small CSV here, with the
R script that produced its reference values in ``tests/reference/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

# CI (``.ci/run`` sets CI=true) runs the property tests with a fixed seed, so that a red CI can be
# replayed as it is; a developer's run draws new examples each time (a counterexample found that
# way becomes a plain regression test, as in tests/cleaning/test_personal.py).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

#: Folder of the public datasets used by the parity tests.
DATA_DIR = Path(__file__).parent / "data"
#: Folder of the R scripts and the reference values they wrote.
REFERENCE_DIR = Path(__file__).parent / "reference"


@pytest.fixture(scope="session")
def bfi() -> pd.DataFrame:
    """psych::bfi: 2 800 respondents, 25 six-point items plus gender, education and age."""
    return pd.read_csv(DATA_DIR / "bfi.csv")


@pytest.fixture(scope="session")
def bfi_items(bfi) -> pd.DataFrame:
    """The 25 personality items of psych::bfi (A1-O5), without the demographic columns."""
    return bfi.iloc[:, :25]


@pytest.fixture(scope="session")
def holzinger() -> pd.DataFrame:
    """lavaan::HolzingerSwineford1939: 301 pupils, tests x1-x9, school, sex, age."""
    return pd.read_csv(DATA_DIR / "holzinger1939.csv")

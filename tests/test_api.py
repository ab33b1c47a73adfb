"""The public API: every name of analysis.__all__ resolves, and the CLI answers --help."""

from __future__ import annotations

import subprocess
import sys

import pytest

import analysis


@pytest.mark.parametrize("name", analysis.__all__)
def test_public_name_resolves(name):
    obj = getattr(analysis, name)
    assert obj is not None
    if callable(obj) and not isinstance(obj, type) and name != "config":
        assert obj.__doc__, f"{name} has no docstring"


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        analysis.no_such_function  # noqa: B018


@pytest.mark.parametrize("command", [[], ["instrument"], ["simulate"], ["clean"], ["tables"], ["run"]])
def test_cli_help(command):
    out = subprocess.run(
        [sys.executable, "-m", "analysis", *command, "--help"], capture_output=True, text=True, check=True
    )
    assert "usage: si-survey" in out.stdout


def test_cli_error_is_one_sentence_and_nonzero(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "analysis", "clean", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.startswith("si-survey: error: ")
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "name",
    [n for n in analysis.__all__ if callable(getattr(analysis, n)) and not isinstance(getattr(analysis, n), type)],
)
def test_public_function_has_an_example(name):
    """Every public function shows how to call it (doctests run with the test suite)."""
    doc = getattr(analysis, name).__doc__ or ""
    assert "Examples" in doc, f"{name} has no Examples section"

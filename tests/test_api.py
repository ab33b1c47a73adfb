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


@pytest.mark.parametrize("command", [[], ["instrument"], ["simulate"], ["clean"], ["tables"], ["run"],
                                     ["sample"], ["monitor"], ["review"], ["verify"]])
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


def test_no_public_name_is_also_a_module():
    """No public function is shadowed by a module of the same name, in the package or a subpackage."""
    import importlib
    import importlib.util

    for name in analysis.__all__:
        assert importlib.util.find_spec(f"analysis.{name}") is None or name in {"config"}, name
    for sub in ["cbsem", "cleaning", "descriptives", "fieldwork", "ingest", "plssem", "psychometrics",
                "regression", "report", "simulate", "study", "survey", "xlsform"]:
        pkg = importlib.import_module(f"analysis.{sub}")
        for name in pkg.__all__:
            assert importlib.util.find_spec(f"analysis.{sub}.{name}") is None, f"analysis.{sub}.{name}"


@pytest.mark.parametrize("order", ["private_module_first", "function_first"])
def test_public_functions_whatever_the_import_order(order):
    """``si.cfa``, ``si.sem``, ``si.pls`` and ``si.polychoric`` are the functions whatever was imported before."""
    import subprocess
    import sys

    first = {
        "private_module_first": "import analysis.cbsem._cfa, analysis.cbsem._sem, analysis.plssem._pls, "
                                "analysis.psychometrics._polychoric",
        "function_first": "import analysis; analysis.cfa; analysis.sem; analysis.pls; analysis.polychoric",
    }[order]
    code = (
        f"{first}\n"
        "import types, analysis, analysis.cbsem, analysis.psychometrics\n"
        "for f in (analysis.cfa, analysis.sem, analysis.pls, analysis.polychoric, analysis.cbsem.cfa,\n"
        "          analysis.psychometrics.polychoric):\n"
        "    assert callable(f) and not isinstance(f, types.ModuleType), f\n"
        "assert analysis.cfa is analysis.cbsem.cfa\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr

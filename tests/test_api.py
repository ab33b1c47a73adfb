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


@pytest.mark.parametrize("name", ["cfa", "polychoric"])
@pytest.mark.parametrize("order", ["submodule_first", "function_first", "from_import_first"])
def test_function_named_like_its_module_stays_the_function(name, order):
    """``analysis.cfa`` / ``analysis.polychoric`` are the functions whatever the import order."""
    import subprocess
    import sys

    first = {
        "submodule_first": f"import analysis.{name}",
        "function_first": f"import analysis; analysis.{name}",
        "from_import_first": f"from analysis.{name} import {name} as f0",
    }[order]
    code = (
        f"{first}\n"
        "import importlib, types, analysis\n"
        f"import analysis.{name}\n"
        f"mod = importlib.import_module('analysis.{name}')\n"
        f"assert isinstance(mod, types.ModuleType), mod\n"
        f"assert callable(analysis.{name}) and not isinstance(analysis.{name}, types.ModuleType), analysis.{name}\n"
        f"assert analysis.{name} is mod.{name}\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr

"""Tests of analysis.utils.forking: children that die with the run, errors sent back."""

from __future__ import annotations

import os
import signal
import sys
import types

import pytest

from analysis.errors import InputError, SiSurveyError
from analysis.utils.forking import (
    RemoteTraceback,
    fork_available,
    in_jupyter_kernel,
    pack_exception,
    run_in_child,
    unpack_exception,
)

needs_fork = pytest.mark.skipif(not hasattr(os, "fork") or not sys.platform.startswith("linux"),
                                reason="forking is tested on Linux")


def test_exception_round_trip_keeps_the_details_and_names_where():
    exc = InputError("bad cell", file="x.csv", row=7, column="age", value="abc", expected="a number")
    text, payload, summary = pack_exception(exc)
    assert summary.startswith("InputError: ") and "bad cell" in summary and payload is not None
    back = unpack_exception(text, payload, summary, where="cleaning", fallback=SiSurveyError)
    assert isinstance(back, InputError) and back.row == 7 and back.column == "age"
    assert back.__notes__ == ["(raised while cleaning)"]
    assert str(RemoteTraceback(text)) == text


def test_unpicklable_exception_becomes_the_fallback():
    class Local(Exception):  # defined in a function: cannot be pickled
        pass

    text, payload, summary = pack_exception(Local("boom"))
    assert payload is None
    back = unpack_exception(text, payload, summary, where="x", fallback=lambda s: SiSurveyError(f"lost: {s}"))
    assert isinstance(back, SiSurveyError) and "Local: boom" in str(back)


def test_no_fork_inside_a_jupyter_kernel(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert in_jupyter_kernel() and not fork_available()


@needs_fork
def test_run_in_child_relays_progress_and_runs_meanwhile():
    seen, meanwhile = [], []

    def work(say):
        say("one")
        say("two")
        return os.getpid()

    pid = run_in_child(work, seen.append, meanwhile=lambda: meanwhile.append(os.getpid()))
    assert seen == ["one", "two"] and pid != os.getpid()
    assert meanwhile == [os.getpid()]  # done (joined) by the time run_in_child returns


@needs_fork
def test_run_in_child_killed_names_what_stopped():
    with pytest.raises(SiSurveyError, match="the demo stage stopped without finishing.*signal 9"):
        run_in_child(lambda say: os.kill(os.getpid(), signal.SIGKILL), lambda m: None, what="the demo stage")

"""One problem found in a study file, worded as one sentence, and the "did you mean" helper."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from analysis.errors import ConfigError

__all__ = ["Problem", "StudyError", "did_you_mean"]


def did_you_mean(name: object, candidates: Iterable[object], *, cutoff: float = 0.6) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or ``""``.

    Examples
    --------
    >>> did_you_mean("rotaton", ["method", "rotation", "n_iter"])
    "; did you mean 'rotation'?"
    >>> did_you_mean("zzz", ["rotation"])
    ''
    """
    pool = sorted({str(c) for c in candidates})
    close = difflib.get_close_matches(str(name), pool, n=1, cutoff=cutoff)
    if not close and str(name).lower() != str(name):
        close = difflib.get_close_matches(str(name).lower(), pool, n=1, cutoff=cutoff)
    return f"; did you mean '{close[0]}'?" if close else ""


@dataclass(frozen=True)
class Problem:
    """A problem in a study file: where it is and what is wrong, in one sentence.

    Attributes
    ----------
    file : str
        The file, as shown (relative to the current folder when inside it).
    line : int or None
        1-based line number.
    message : str
        What is wrong, naming the bad name (no final full stop).
    suggestion : str
        ``"; did you mean 'x'?"`` or ``""``.

    Examples
    --------
    >>> str(Problem("questionnaire/tables.yaml", 34, "unknown option 'rotaton'", "; did you mean 'rotation'?"))
    "file 'questionnaire/tables.yaml', line 34: unknown option 'rotaton'; did you mean 'rotation'?"
    """

    file: str
    line: int | None
    message: str
    suggestion: str = ""

    def __str__(self) -> str:
        text = f"{self.message.rstrip('.')}{self.suggestion}"
        if self.file:
            text = f"file '{self.file}'" + (f", line {self.line}" if self.line else "") + f": {text}"
        return text if text.endswith(("?", ".")) else text + "."


class StudyError(ConfigError):
    """The study files have problems: ``problems`` holds them, ``str()`` gives one sentence a line.

    Examples
    --------
    >>> err = StudyError([Problem("a.yaml", 1, "x is wrong"), Problem("b.yaml", 2, "y is wrong")])
    >>> print(err)
    file 'a.yaml', line 1: x is wrong.
    file 'b.yaml', line 2: y is wrong.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

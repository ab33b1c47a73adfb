"""Errors and warnings that si-survey raises, worded for researchers.

An :class:`InputError` names the file, the row, the column, the value found
and what was expected, so that a user can open the file and fix it. The CLI
prints ``str(error)`` as one sentence and exits with a non-zero code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["SiSurveyError", "InputError", "ConfigError", "EstimationWarning"]


class SiSurveyError(Exception):
    """Base class of every error si-survey reports to the user."""

    exit_code: int = 1


@dataclass
class InputError(SiSurveyError):
    """A problem in an input file.

    Parameters
    ----------
    message : str
        What is wrong, in one plain sentence.
    file : str or Path, optional
        The file where the problem is.
    row : int or str, optional
        The row (1-based line number, or the submission ``_uuid``).
    column : str, optional
        The column (variable) name.
    value : object, optional
        The value found.
    expected : str, optional
        What was expected instead.
    """

    message: str
    file: str | Path | None = None
    row: int | str | None = None
    column: str | None = None
    value: object = None
    expected: str | None = None
    exit_code: int = 2

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file '{self.file}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = self.message.rstrip(".")
        if where:
            text = f"{', '.join(where)}: {text}"
        if self.value is not None:
            shown = repr(self.value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            text += f"; found {shown}"
        if self.expected:
            text += f"; expected {self.expected}"
        return text + "."


class ConfigError(SiSurveyError):
    """A problem in a project text file (questionnaire, constructs spec, table plan)."""

    exit_code = 3


class EstimationWarning(UserWarning):
    """An estimation problem that makes a number doubtful (Heywood case, non-convergence, ...)."""

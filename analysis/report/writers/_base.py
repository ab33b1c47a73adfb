"""What a writer of the report is: a format's files for all the tables and for one table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Writer", "ReportFigure"]

#: (rendered tables, landscape flags, output folder, language) -> the file written; a writer
#: with ``figures=True`` is also given ``figures=`` (a list of :class:`ReportFigure`).
CombinedWriter = Callable[..., Path]
#: (table id, its rendered tables, landscape flags, output folder) -> the file written; a writer
#: with ``results_text=True`` is also given ``after=`` (both kinds of writer).
TableWriter = Callable[[str, Sequence, Sequence[bool], Path], Path]


@dataclass(frozen=True)
class ReportFigure:
    """A figure of the report, rendered, for the documents that insert it.

    Attributes
    ----------
    name : str
        Its file name without extension (``figures/<name>.png``).
    png : bytes
        The PNG (300 dpi).
    width_in, height_in : float
        Its size in inches (the PNG's size at 300 dpi).
    caption : str
        The caption text, without "Figure N".
    note : str or None
        The note under it.
    after : int
        Index (among all the tables of the report) of the table it follows.
    """

    name: str
    png: bytes
    width_in: float
    height_in: float
    caption: str
    note: str | None
    after: int


@dataclass(frozen=True)
class Writer:
    """The writer of one output format of the report.

    Attributes
    ----------
    name : str
        The format's name (``docx``, ``tex``...), as given to ``--formats``.
    combined : callable or None
        Writes every table of the report into one file (``tables.<ext>``).
    per_table : callable or None
        Writes the tables of one plan entry into one file (``<format>/<id>.<ext>``).
    figures : bool, default False
        Whether ``combined`` inserts the figures: it is then called once they are
        rendered, with ``figures=`` a list of :class:`ReportFigure`.
    results_text : bool, default False
        Whether the writers print the APA-style results text of each plan entry after
        its tables: they are then called with ``after=`` (per table, a paragraph or
        None). The Word and LaTeX documents leave it out (the researcher writes it
        into the thesis text).
    """

    name: str
    combined: CombinedWriter | None = None
    per_table: TableWriter | None = None
    figures: bool = False
    results_text: bool = False

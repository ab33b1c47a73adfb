"""What a writer of the report is: a format's files for all the tables and for one table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Writer"]

#: (rendered tables, landscape flags, output folder, language) -> the file written.
CombinedWriter = Callable[[Sequence, Sequence[bool], Path, str], Path]
#: (table id, its rendered tables, landscape flags, output folder) -> the file written.
TableWriter = Callable[[str, Sequence, Sequence[bool], Path], Path]


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
    """

    name: str
    combined: CombinedWriter | None = None
    per_table: TableWriter | None = None

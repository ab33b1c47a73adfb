"""What the table kinds and the report produce."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from analysis.report._layout import _too_wide


@dataclass
class TableOutput:
    """What one table of the plan produced: tables, figures and the numbers behind them.

    Attributes
    ----------
    id : str
    tables : list of analysis.tables.Table
    figures : dict of str -> matplotlib Figure
    results : dict
        The analysis objects and frames whose numbers are in the tables.
    count_columns : list of list of str
        Per table, the data columns that hold published counts (checked against the
        small-cell threshold).
    count_rows : list of (list of int or None)
        Per table, the rows of those columns that hold counts (None: every row).
    landscape : list of bool
        Per table, whether it is set on a landscape page (Word) or in a ``landscape``
        environment (LaTeX).
    figure_captions : dict of str -> (str, str or None) or str
        Per figure name, its caption and note (the documents that insert the figures);
        those left out get one from :mod:`analysis.report._figure_captions`.
    """

    id: str
    tables: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)
    count_columns: list = field(default_factory=list)
    count_rows: list = field(default_factory=list)
    landscape: list = field(default_factory=list)
    figure_captions: dict = field(default_factory=dict)

    def add(self, table, counts: Sequence[str] = (), rows: Sequence[int] | None = None,
            landscape: bool | None = None) -> None:
        """Append a table with its count columns (and rows); ``landscape=None`` decides by its width."""
        self.tables.append(table)
        self.count_columns.append(list(counts))
        self.count_rows.append(None if rows is None else list(rows))
        self.landscape.append(_too_wide(table) if landscape is None else bool(landscape))


@dataclass
class ReportResult:
    """What :func:`build_reports` produced.

    Attributes
    ----------
    outputs : dict of str -> TableOutput
        Per table id: the :class:`analysis.tables.Table` objects, the figures, and
        the analysis objects (``results``) whose numbers are in the tables.
    files : list of Path
    warnings : list of str
    manifest : dict
    """

    outputs: dict = field(default_factory=dict)
    files: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

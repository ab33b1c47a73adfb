"""The immutable :class:`Table` builder (great_tables style).

A table starts from a tidy DataFrame holding raw numbers; every method returns
a *new* Table (the original is never changed), and the method names share verb
prefixes: ``tab_`` for structure and text around the body, ``cols_`` for
columns, ``fmt_`` for number formats, ``sub_`` for substitutions. Nothing is
formatted until :meth:`Table.render` is called by a writer (Markdown, LaTeX,
HTML, Word, Excel: see :mod:`analysis.tables`), so the same Table renders in
French or English with :meth:`Table.with_locale`.

Examples
--------
>>> import pandas as pd
>>> from analysis.tables.builder import Table
>>> df = pd.DataFrame({"forme": ["Association", "Coopérative"], "n": [1234, 56],
...                    "part": [0.956, 0.044]})
>>> t = (Table(df).tab_header("Répartition", number=1).tab_stub("forme")
...      .cols_label({"forme": "Forme juridique", "part": "%"})
...      .fmt_integer("n").fmt_percent("part"))
>>> t.render().body_text()
[['Association', '1\\u202f234', '95,6\\u202f%'], ['Coopérative', '56', '4,4\\u202f%']]
>>> t.with_locale("en").render().body_text()[0]
['Association', '1,234', '95.6%']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis.errors import ConfigError, InputError
from analysis.tables._rendered import BodySection, Cell, HeaderSpan, NoteLine, RenderedTable
from analysis.tables.formatting import (
    DEFAULT_LEVELS,
    Locale,
    _check_levels,
    format_integer,
    format_number,
    format_percent,
    format_pvalue,
    french_typography,
    get_locale,
    is_missing,
    stars_for,
    stars_legend,
)

__all__ = ["Table", "RenderedTable", "Cell", "HeaderSpan", "BodySection", "NoteLine"]

Formatter = Callable[[object, Locale], str]


def _typo(loc: Locale) -> Callable[[str], str]:
    """French typography (no-break spaces) on texts of French tables; identity otherwise."""
    return french_typography if loc.code == "fr" else str


# --------------------------------------------------------------------------- spec parts
@dataclass(frozen=True)
class _Spanner:
    label: str
    columns: tuple[str, ...]
    level: int


@dataclass(frozen=True)
class _RowGroup:
    label: str
    rows: tuple[int, ...]


@dataclass(frozen=True)
class _Format:
    kind: str  # number, integer, percent, pvalue, custom
    columns: tuple[str, ...]
    decimals: int = 2
    leading_zero: bool = True
    scale_values: bool = True
    fn: Formatter | None = None
    numeric: bool = False  # custom formatter output is number-like
    rows: frozenset | None = None  # index labels of the rows it formats (None: every row)


@dataclass(frozen=True)
class _Stars:
    p_col: str
    columns: tuple[str, ...]
    levels: tuple[float, ...]


def _as_tuple(columns: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if columns is None:
        return None
    if isinstance(columns, str):
        return (columns,)
    return tuple(str(c) for c in columns)


# --------------------------------------------------------------------------- the builder
@dataclass(frozen=True, eq=False)
class Table:
    """An immutable description of a report table.

    Parameters
    ----------
    data : pandas.DataFrame
        Tidy data with raw numbers (one row per table row). The index is ignored:
        call ``reset_index()`` first to show it. The frame is copied.

    Notes
    -----
    Every method returns a new Table; chain them. Column arguments take one name or
    a list of names; ``columns=None`` in ``fmt_*`` means every numeric column.

    Examples
    --------
    >>> import pandas as pd
    >>> t = Table(pd.DataFrame({"x": [0.1234]}))
    >>> t2 = t.fmt_number("x", decimals=1)
    >>> t.render().body_text(), t2.render().body_text()
    ([['0,12']], [['0,1']])
    """

    data: pd.DataFrame
    title: str | None = None
    subtitle: str | None = None
    number: str | int | None = None
    spanners: tuple[_Spanner, ...] = ()
    row_groups: tuple[_RowGroup, ...] = ()
    rowname_col: str | None = None
    groupname_col: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    hidden: tuple[str, ...] = ()
    aligns: tuple[tuple[str, str], ...] = ()
    formats: tuple[_Format, ...] = ()
    stars: tuple[_Stars, ...] = ()
    star_levels: tuple[float, ...] | None = None
    notes: tuple[str, ...] = ()
    source: str | None = None
    label: str | None = None
    locale: Locale = field(default_factory=lambda: get_locale("fr"))

    def __post_init__(self) -> None:
        data = self.data
        if not isinstance(data, pd.DataFrame):
            raise InputError(
                "A table needs a pandas DataFrame.", value=type(data).__name__, expected="DataFrame"
            )
        if isinstance(data.columns, pd.MultiIndex):
            raise InputError(
                "Table columns must be flat; use tab_spanner() for grouped headers.",
                expected="single-level column names",
            )
        data = data.reset_index(drop=True).copy()
        data.columns = [str(c) for c in data.columns]
        if data.columns.duplicated().any():
            dup = data.columns[data.columns.duplicated()][0]
            raise InputError("Duplicate column name in table data.", column=dup)
        object.__setattr__(self, "data", data)

    # ------------------------------------------------------------------ helpers
    def _new(self, **changes: object) -> Table:
        return replace(self, **changes)

    def _check(self, columns: str | Iterable[str] | None, *, what: str = "column") -> tuple[str, ...]:
        cols = _as_tuple(columns)
        if cols is None:
            return ()
        for c in cols:
            if c not in self.data.columns:
                raise InputError(
                    f"Unknown {what} in table specification.",
                    column=c,
                    expected=f"one of {list(self.data.columns)}",
                )
        return cols

    def _numeric_columns(self) -> tuple[str, ...]:
        return tuple(
            c
            for c in self.data.columns
            if pd.api.types.is_numeric_dtype(self.data[c]) and not pd.api.types.is_bool_dtype(self.data[c])
        )

    def _resolve(self, columns: str | Iterable[str] | None) -> tuple[str, ...]:
        if columns is None:
            return self._numeric_columns()
        return self._check(columns)

    # ------------------------------------------------------------------ tab_*
    def tab_header(
        self, title: str, subtitle: str | None = None, number: str | int | None = None
    ) -> Table:
        """Set the title (shown in italics), an optional subtitle and the table number.

        Parameters
        ----------
        title : str
        subtitle : str, optional
        number : int or str, optional
            Shown above the title as ``"Tableau <number>"`` (bold).

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"a": [1]})).tab_header("Effectifs", number=3).render().number_text
        'Tableau 3'
        """
        return self._new(title=title, subtitle=subtitle, number=number)

    def tab_spanner(self, label: str, columns: str | Iterable[str], level: int = 0) -> Table:
        """Put a label over several adjacent columns.

        Parameters
        ----------
        label : str
        columns : str or list of str
            Columns under the spanner; they must be adjacent once hidden columns are removed.
        level : int, default 0
            0 sits just above the column labels; 1 above level 0, and so on.

        Raises
        ------
        ConfigError
            If the columns overlap another spanner of the same level.

        Examples
        --------
        >>> import pandas as pd
        >>> t = Table(pd.DataFrame({"a": [1], "b": [2]})).tab_spanner("Groupe", ["a", "b"])
        >>> t.render().spanner_rows
        ((HeaderSpan(label='Groupe', start=0, stop=2),),)
        """
        cols = self._check(columns)
        if not cols:
            raise ConfigError(f"Spanner {label!r} has no columns.")
        if level < 0:
            raise ConfigError(f"Spanner level must be >= 0, got {level}.")
        for sp in self.spanners:
            if sp.level == level and set(sp.columns) & set(cols):
                raise ConfigError(
                    f"Spanner {label!r} overlaps spanner {sp.label!r} at level {level}."
                )
        return self._new(spanners=self.spanners + (_Spanner(str(label), cols, level),))

    def tab_stub(self, rowname_col: str | None = None, groupname_col: str | None = None) -> Table:
        """Choose the row-label column (stub, shown first) and/or a column of row-group labels.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"g": ["A", "A", "B"], "item": ["x", "y", "z"], "v": [1, 2, 3]})
        >>> r = Table(df).tab_stub("item", groupname_col="g").render()
        >>> [s.label for s in r.sections], r.column_labels
        (['A', 'B'], ('item', 'v'))
        """
        self._check(rowname_col)
        self._check(groupname_col)
        if groupname_col is not None and self.row_groups:
            raise ConfigError("Use either groupname_col or tab_row_group(), not both.")
        return self._new(rowname_col=rowname_col, groupname_col=groupname_col)

    def tab_row_group(self, label: str, rows: Iterable[Hashable]) -> Table:
        """Gather rows under a group label.

        Parameters
        ----------
        label : str
            Shown on its own row above the group; an empty string shows no label but
            draws a rule above the group.
        rows : list
            Row positions (0-based ints) or, when a stub is set, stub values.

        Examples
        --------
        >>> import pandas as pd
        >>> t = Table(pd.DataFrame({"v": [1, 2, 3]})).tab_row_group("Fin", [2])
        >>> [(s.label, len(s.rows)) for s in t.render().sections]
        [(None, 2), ('Fin', 1)]
        """
        if self.groupname_col is not None:
            raise ConfigError("Use either groupname_col or tab_row_group(), not both.")
        positions: list[int] = []
        stub_values = list(self.data[self.rowname_col]) if self.rowname_col else []
        for r in rows:
            if self.rowname_col and r in stub_values:
                positions.extend(i for i, v in enumerate(stub_values) if v == r)
            elif isinstance(r, int | np.integer) and not isinstance(r, bool) and 0 <= r < len(self.data):
                positions.append(int(r))
            else:
                raise InputError(
                    f"Row group {label!r}: unknown row.", value=r,
                    expected="a row position or a stub value",
                )
        taken = {p for g in self.row_groups for p in g.rows}
        clash = sorted(taken & set(positions))
        if clash:
            raise ConfigError(f"Row group {label!r}: row(s) {clash} already belong to another group.")
        return self._new(row_groups=self.row_groups + (_RowGroup(str(label), tuple(positions)),))

    def tab_note(self, text: str) -> Table:
        """Add text to the general note (APA: ``Note.`` paragraph under the table).

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"a": [1]})).tab_note("Données pondérées.").render().notes[0].plain()
        'Note. Données pondérées.'
        """
        if not str(text).strip():
            return self
        return self._new(notes=self.notes + (str(text),))

    def tab_source(self, text: str) -> Table:
        """Set the source line (``Source : ...``), shown last under the table.

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"a": [1]})).tab_source("Enquête 2026.").with_locale("en").render().notes[-1].plain()
        'Source: Enquête 2026.'
        """
        return self._new(source=str(text))

    def tab_label(self, label: str) -> Table:
        """Set the LaTeX ``\\label`` (e.g. ``"tab:flux"``).

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"a": [1]})).tab_label("tab:a").render().label
        'tab:a'

        Raises
        ------
        ConfigError
            If the label has characters LaTeX labels cannot hold (spaces, braces, ``%``...).
        """
        label = str(label)
        if not re.fullmatch(r"[A-Za-z0-9:._/+-]+", label):
            raise ConfigError(
                f"LaTeX label {label!r}: use letters, digits and : . _ / + - only (e.g. 'tab:flux')."
            )
        return self._new(label=label)

    def with_locale(self, locale: str | Locale) -> Table:
        """Return the table rendered in another locale (``"fr"`` or ``"en"``).

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"a": [1.5]})).with_locale("en").render().body_text()
        [['1.50']]
        """
        loc = get_locale(locale)
        if loc.missing != get_locale(loc.code).missing:
            return self._new(locale=loc)
        return self._new(locale=loc.with_missing(self.locale.missing))

    def sub_missing(self, missing_text: str = "\u2014") -> Table:
        """Show missing values as `missing_text` (default an em dash).

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"a": [None, 1.0]})).sub_missing("n.d.").render().body_text()
        [['n.d.'], ['1,00']]
        """
        return self._new(locale=self.locale.with_missing(str(missing_text)))

    # ------------------------------------------------------------------ cols_*
    def cols_label(self, labels: Mapping[str, str] | None = None, **kwargs: str) -> Table:
        """Set the labels shown in the header for some columns.

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"n": [1]})).cols_label({"n": "Effectif"}).render().column_labels
        ('Effectif',)
        """
        merged = dict(labels or {}) | kwargs
        self._check(list(merged))
        current = dict(self.labels) | {str(k): str(v) for k, v in merged.items()}
        return self._new(labels=tuple(current.items()))

    def cols_hide(self, columns: str | Iterable[str]) -> Table:
        """Hide columns (they stay usable, e.g. as the p-value column of ``fmt_stars``).

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"a": [1], "p": [0.5]})).cols_hide("p").render().column_labels
        ('a',)
        """
        cols = self._check(columns)
        return self._new(hidden=self.hidden + tuple(c for c in cols if c not in self.hidden))

    def cols_align(self, align: str, columns: str | Iterable[str] | None = None) -> Table:
        """Align columns ``"left"``, ``"center"`` or ``"right"`` (default: all columns).

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"a": [1], "b": ["x"]})).cols_align("center", "a").render().alignments
        ('c', 'l')
        """
        code = {"left": "l", "center": "c", "right": "r"}.get(align)
        if code is None:
            raise ConfigError(f"cols_align: align must be 'left', 'center' or 'right', got {align!r}.")
        cols = tuple(self.data.columns) if columns is None else self._check(columns)
        current = dict(self.aligns) | {c: code for c in cols}
        return self._new(aligns=tuple(current.items()))

    # ------------------------------------------------------------------ fmt_*
    def fmt_number(
        self, columns: str | Iterable[str] | None = None, decimals: int = 2, *, leading_zero: bool = True,
        rows: Iterable[Hashable] | None = None,
    ) -> Table:
        """Format numbers with fixed decimals (``leading_zero=False`` for APA ``.45``).

        ``rows``: only these rows (index labels of the data), for a column that mixes
        quantities bounded by 1 and others; the last format given for a cell wins.

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"r": [0.456]})).fmt_number("r", 2, leading_zero=False).render().body_text()
        [[',46']]
        >>> t = Table(pd.DataFrame({"b": [0.456, 1.5]})).fmt_number("b").fmt_number("b", leading_zero=False, rows=[0])
        >>> t.render().body_text()
        [[',46'], ['1,50']]
        """
        if decimals < 0:
            raise ConfigError(f"decimals must be >= 0, got {decimals}.")
        fmt = _Format("number", self._resolve(columns), decimals=decimals, leading_zero=leading_zero,
                      rows=None if rows is None else frozenset(rows))
        return self._new(formats=self.formats + (fmt,))

    def fmt_integer(self, columns: str | Iterable[str] | None = None) -> Table:
        """Format counts as whole numbers with grouped thousands.

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"n": [12000.0]})).fmt_integer("n").render().body_text()
        [['12\\u202f000']]
        """
        return self._new(formats=self.formats + (_Format("integer", self._resolve(columns), 0),))

    def fmt_percent(
        self, columns: str | Iterable[str] | None = None, decimals: int = 1, *, scale_values: bool = True
    ) -> Table:
        """Format shares as percentages (``scale_values=False`` if already in 0-100).

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"p": [0.5]})).fmt_percent("p", 0).render().body_text()
        [['50\\u202f%']]
        """
        if decimals < 0:
            raise ConfigError(f"decimals must be >= 0, got {decimals}.")
        fmt = _Format("percent", self._resolve(columns), decimals=decimals, scale_values=scale_values)
        return self._new(formats=self.formats + (fmt,))

    def fmt_pvalue(self, columns: str | Iterable[str] | None = None, decimals: int = 3) -> Table:
        """Format p-values APA style (no leading zero; ``< ,001`` in French).

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"p": [0.0001, 0.04]})).fmt_pvalue("p").render().body_text()
        [['< ,001'], [',040']]
        """
        if decimals < 1:
            raise ConfigError(f"p-values need at least one decimal, got {decimals}.")
        return self._new(formats=self.formats + (_Format("pvalue", self._resolve(columns), decimals),))

    def fmt(self, columns: str | Iterable[str], fn: Formatter, *, numeric: bool = False) -> Table:
        """Format cells with a function ``fn(value, locale) -> str`` (text in spreadsheets).

        ``numeric=True`` marks the results as number-like (right-aligned by default).

        Examples
        --------
        >>> import pandas as pd
        >>> t = Table(pd.DataFrame({"a": [2]})).fmt("a", lambda v, loc: f"[{v}]")
        >>> t.render().body_text()
        [['[2]']]
        """
        if not callable(fn):
            raise ConfigError("fmt() needs a function fn(value, locale) -> str.")
        fmt = _Format("custom", self._check(columns), fn=fn, numeric=numeric)
        return self._new(formats=self.formats + (fmt,))

    def fmt_stars(
        self,
        p_col: str,
        columns: str | Iterable[str] | None = None,
        levels: Sequence[float] = DEFAULT_LEVELS,
    ) -> Table:
        """Append significance stars from the p-values in `p_col`, and a legend note.

        Parameters
        ----------
        p_col : str
            Column of p-values (may be hidden with ``cols_hide``).
        columns : str or list of str, optional
            Columns that get the stars; default the column just left of `p_col`.
        levels : sequence of float, default (0.05, 0.01, 0.001)
            One more star below each level (given in decreasing order).

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"b": [0.5, 0.1], "p": [0.002, 0.3]})
        >>> r = Table(df).fmt_number("b").fmt_stars("p").cols_hide("p").render()
        >>> r.body_text(), r.notes[-1].text
        ([['0,50**'], ['0,10']], '*p < ,05. **p < ,01. ***p < ,001.')
        """
        self._check(p_col)
        lev = _check_levels(levels)
        if columns is None:
            pos = list(self.data.columns).index(p_col)
            if pos == 0:
                raise ConfigError(f"fmt_stars: no column left of {p_col!r}; give columns=.")
            cols: tuple[str, ...] = (self.data.columns[pos - 1],)
        else:
            cols = self._check(columns)
        if self.star_levels is not None and self.star_levels != lev:
            raise ConfigError("All star markings of one table must use the same levels.")
        return self._new(stars=self.stars + (_Stars(p_col, cols, lev),), star_levels=lev)

    def tab_stars_note(self, levels: Sequence[float] = DEFAULT_LEVELS) -> Table:
        """Add the legend of stars computed elsewhere (e.g. by ``model_table``).

        ``fmt_stars`` adds it by itself; the legend is written once, in the table's locale.

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"a": ["1*"]})).tab_stars_note((0.05,)).render().notes[0].text
        '*p < ,05.'
        """
        lev = _check_levels(levels)
        if self.star_levels is not None and self.star_levels != lev:
            raise ConfigError("All star markings of one table must use the same levels.")
        return self._new(star_levels=lev)

    # ------------------------------------------------------------------ rendering
    def _visible_columns(self) -> list[str]:
        cols = [c for c in self.data.columns if c not in self.hidden and c != self.groupname_col]
        if self.rowname_col is not None and self.rowname_col in cols:
            cols.remove(self.rowname_col)
            cols.insert(0, self.rowname_col)
        return cols

    def _format_cell(self, column: str, value: object, loc: Locale, row: Hashable = None) -> Cell:
        fmt = None
        for f in self.formats:
            if column in f.columns and (f.rows is None or row in f.rows):
                fmt = f  # the last one wins
        if isinstance(value, np.generic):
            value = value.item()
        if is_missing(value):
            return Cell(loc.missing, None, fmt is not None, None)
        if fmt is not None and fmt.kind == "custom":
            assert fmt.fn is not None
            text = str(fmt.fn(value, loc))
            return Cell(text, text, fmt.numeric, None)
        is_num = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_num:  # text in a formatted column (e.g. a suppression marker) aligns as numbers
            text = _typo(loc)(str(value))
            return Cell(text, text, fmt is not None, None)
        if fmt is None:
            if isinstance(value, int):  # unformatted integers (years, codes) are not grouped
                return Cell(format_number(value, 0, loc, sep_mark=False), value, True, "0")
            return Cell(format_number(value, 2, loc), value, True, "#,##0.00")
        d = fmt.decimals
        frac = "." + "0" * d if d > 0 else ""
        if fmt.kind == "integer":
            return Cell(format_integer(value, loc), value, True, "#,##0")
        if fmt.kind == "number":
            lead = "#,##0" if fmt.leading_zero else "#,###"
            return Cell(format_number(value, d, loc, leading_zero=fmt.leading_zero), value, True, lead + frac)
        if fmt.kind == "percent":
            share = value if fmt.scale_values else value / 100.0
            text = format_percent(value, d, loc, scale_values=fmt.scale_values)
            return Cell(text, share, True, "0" + frac + "%")
        if fmt.kind == "pvalue":
            text = format_pvalue(value, d, loc)
            if text.startswith(loc.less_than):
                return Cell(text, text, True, None)
            return Cell(text, value, True, "#" + frac if value < 1 else "0" + frac)
        raise AssertionError(fmt.kind)  # pragma: no cover

    def _row_order(self) -> list[tuple[str | None, list[int]]]:
        n = len(self.data)
        if self.groupname_col is not None:
            order: dict[object, list[int]] = {}
            for i, g in enumerate(self.data[self.groupname_col]):
                key = None if is_missing(g) else g
                order.setdefault(key, []).append(i)
            return [(None if k is None else str(k), v) for k, v in order.items()]
        if not self.row_groups:
            return [(None, list(range(n)))]
        grouped = {p for g in self.row_groups for p in g.rows}
        out: list[tuple[str | None, list[int]]] = []
        rest = [i for i in range(n) if i not in grouped]
        if rest:
            out.append((None, rest))
        out.extend((g.label, sorted(g.rows)) for g in self.row_groups)
        return out

    def _spanner_rows(self, visible: list[str]) -> tuple[tuple[HeaderSpan, ...], ...]:
        if not self.spanners:
            return ()
        top = max(s.level for s in self.spanners)
        rows = []
        for level in range(top, -1, -1):
            spans = []
            for sp in self.spanners:
                if sp.level != level:
                    continue
                pos = sorted(visible.index(c) for c in sp.columns if c in visible)
                if not pos:
                    continue
                if pos != list(range(pos[0], pos[-1] + 1)):
                    raise ConfigError(
                        f"Spanner {sp.label!r}: its columns {list(sp.columns)} are not adjacent "
                        "in the table; reorder the DataFrame columns."
                    )
                spans.append(HeaderSpan(sp.label, pos[0], pos[-1] + 1))
            rows.append(tuple(sorted(spans, key=lambda s: s.start)))
        return tuple(r for r in rows if r)

    def _cell_values(self, columns: list[str]):
        """``at(i, column)``: the value of ``self.data.at[i, column]``, without pandas's per-cell cost.

        With the usual 0, 1, ... index and unique column names, each column is
        converted once to a list (numpy scalars become Python ones, which
        :meth:`_format_cell` does anyway); otherwise ``DataFrame.at`` itself.
        """
        data = self.data
        index = data.index
        if (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
                and data.columns.is_unique):
            values = {c: data[c].tolist() for c in dict.fromkeys(columns) if c in data.columns}
            return lambda i, c: values[c][i] if c in values else data.at[i, c]
        return lambda i, c: data.at[i, c]

    def render(self) -> RenderedTable:
        """Format every cell for the table's locale and return the :class:`RenderedTable`.

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"a": [1]})).render().column_labels
        ('a',)
        """
        loc = self.locale
        fix = _typo(loc)
        visible = self._visible_columns()
        if not visible:
            raise ConfigError("The table has no visible column.")
        labels = dict(self.labels)
        star_map: dict[str, list[str]] = {}
        for s in self.stars:
            for c in s.columns:
                star_map.setdefault(c, []).append(s.p_col)
        sections = []
        at = self._cell_values([*visible, *(p for ps in star_map.values() for p in ps)])
        for glabel, positions in self._row_order():
            rows = []
            for i in positions:
                cells = []
                for c in visible:
                    cell = self._format_cell(c, at(i, c), loc, i)
                    if c in star_map:
                        st = "".join(stars_for(at(i, p), self.star_levels or DEFAULT_LEVELS) for p in star_map[c])
                        if st:
                            cell = Cell(cell.text + st, cell.text + st, cell.numeric, None)
                    cells.append(cell)
                rows.append(tuple(cells))
            sections.append(BodySection(None if glabel is None else fix(glabel), tuple(rows)))
        numeric = []
        for j, c in enumerate(visible):
            if c == self.rowname_col:
                numeric.append(False)
                continue
            cells = [row[j] for s in sections for row in s.rows]
            filled = [x for x in cells if x.text != loc.missing]
            numeric.append(bool(filled) and all(x.numeric for x in filled))
        aligns = dict(self.aligns)
        alignments = tuple(aligns.get(c, "r" if num else "l") for c, num in zip(visible, numeric))
        notes: list[NoteLine] = []
        if self.notes:
            notes.append(NoteLine(loc.note_label, fix(" ".join(n.strip() for n in self.notes))))
        if self.star_levels is not None:
            notes.append(NoteLine(None, stars_legend(self.star_levels, loc), legend=True))
        if self.source:
            notes.append(NoteLine(loc.source_label, fix(self.source.strip())))
        return RenderedTable(
            number_text=f"{loc.table_label} {self.number}" if self.number is not None else None,
            title=None if self.title is None else fix(self.title),
            subtitle=None if self.subtitle is None else fix(self.subtitle),
            spanner_rows=tuple(
                tuple(HeaderSpan(fix(s.label), s.start, s.stop) for s in row)
                for row in self._spanner_rows(visible)
            ),
            column_labels=tuple(fix(labels.get(c, c)) for c in visible),
            numeric_columns=tuple(numeric),
            alignments=alignments,
            has_stub=self.rowname_col is not None,
            sections=tuple(sections),
            notes=tuple(notes),
            label=self.label,
            locale=loc,
        )

    def to_frame(self) -> pd.DataFrame:
        """The table as shown: a DataFrame of text with the header labels as columns.

        Row-group labels go to a first column ``group`` when there are groups.

        Examples
        --------
        >>> import pandas as pd
        >>> Table(pd.DataFrame({"a": [0.5]})).fmt_number("a", 1).to_frame()
             a
        0  0,5
        """
        r = self.render()
        rows = []
        grouped = any(s.label for s in r.sections)
        for s in r.sections:
            for row in s.rows:
                texts = [c.text for c in row]
                rows.append(([s.label or ""] if grouped else []) + texts)
        cols = (["group"] if grouped else []) + list(r.column_labels)
        if len(set(cols)) != len(cols):
            cols = [f"{c} ({i})" if cols.count(c) > 1 else c for i, c in enumerate(cols)]
        return pd.DataFrame(rows, columns=cols)

    def _repr_html_(self) -> str:
        from analysis.tables.render_html import to_html

        return to_html(self)

    def __repr__(self) -> str:
        r = self.render()
        head = r.caption_text() or "Table"
        return f"<Table {head!r}: {r.n_body_rows} rows x {r.n_columns} columns, locale={r.locale.code}>"

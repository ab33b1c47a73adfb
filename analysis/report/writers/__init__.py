"""Writers of the report, one module per output format, and their registry.

:data:`WRITERS` maps a format name (``--formats``) to its :class:`Writer`; it is
written out here, nothing registers itself on import. A new output format is one
module of this folder with a ``WRITER`` and one line of :data:`WRITERS`.
:mod:`.results` writes the results CSVs (always, whatever the formats).

Examples
--------
>>> from analysis.report.writers import ALL_FORMATS, WRITERS
>>> ALL_FORMATS
('docx', 'tex', 'html', 'md', 'xlsx')
>>> [name for name, w in WRITERS.items() if w.per_table is not None]
['docx', 'tex', 'md']
"""

from __future__ import annotations

from analysis.report.writers import docx, html, md, tex, xlsx
from analysis.report.writers._base import Writer

__all__ = ["Writer", "WRITERS", "ALL_FORMATS"]

#: Format name -> writer, in the order the files are written.
WRITERS: dict[str, Writer] = {
    "docx": docx.WRITER,
    "tex": tex.WRITER,
    "html": html.WRITER,
    "md": md.WRITER,
    "xlsx": xlsx.WRITER,
}

#: Every output format of the tables.
ALL_FORMATS: tuple[str, ...] = tuple(WRITERS)

"""Page layout rules of the report."""

from __future__ import annotations

#: Usable text width of a portrait page of the Word template (cm), and the table font size.
_PORTRAIT_CM = 16.5
_TABLE_FONT = 10.0


def _natural_width_cm(table, font_size: float = _TABLE_FONT) -> float:
    """Width the Word writer needs for `table` without wrapping (its own rule), the stub
    allowed to wrap down to 4.5 cm."""
    r = table.render() if hasattr(table, "render") else table
    char = 0.19 * font_size / 10
    pad = 0.35
    longest = [len(x) for x in r.column_labels]
    for s in r.sections:
        for row in s.rows:
            for j, c in enumerate(row):
                longest[j] = max(longest[j], len(c.text))
    widths = [char * n + pad for n in longest]
    for spans in r.spanner_rows:
        for span in spans:
            need = char * len(span.label) + pad
            have = sum(widths[span.start:span.stop])
            if need > have:
                for j in range(span.start, span.stop):
                    widths[j] += (need - have) / span.width
    wraps = [0] if r.has_stub else [j for j, a in enumerate(r.alignments) if a == "l"]
    for j in wraps[:1]:
        widths[j] = min(widths[j], 4.5)
    return float(sum(widths))


def _too_wide(table) -> bool:
    return _natural_width_cm(table) > _PORTRAIT_CM

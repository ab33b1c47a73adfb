"""Byte-stable zip archives (docx, xlsx) for the table writers.

Examples
--------
>>> FIXED_TIMESTAMP.year
2026
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

__all__ = ["FIXED_TIMESTAMP", "stable_zip"]

#: Date written into docx/xlsx properties and zip entries so that output is byte-stable.
FIXED_TIMESTAMP = datetime(2026, 1, 1, 0, 0, 0)


_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def stable_zip(data: bytes) -> bytes:
    """Rewrite a zip archive (docx, xlsx) with fixed entry dates, in the same entry order.

    The creation and modification dates of ``docProps/core.xml`` are set to
    :data:`FIXED_TIMESTAMP` too (openpyxl stamps the saving time there).

    Examples
    --------
    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as z:
    ...     z.writestr("a.xml", "<a/>")
    >>> z = zipfile.ZipFile(io.BytesIO(stable_zip(buf.getvalue())))
    >>> z.getinfo("a.xml").date_time
    (2026, 1, 1, 0, 0, 0)
    """
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = FIXED_TIMESTAMP.timetuple()[:6]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=stamp)
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o644 << 16
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                stamp_text = FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                payload = _CORE_DATES.sub(rb"\g<1>" + stamp_text + rb"\g<2>", payload)
            dst.writestr(new, payload)
    return out.getvalue()

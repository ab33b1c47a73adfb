"""The result of a cleaning run and how its files are written.

:class:`CleanResult` holds the analysis file and its audit trail in memory;
:meth:`CleanResult.write` writes them (``survey.parquet`` with the labels in
its schema metadata, ``labels.json``, ``cleaning_log.csv``, ``validation.csv``,
``flow.csv``, ``manifest.json``); :func:`write_link_table` writes the private
link table.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.utils.atomic import atomic_write_bytes, sha256_file

__all__ = ["CleanResult", "write_link_table", "csv_bytes", "json_bytes"]


@dataclass
class CleanResult:
    """The cleaned dataset and its audit trail (nothing written yet).

    Attributes
    ----------
    data : pandas.DataFrame
        ``survey.parquet``: one row per submission received, typed, with the
        flags and ``analysed`` (see the module notes).
    log : pandas.DataFrame
        One row per changed cell (:data:`LOG_COLUMNS`).
    flow : pandas.DataFrame
        The respondent flow: ``step``, ``description``, ``all``,
        ``association``, ``cooperative``, ``other`` (legal form missing or
        outside the two groups). ``received`` minus the excluded rows of each
        step equals ``analysed``, in every column.
    validation : pandas.DataFrame
        Every problem found (see :mod:`analysis.cleaning._validation`).
    manifest : dict
        Hashes of the raw files and the questionnaire files, code version, row counts.
    warnings : list of str
        Things worth the researcher's attention.
    labels : dict
        Labels of the columns and codes (``labels.json``).
    link : pandas.DataFrame
        ``resp_id`` <-> ``_uuid`` and personal data: **private**, never
        written by :meth:`write` (see :func:`write_link_table`).
    repeats : dict of str to pandas.DataFrame
        Repeat group name -> its table (``resp_id``, ``_index``,
        ``_parent_index``, the repeat's questions; personal columns removed),
        written as ``repeats/<name>.parquet``.
    """

    data: pd.DataFrame
    log: pd.DataFrame
    flow: pd.DataFrame
    validation: pd.DataFrame
    manifest: dict
    warnings: list = field(default_factory=list)
    labels: dict = field(default_factory=dict)
    link: pd.DataFrame | None = field(default=None, repr=False)
    repeats: dict = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The respondent flow (tidy table)."""
        return self.flow

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write the outputs into ``folder`` (the caller handles locking and staging).

        Returns
        -------
        dict of str to Path
            ``survey``, ``labels``, ``log``, ``validation``, ``flow``, ``manifest``.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        table = pa.Table.from_pandas(self.data, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[b"si_survey.labels"] = json.dumps(self.labels, ensure_ascii=False, sort_keys=True).encode()
        table = table.replace_schema_metadata(meta)
        p = out / "survey.parquet"
        pq.write_table(table, p, compression="zstd")
        paths["survey"] = p
        paths["labels"] = _write_bytes(out / "labels.json", json_bytes(self.labels))
        paths["log"] = _write_bytes(out / "cleaning_log.csv", csv_bytes(self.log))
        paths["validation"] = _write_bytes(out / "validation.csv", csv_bytes(self.validation))
        paths["flow"] = _write_bytes(out / "flow.csv", csv_bytes(self.flow))
        if self.repeats:
            (out / "repeats").mkdir(exist_ok=True)
            for name, frame in sorted(self.repeats.items()):
                rp = out / "repeats" / f"{name}.parquet"
                pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), rp, compression="zstd")
                paths[f"repeat:{name}"] = rp
        manifest = dict(self.manifest)
        manifest["outputs"] = {(f"repeats/{p.name}" if k.startswith("repeat:") else p.name): sha256_file(p)
                               for k, p in sorted(paths.items())}
        paths["manifest"] = _write_bytes(out / "manifest.json", json_bytes(manifest))
        return paths

    def summary(self) -> str:
        """One screen in plain words: files read, flow, problems, warnings."""
        m = self.manifest
        lines = ["", f"si-survey clean: {m['rows']['received']} submission(s) read from "
                     f"{len(m['raw_files'])} file(s); {m['rows']['analysed']} kept for analysis.", ""]
        lines.append("Respondent flow:")
        lines.append(self.flow.to_string(index=False))
        lines.append("")
        cells = int((self.log["change_type"] != "remove_column").sum()) if "change_type" in self.log else len(self.log)
        lines.append(f"Cells changed: {cells} (see cleaning_log.csv).")
        if cells < len(self.log):
            lines.append(f"Personal data removed: {len(self.log) - cells} log row(s) (hashes only, never the values).")
        if len(self.validation):
            counts = self.validation["rule"].value_counts().sort_index()
            lines.append(f"Problems found: {len(self.validation)} (see validation.csv): "
                         + ", ".join(f"{k} {v}" for k, v in counts.items()))
        else:
            lines.append("Problems found: none.")
        if self.warnings:
            lines.append("")
            lines.append(f"Warnings ({len(self.warnings)}):")
            lines.extend(f"  - {w}" for w in self.warnings[:12])
            if len(self.warnings) > 12:
                lines.append(f"  ... and {len(self.warnings) - 12} more (manifest.json)")
        return "\n".join(lines)


def _write_bytes(path: Path, data: bytes) -> Path:
    return atomic_write_bytes(path, data)


def json_bytes(obj) -> bytes:
    """``obj`` as UTF-8 JSON (sorted keys, one-space indent, final newline)."""
    return (json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True, default=_json_default) + "\n").encode()


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, Path):
        return str(o)
    return str(o)


def csv_bytes(df: pd.DataFrame) -> bytes:
    """``df`` as UTF-8 CSV, text cells quoted and formula-neutralised (safe to open in a spreadsheet)."""
    from analysis.tables import neutralize_formula_column

    d = df.copy(deep=False)  # columns are replaced, never modified in place
    for c in d.columns:
        if not (pd.api.types.is_numeric_dtype(d[c]) or pd.api.types.is_bool_dtype(d[c])):
            d[c] = neutralize_formula_column(d[c])
    # every text cell quoted: a bare carriage return inside a cell cannot split a row
    return d.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC).encode("utf-8")


def write_link_table(result: CleanResult, private_dir: str | Path = config.PRIVATE_DIR) -> Path:
    """Write the link table (``resp_id`` <-> ``_uuid`` <-> personal data) to ``private_dir``.

    The folder is git-ignored and must never be shared; the file is written
    atomically as ``link_table.csv``.
    """
    d = Path(private_dir)
    d.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(d / "link_table.csv", csv_bytes(result.link))

"""From raw exports to one analysis-ready dataset, with a full audit trail.

:func:`clean_data` reads the raw exports (:mod:`analysis.ingest._readers`), checks
them against the codebook (:mod:`analysis.cleaning._validation`), applies the rules of
:mod:`analysis.cleaning._rules` with the options of
``questionnaire/cleaning.yaml``, and returns a :class:`CleanResult` (in memory:
nothing is written). :func:`clean` also writes it, under a lock and through a
staging folder, to ``data/processed/``, and writes the link table
(pseudonymous id <-> personal data) to ``private/`` (git-ignored).

Order of the rules
------------------
1. read every file as text; unknown and missing columns reported;
2. text harmonised (NFC, trimmed, spaces collapsed);
3. timestamps (``start``, ``end``, ``_submission_time``) parsed to UTC;
4. numbers typed as text parsed; -98/-99 set missing (reason kept in the log);
5. skip logic evaluated on the answers as recorded (a "Je ne sais pas" code
   is an answer); region and province mapped to the official names;
   select_one codes checked (97/98/99 set missing with their reason;
   labels typed instead of codes mapped back; other values set missing);
6. "autre (précisez)" recoded through ``questionnaire/recode_other.csv``;
7. answers to questions the skip logic hides set missing;
8. out-of-range values and values breaking a cross-question constraint set
   missing (never clipped);
9. funding shares re-normalised within the tolerance, else set missing;
10. select_multiple answers split into 0/1 columns plus ``<question>_count``;
11. flags: test, duplicate, speeder, straightliner, ineligible, incomplete;
    ``analysed`` = no excluding flag;
12. derived columns: ``legal_form_group``, ``org_age``, ``duration_min``,
    ``resp_id``; personal columns removed.

The analysis file
-----------------
``survey.parquet`` holds **one row per submission received** (every row of
every raw file, in file order), with the flags and ``analysed``: analyses
use ``data[data["analysed"]]`` (one row per organisation), while the flow
table and sensitivity analyses can use the flagged rows. Types: Likert items
and numeric-coded choices (yes/no, ...) are float64 codes (1-5, 0/1) with NaN
for missing (97/98/99 and blanks); other choices are strings (codes);
numbers are float64; timestamps are UTC; flags are bool. Labels of every
column and code are in ``labels.json`` and in the parquet schema metadata
(key ``si_survey.labels``). Personal columns (codebook ``personal`` = True)
and the Kobo identifiers (``_uuid``, ``_id``, ``_index``...) are not in it;
``resp_id`` (see :func:`analysis.cleaning._rules.pseudonymous_id`) identifies
the submission.

Missing answers
---------------
"Je ne sais pas", "Refus" and "Sans objet" (codes 98/99/97, numeric codes
-98/-99, or the words typed) become missing; the reason is the rule of the
cell's row in ``cleaning_log.csv`` (``dont_know``, ``refused``,
``not_applicable``). No companion reason columns are added to the analysis
file: names such as ``si_nov_01_reason`` would be caught by item-prefix
selections (``si_nov_*``) in the scoring code.

The cleaning log
----------------
``cleaning_log.csv`` has one row per cell whose value in the analysis file
differs from the value as read (after the readers' representation changes:
headers, labels of a label export, encodings), with the rule(s) that changed
it. Cells of personal columns are never logged (the columns are removed).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis import config
from analysis.cleaning import _rules as R
from analysis.cleaning._validation import ProblemLog, RelevanceEvaluator
from analysis.errors import ConfigError, InputError
from analysis.ingest._readers import read_exports
from analysis.study._regions import match_provinces, match_regions
from analysis.utils.atomic import RunLock, atomic_write_bytes, sha256_file, staged_directory

__all__ = [
    "CleanResult",
    "clean",
    "clean_data",
    "default_raw_files",
    "load_cleaning_config",
    "write_link_table",
    "LOG_COLUMNS",
    "FLAG_COLUMNS",
    "FLOW_STEPS",
    "OUTPUT_FILES",
]

LOG_COLUMNS = ["file", "_uuid", "column", "old_value", "new_value", "rule"]
FLAG_COLUMNS = ["flag_duplicate", "flag_test", "flag_speeder", "flag_straightliner", "flag_ineligible",
                "flag_incomplete"]
#: Flow steps in order: (step, flag, description).
FLOW_STEPS = [
    ("duplicate", "flag_duplicate", "Doublons (même soumission ou même organisation)"),
    ("test", "flag_test", "Entretiens test ou pilotes"),
    ("speeder", "flag_speeder", "Entretiens trop rapides"),
    ("straightliner", "flag_straightliner", "Réponses identiques sur les grilles (straightlining)"),
    ("ineligible", "flag_ineligible", "Organisations non éligibles"),
    ("incomplete", "flag_incomplete", "Entretiens incomplets ou refus"),
]
OUTPUT_FILES = ("survey.parquet", "labels.json", "cleaning_log.csv", "validation.csv", "flow.csv", "manifest.json")
_DROP_SYSTEM = ("_id", "_uuid", "_index", "_notes", "_tags", "_status", "_submitted_by", "deviceid")
_DATETIME = ("start", "end", "_submission_time")
_CONFIG_NAME = "cleaning.yaml"


# --------------------------------------------------------------------------- config and inputs


def load_cleaning_config(path: str | Path | None = None) -> dict:
    """Read ``questionnaire/cleaning.yaml`` (see the comments in that file)."""
    p = Path(path) if path is not None else config.QUESTIONNAIRE_DIR / _CONFIG_NAME
    try:
        cfg = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"cleaning rules file '{p}' is missing") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"'{p}' is not valid YAML: {exc}") from None
    if not isinstance(cfg, dict):
        raise ConfigError(f"'{p}' must hold a mapping of options")
    cfg["_path"] = str(p)
    return cfg


def _recode_table(cfg: dict, qdir: Path) -> pd.DataFrame:
    name = cfg.get("recode_other")
    if not name:
        return pd.DataFrame(columns=["question", "text", "code"])
    p = qdir / name
    if not p.exists():
        raise ConfigError(f"recode table '{p}' named in {_CONFIG_NAME} is missing")
    t = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
    for c in ("question", "text", "code"):
        if c not in t.columns:
            raise ConfigError(f"recode table '{p}' has no column '{c}'")
    return t


_INSTRUMENT_CACHE: dict = {}


def _instrument(qdir: Path):
    """(questionnaire, codebook, header map), cached while the questionnaire files are unchanged."""
    from analysis.ingest._readers import header_map
    from analysis.study._instrument import codebook as make_codebook
    from analysis.study._instrument import load_questionnaire

    stamp = tuple((n, (qdir / n).stat().st_mtime_ns if (qdir / n).exists() else 0)
                  for n in ("survey.csv", "choices.csv", "settings.csv", "constructs.yaml"))
    key = (str(qdir.resolve()), stamp)
    if key not in _INSTRUMENT_CACHE:
        q = load_questionnaire(qdir)
        cb = make_codebook(q)
        _INSTRUMENT_CACHE.clear()
        _INSTRUMENT_CACHE[key] = (q, cb, header_map(cb, q))
    return _INSTRUMENT_CACHE[key]


def default_raw_files(folder: str | Path | None = None) -> list[Path]:
    """The raw exports of ``data/raw/demo/`` (files named ``truth*`` and hidden files excluded)."""
    d = Path(folder) if folder is not None else config.DEMO_RAW_DIR
    if not d.exists():
        return []
    exts = {".csv", ".xlsx", ".sav", ".zsav", ".dta", ".txt", ".tsv"}
    return sorted(p for p in d.iterdir()
                  if p.is_file() and not p.name.startswith(("truth", ".")) and p.suffix.lower() in exts)


# --------------------------------------------------------------------------- result


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
    """

    data: pd.DataFrame
    log: pd.DataFrame
    flow: pd.DataFrame
    validation: pd.DataFrame
    manifest: dict
    warnings: list = field(default_factory=list)
    labels: dict = field(default_factory=dict)
    link: pd.DataFrame | None = field(default=None, repr=False)

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
        paths["labels"] = _write_bytes(out / "labels.json", _json_bytes(self.labels))
        paths["log"] = _write_bytes(out / "cleaning_log.csv", _csv_bytes(self.log))
        paths["validation"] = _write_bytes(out / "validation.csv", _csv_bytes(self.validation))
        paths["flow"] = _write_bytes(out / "flow.csv", _csv_bytes(self.flow))
        manifest = dict(self.manifest)
        manifest["outputs"] = {p.name: sha256_file(p) for k, p in sorted(paths.items())}
        paths["manifest"] = _write_bytes(out / "manifest.json", _json_bytes(manifest))
        return paths

    def summary(self) -> str:
        """One screen in plain words: files read, flow, problems, warnings."""
        m = self.manifest
        lines = ["", f"si-survey clean: {m['rows']['received']} submission(s) read from "
                     f"{len(m['raw_files'])} file(s); {m['rows']['analysed']} kept for analysis.", ""]
        lines.append("Respondent flow:")
        lines.append(self.flow.to_string(index=False))
        lines.append("")
        lines.append(f"Cells changed: {len(self.log)} (see cleaning_log.csv).")
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


def _json_bytes(obj) -> bytes:
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


def _csv_bytes(df: pd.DataFrame) -> bytes:
    from analysis.tables import neutralize_formula_column

    d = df.copy(deep=False)  # columns are replaced, never modified in place
    for c in d.columns:
        if not (pd.api.types.is_numeric_dtype(d[c]) or pd.api.types.is_bool_dtype(d[c])):
            d[c] = neutralize_formula_column(d[c])
    # every text cell quoted: a bare carriage return inside a cell cannot split a row
    return d.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC).encode("utf-8")


# --------------------------------------------------------------------------- change registry


class _Changes:
    """Which rule touched which cells (sparse); the log itself is built from the final diff."""

    def __init__(self, n: int):
        self.n = n
        self.parts: dict[str, list] = {}

    def add(self, column: str, mask, rule: str) -> None:
        pos = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(pos):
            self.parts.setdefault(column, []).append((pos, rule))

    def rules(self, column: str, positions: np.ndarray) -> np.ndarray:
        out = np.full(len(positions), "", dtype=object)
        for pos, rule in self.parts.get(column, []):
            hit = np.isin(positions, pos, assume_unique=False)
            out[hit] = np.where(out[hit] == "", rule, out[hit] + "; " + rule)
        return out


def _code_dtype(k: int) -> type:
    """The smallest signed integer type for the codes of ``k`` distinct values."""
    for t in (np.int8, np.int16, np.int32):
        if k < np.iinfo(t).max:
            return t
    return np.int64


def _S(x) -> pd.Series:
    """An object Series (no string-dtype inference: cheap for large arrays)."""
    return pd.Series(np.asarray(x, dtype=object), dtype=object)


def _to_float(x) -> np.ndarray:
    """Text cells -> float via their distinct values (NaN where not a plain number)."""
    codes, uniq = pd.factorize(x if isinstance(x, pd.Series) else _S(x))
    if len(uniq) == 0:
        return np.full(len(codes), np.nan)
    un = pd.to_numeric(pd.Series(np.asarray(uniq, dtype=object), dtype=object), errors="coerce").to_numpy(dtype=float)
    return np.where(codes >= 0, un[np.maximum(codes, 0)], np.nan)


def _str_array(x) -> pd.api.extensions.ExtensionArray:
    """Object cells -> pandas string array (``""`` = missing), built from the distinct values (fast)."""
    codes, uniq = pd.factorize(_S(x))
    u = np.asarray(uniq, dtype=object)
    u = np.where(u == "", None, u) if len(u) else u
    arr = pd.array(u, dtype="str") if len(u) else pd.array([None], dtype="str")
    return arr.take(codes, allow_fill=True)


def _num_text(v: np.ndarray) -> np.ndarray:
    out = np.full(len(v), "", dtype=object)
    ok = np.isfinite(v)
    if ok.any():
        vals = v[ok]
        integral = (vals == np.round(vals)) & (np.abs(vals) < 1e15)
        txt = np.empty(len(vals), dtype=object)
        txt[integral] = vals[integral].astype(np.int64).astype(str)
        txt[~integral] = [format(float(x), ".15g") for x in vals[~integral]]
        out[ok] = txt
    return out


# --------------------------------------------------------------------------- main


def clean_data(raw_paths: Sequence[str | Path] | None = None, progress: Callable[[str], None] | None = None, *,
               questionnaire_dir: str | Path | None = None, config_path: str | Path | None = None) -> CleanResult:
    """Read, validate and clean the raw exports (in memory; nothing is written).

    Parameters
    ----------
    raw_paths : sequence of path, optional
        Raw export files (default: :func:`default_raw_files`).
    progress : callable, optional
        Called with a short message at each step.
    questionnaire_dir : path, optional
        Folder of the questionnaire, ``cleaning.yaml`` and ``recode_other.csv``
        (default ``questionnaire/``).
    config_path : path, optional
        Another cleaning rules file.

    Returns
    -------
    CleanResult

    Raises
    ------
    InputError
        A raw file cannot be used (the message names the file, row and column).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.simulate import simulate_export
    >>> raw = pathlib.Path(tempfile.mkdtemp())
    >>> files = simulate_export(n=60, seed=3, out_dir=raw)
    >>> result = clean_data([files["export"]])
    >>> int(result.data["analysed"].sum()) <= 60
    True
    """
    say = progress or (lambda _m: None)
    qdir = Path(questionnaire_dir) if questionnaire_dir is not None else config.QUESTIONNAIRE_DIR
    cfg = load_cleaning_config(config_path or (qdir / _CONFIG_NAME))
    paths = [Path(p) for p in raw_paths] if raw_paths else default_raw_files()
    if not paths:
        raise InputError("no raw export to clean", file=config.DEMO_RAW_DIR,
                         expected="at least one export file (CSV, XLSX, SAV or DTA)")
    q, cb, hmap = _instrument(qdir)
    recode = _recode_table(cfg, qdir)
    say(f"reading {len(paths)} raw file(s)")
    raw, tables = read_exports(paths, cb, q, hmap=hmap)
    n = len(raw)
    if n == 0:
        raise InputError("the raw files hold no submission (header only)", file=paths[0],
                         expected="one line per submission under the header")
    warnings: list[str] = []
    for t in tables:
        warnings.extend(t.notes)

    cbi = cb.set_index("variable")
    personal = set(cb.loc[cb["personal"], "variable"])
    files = raw["_source_file"].to_numpy(dtype=object)
    rows = raw["_source_row"].to_numpy()

    # identifiers
    uuid = raw["_uuid"].astype(str).str.strip() if "_uuid" in raw else pd.Series([""] * n)
    no_uuid = (uuid == "").to_numpy()
    if no_uuid.any():
        uuid = uuid.where(~no_uuid, "row:" + raw["_source_file"].astype(str) + ":" + raw["_source_row"].astype(str))
        warnings.append(f"{int(no_uuid.sum())} row(s) without _uuid: identified by file and row instead")
    uuid_arr = uuid.to_numpy(dtype=object)
    V = ProblemLog(files, uuid_arr, rows, personal)
    C = _Changes(n)

    # 1. columns
    for t in tables:
        for c in t.unknown_columns:
            V.add_column(t.path.name, c, "unknown_column", "dropped from the analysis file")
        present = set(t.data.columns)
        for c in cb["variable"]:
            if c not in present and c not in ("_notes", "_tags", "_index", "_validation_status", "_status",
                                               "_submitted_by", "__version__", "_id"):
                V.add_column(t.path.name, c, "missing_column", "left empty")
    for c in cb["variable"]:
        if c not in raw.columns:
            raw[c] = ""
    known = [c for c in cb["variable"]]
    unknown_cols = [c for c in raw.columns if c not in cbi.index and c not in ("_source_file", "_source_row")]
    if unknown_cols:
        warnings.append(f"{len(unknown_cols)} unknown column(s) dropped: {', '.join(unknown_cols[:6])}"
                        + (" ..." if len(unknown_cols) > 6 else ""))

    # 2. text harmonised (values as read kept in `asread` for the final diff)
    say("validating and cleaning")
    # Memory: a column's cells are held as references to its distinct values (8 bytes a cell),
    # not as one Python string per cell; the codes in the smallest integer type.
    asread: dict[str, np.ndarray] = {}
    tcfg = cfg.get("text") or {}
    cur: dict[str, np.ndarray] = {}
    machine = {"_id", "_uuid", "_index", "_submission_time", "start", "end", "deviceid", "__version__",
               "_submitted_by", "_notes", "_tags", "_status"}
    fac: dict[str, tuple] = {}  # distinct values of each raw column (codes, uniques), reused below
    for c in known:
        codes, uniq = pd.factorize(raw[c])
        uniq = np.asarray(uniq, dtype=object)
        codes = codes.astype(_code_dtype(len(uniq)))
        asread[c] = uniq[codes] if len(uniq) else np.full(n, "", dtype=object)
        if c in personal or c in machine:
            if c in personal or not len(uniq):
                cur[c] = asread[c]
            else:
                stripped = pd.Series(uniq, dtype=object).str.strip().to_numpy(dtype=object)
                cur[c] = asread[c] if (stripped == uniq).all() else stripped[codes]
            continue
        fac[c] = (codes, uniq)
        newu = R.harmonise_text(pd.Series(uniq, dtype=object), form=tcfg.get("unicode_form", "NFC"),
                                collapse=bool(tcfg.get("collapse_spaces", True))).to_numpy(dtype=object)
        diff_u = newu != uniq
        if not diff_u.any():
            cur[c] = asread[c]
            continue
        cur[c] = newu[codes]
        C.add(c, diff_u[codes], "text_harmonised")

    # only the source columns are needed from here on (the values as read are in `asread`):
    # the raw cells are released (the tables keep their header only)
    raw = raw[["_source_file", "_source_row"]]
    table_rows = [len(t.data) for t in tables]  # for the manifest
    for t in tables:
        t.data = t.data.iloc[:0]
    types = cbi["type"].to_dict()
    final: dict[str, object] = {}

    def _uniq(c):
        """(codes, distinct values) of the column's current cells (from the raw column when unchanged)."""
        if c in fac and cur[c] is asread[c]:
            return fac[c]
        codes, uniq = pd.factorize(_S(cur[c]))
        return codes, np.asarray(uniq, dtype=object)

    # 3. timestamps
    tz = str(cfg.get("timezone", "+01:00"))
    dt: dict[str, pd.Series] = {}
    for c in _DATETIME:
        if c not in cur:
            continue
        vals, st = R.parse_datetimes(_S(cur[c]), naive_offset="+00:00" if c == "_submission_time" else tz)
        bad = st == "invalid"
        V.add(bad, c, cur[c], "invalid_date", "set missing")
        C.add(c, bad, "invalid_date")
        C.add(c, st == "reformatted", "date_format")
        dt[c] = vals
        final[c] = vals

    # 4. numbers
    ncfg = cfg.get("numbers") or {}
    numeric_cols = [c for c in known if types.get(c) in ("integer", "decimal", "calculate") and c not in personal]
    num: dict[str, np.ndarray] = {}
    num_status: dict[str, np.ndarray] = {}
    for c in numeric_cols:
        mc = [int(x) for x in str(cbi.at[c, "missing_codes"]).split(";") if x.strip()]
        ucodes, uniq = _uniq(c)
        uv, us = R.numeric_values(_S(uniq), missing_codes=(), dot_thousands=bool(ncfg.get("dot_thousands", True)))
        vals, st = (uv[ucodes], us[ucodes]) if len(uniq) else (np.full(n, np.nan), np.full(n, "empty", object))
        num_status[c] = st
        bad = st == "invalid"
        nonempty = int((st != "empty").sum())
        if bad.any() and bad.sum() == nonempty and nonempty >= 3 and types[c] != "calculate":
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"the column holds no number in any of its {nonempty} non-empty cells (wrong column, or an "
                "export of another form version?)", file=files[i], row=int(rows[i]), column=c, value=cur[c][i],
                expected=f"{types[c]} values",
            )
        V.add(bad, c, cur[c], "not_a_number", "set missing")
        C.add(c, bad, "not_a_number")
        C.add(c, st == "parsed", "number_text")
        for reason in ("dont_know", "refused", "not_applicable"):  # the words typed instead of a number
            C.add(c, st == reason, reason)
        num[c] = vals
        for code in mc:
            hit = vals == float(code)
            C.add(c, hit, R.MISSING_REASONS.get(str(code), "missing_code"))
        final[c] = np.where(np.isin(vals, [float(x) for x in mc]), np.nan, vals) if mc else vals.copy()

    # 5. skip logic evaluator on the answers as recorded
    multi = {c: list(q.choice_list(cbi.at[c, "list_name"])["name"]) for c in known if types.get(c) == "select_multiple"}
    years = dt.get("start")
    year = int(years.dt.year.max()) if years is not None and years.notna().any() else 2026
    opts = {}
    for c, codes in multi.items():
        ocols = [f"{c}/{k}" for k in codes]
        if all(o in cur for o in ocols) and any((cur[o] != "").any() for o in ocols):
            answered = cur[c] != ""
            opts[c] = (np.column_stack([cur[o] == "1" for o in ocols]) & answered[:, None], answered)
    ev = RelevanceEvaluator({c: cur[c] for c in known}, num, multi, n, today_year=year, options=opts)
    rel = {}
    for c in known:
        expr = cbi.at[c, "relevant"]
        rel[c] = ev.relevant(expr) if expr else np.ones(n, dtype=bool)

    # region and province
    rcfg = cfg.get("regions") or {}
    cutoff = float(rcfg.get("fuzzy_cutoff", 0.9))
    if "province" in cur and "province" not in personal:
        pm = match_provinces(cur["province"], fuzzy_cutoff=cutoff)
        prov = np.where(pd.isna(pm.codes), cur["province"], pm.codes).astype(object)
        unm = pm.status == "unmatched"
        V.add(unm, "province", cur["province"], "province_unmatched", "kept as written")
        C.add("province", (pm.status == "mapped") | (pm.status == "fuzzy"), "province_matched")
        final["province"] = prov
    if "region" in cur:
        rm = match_regions(cur["region"], provinces=cur.get("province"), fuzzy_cutoff=cutoff,
                           resolve_by_province=bool(rcfg.get("resolve_ambiguous_by_province", True)))
        amb = rm.status == "ambiguous"
        unm = rm.status == "unmatched"
        V.add(amb, "region", cur["region"], "region_ambiguous",
              "set missing (pre-2015 region split over several regions; the province does not decide)")
        V.add(unm, "region", cur["region"], "region_unmatched", "set missing")
        C.add("region", np.isin(rm.status, ["mapped", "fuzzy"]), "region_matched")
        C.add("region", rm.status == "resolved_by_province", "region_resolved_by_province")
        C.add("region", amb, "region_ambiguous")
        C.add("region", unm, "region_unmatched")
        final["region"] = np.where(pd.isna(rm.codes), "", rm.codes).astype(object)
        if amb.any():
            warnings.append(f"{int(amb.sum())} region(s) written with a pre-2015 name now split over several "
                            "regions, and no province to decide: left missing (validation.csv, region_ambiguous)")

    # select_one codes
    likert = set()
    for c in known:
        if types.get(c) != "select_one" or c in personal or c == "region":
            continue
        ch = q.choice_list(cbi.at[c, "list_name"])
        allowed = list(ch["name"])
        mcodes = [x for x in str(cbi.at[c, "missing_codes"]).split(";") if x.strip()]
        ucodes, uniq = _uniq(c)
        uvals, ust = R.choice_codes(_S(uniq), allowed, mcodes)
        uvals = uvals.to_numpy(dtype=object)
        if len(uniq):
            vals, st = uvals[ucodes], ust[ucodes]
        else:
            vals, st = np.full(n, "", dtype=object), np.full(n, "empty", dtype=object)
        row_level = bool((ust == "not_allowed").any())  # labels or bad codes: fixed cell by cell below
        bad = st == "not_allowed"
        if bad.any():  # a label typed instead of a code
            lut = {}
            kfr = R.fold_text(pd.Series(ch["label_fr"])).tolist()
            kar = R.fold_text(pd.Series(ch["label_ar"])).tolist()
            for code, fr, ar in zip(ch["name"], kfr, kar):
                lut[fr] = code
                lut[ar] = code
            key = R.fold_text(_S(cur[c][bad])).to_numpy(dtype=object)
            hit = np.array([k in lut for k in key], dtype=bool)
            pos = np.flatnonzero(bad)[hit]
            mapped = np.array([lut[k] for k in key[hit]], dtype=object)
            is_miss = np.isin(mapped, mcodes)
            vals[pos[~is_miss]] = mapped[~is_miss]
            st[pos[~is_miss]] = "ok"
            C.add(c, np.isin(np.arange(n), pos[~is_miss]), "label_to_code")
            for code in set(mapped[is_miss]):
                p2 = pos[is_miss][mapped[is_miss] == code]
                st[p2] = R.MISSING_REASONS.get(code, "missing_code")
            bad = st == "not_allowed"
            nonempty = int((st != "empty").sum())
            if bad.any() and bad.sum() == nonempty and nonempty >= 3:
                i = int(np.flatnonzero(bad)[0])
                raise InputError(
                    f"no cell of the column holds a code of the choice list '{cbi.at[c, 'list_name']}' "
                    "(wrong column, or an export of another form version?)", file=files[i], row=int(rows[i]),
                    column=c, value=cur[c][i], expected="codes " + ", ".join(allowed[:8]),
                )
            V.add(bad, c, cur[c], "not_allowed", "set missing")
            C.add(c, bad, "not_allowed")
        for reason in ("dont_know", "refused", "not_applicable"):
            C.add(c, st == reason, reason)
        num_codes = all(re.fullmatch(r"-?\d+", a) for a in allowed)
        if num_codes:
            likert.add(c)
            if row_level:
                final[c] = _to_float(vals)
            else:  # the same codes, as numbers, from the distinct values
                uf = _to_float(uvals)
                final[c] = uf[ucodes] if len(uniq) else np.full(n, np.nan)
        else:
            final[c] = vals

    # 6. "autre (précisez)"
    for qn, sub in recode.groupby("question", sort=False):
        other = f"{qn}_other"
        if qn not in final and types.get(qn) != "select_multiple":
            continue
        if other not in cur:
            continue
        multiple = types.get(qn) == "select_multiple"
        parent = _S(final[qn] if not multiple else cur[qn])
        new, hit = R.recode_other(parent, _S(cur[other]), sub, multiple=multiple)
        if hit.any():
            C.add(qn, hit, "recode_other")
            if multiple:
                cur[qn] = new.to_numpy(dtype=object)
            else:
                final[qn] = new.to_numpy(dtype=object)
            warnings.append(f"{qn}: {int(hit.sum())} 'autre (précisez)' answer(s) recoded through recode_other.csv")

    filled = {c: cur[c] != "" for c in known}  # answered cells as recorded (after harmonising)

    # 7. skip logic: answers to hidden questions
    for c in known:
        if c in personal or types.get(c) in ("system", "select_multiple_option") or c in _DATETIME:
            continue
        hidden = ~rel[c] & filled[c]
        if hidden.any():
            V.add(hidden, c, cur[c], "not_relevant", "set missing")
            C.add(c, hidden, "skip_logic")
            v = final.get(c)
            if v is None:
                final[c] = np.where(hidden, "", cur[c]).astype(object)
            elif isinstance(v, np.ndarray) and v.dtype.kind == "f":
                v[hidden] = np.nan
            else:
                v = np.asarray(v, dtype=object).copy()
                v[hidden] = ""
                final[c] = v
            if types.get(c) == "select_multiple":
                cur[c] = np.where(hidden, "", cur[c]).astype(object)

    # 8. ranges and cross-question constraints
    for c in numeric_cols:
        lo, hi = cbi.at[c, "min"], cbi.at[c, "max"]
        if c == "year_created":
            hi = float(year)
        v = final[c]
        oor = R.out_of_range(v, lo, hi)
        if oor.any():
            V.add(oor, c, cur[c], "out_of_range", "set missing")
            C.add(c, oor, "out_of_range")
            v[oor] = np.nan
    for c in numeric_cols:
        expr = cbi.at[c, "constraint"]
        if not expr or "${" not in expr:
            continue
        ok = ev.constraint(expr, c)
        bad = ~ok & np.isfinite(final[c]) & rel[c]
        if bad.any():
            V.add(bad, c, cur[c], "constraint", "set missing")
            C.add(c, bad, "constraint")
            final[c][bad] = np.nan
    for c in multi:
        expr = cbi.at[c, "constraint"]
        if expr:
            ok = ev.constraint(expr, c)
            V.add(~ok & (cur[c] != ""), c, cur[c], "constraint", "reported only")

    # 9. funding shares
    fcfg = cfg.get("funding") or {}
    prefix = fcfg.get("prefix", "fund_")
    fcols = [c for c in numeric_cols if c.startswith(prefix) and types.get(c) in ("integer", "decimal")]
    if fcols:
        mat = np.column_stack([final[c] for c in fcols])
        answered = np.column_stack([(cur[c] != "") for c in fcols]).any(axis=1) & rel[fcols[0]]
        mat[~answered] = np.nan
        new, st = R.funding_shares(mat, total=float(fcfg.get("total", 100)), tolerance=float(fcfg.get("tolerance", 2)))
        total_before = np.nansum(np.where(np.isnan(mat), 0, mat), axis=1)
        for j, c in enumerate(fcols):
            changed_re = (st == "renormalised") & (mat[:, j] != new[:, j]) & np.isfinite(mat[:, j])
            C.add(c, changed_re, "funding_renormalised")
            C.add(c, (st == "off_total") & (cur[c] != ""), "funding_off_total")
            final[c] = np.where(answered, new[:, j], final[c])
        first = fcols[0]
        V.add(st == "renormalised", first, total_before.astype(str), "funding_sum",
              f"re-normalised to {fcfg.get('total', 100)} (sum within the tolerance)")
        V.add(st == "off_total", first, total_before.astype(str), "funding_sum", "all shares of the row set missing")
        if "fund_total" in final:
            ft = np.where(answered & (st != "off_total"), np.nansum(np.nan_to_num(new, nan=0.0), axis=1), np.nan)
            ft = np.where(answered, ft, final["fund_total"])
            C.add("fund_total", ~np.isclose(ft, final["fund_total"], equal_nan=True), "fund_total_recomputed")
            final["fund_total"] = ft

    # 10. select_multiple
    multi_frames = {}
    for c, codes in multi.items():
        if c in personal:
            continue
        s = _S(cur[c])
        cs = set(codes)
        ucodes, uniq = pd.factorize(s)
        uok = np.array([all(x in cs for x in str(u).split()) for u in uniq], dtype=bool)
        toks_ok = uok[np.maximum(ucodes, 0)] if len(uniq) else np.ones(n, dtype=bool)
        bad = ~toks_ok & (s != "").to_numpy()
        if bad.any():
            V.add(bad, c, cur[c], "not_allowed", "unknown codes dropped")
            C.add(c, bad, "not_allowed")
            fixed = np.array([" ".join(x for x in str(u).split() if x in cs) for u in uniq], dtype=object)
            s = _S(np.where(toks_ok, s.to_numpy(dtype=object), fixed[np.maximum(ucodes, 0)]))
        final[c] = s.to_numpy(dtype=object)
        fr = R.split_multiple(s, codes, c)
        for oc in fr.columns:
            if oc in cur:
                rawnum = _to_float(cur[oc])
                diff = ~((rawnum == fr[oc].to_numpy()) | (np.isnan(rawnum) & np.isnan(fr[oc].to_numpy())))
                C.add(oc, diff, "select_multiple_rebuilt")
        multi_frames[c] = fr

    # 11. flags
    say("flagging tests, duplicates, speeders, straightliners")
    sub = dt.get("_submission_time", pd.Series(pd.NaT, index=range(n), dtype="datetime64[ms, UTC]"))
    tcols = ["interview_status", "_validation_status"] + list((cfg.get("tests") or {}).get("name_columns") or [])
    flag_test, _why_test = R.flag_tests(pd.DataFrame({k: _S(cur[k]) for k in tcols if k in cur}),
                                        cfg.get("tests") or {}, sub)
    dcfg = cfg.get("duplicates") or {}
    key_cols = [c for c in dcfg.get("organisation_key", []) if c in cur]
    key = _S([""] * n)
    if key_cols:
        parts = []
        for c in key_cols:
            v = final.get(c, cur[c]) if c not in personal else cur[c]
            parts.append(R.fold_text(_S(v)).to_numpy(dtype=object))
        empty_part = np.zeros(n, dtype=bool)
        for p in parts:
            empty_part |= p == ""
        contact = np.full(n, "", dtype=object)
        for c in dcfg.get("contact_columns", []):
            if c in cur:
                t = R.fold_text(_S(cur[c])).to_numpy(dtype=object)
                contact = np.where(contact == "", t, contact)
        joined = parts[0].copy()
        for p in parts[1:]:
            joined = joined + "|" + p
        joined = joined + "|" + contact
        key = _S(np.where(empty_part, "", joined))
    answers = [c for c in known if c not in _DROP_SYSTEM and not c.startswith("_") and c not in _DATETIME]
    complete = np.sum([filled[c] for c in answers], axis=0).astype(np.int64)
    ids = np.nan_to_num(_to_float(cur.get("_id", [""] * n)), nan=0.0)
    subs = np.asarray(sub.array.asi8, dtype=np.int64)  # NaT is the smallest int64: "earliest"
    # reception order: submission time, then _id (a rank, so that "latest" = largest)
    order_key = np.lexsort((ids, subs)).argsort().astype(float)
    flag_dup, kept_idx, dup_kind = R.flag_duplicates(_S(uuid_arr), key, complete, order_key, ~flag_test)
    scfg = cfg.get("speeders") or {}
    if "start" in dt and "end" in dt:
        dur = ((dt["end"] - dt["start"]).dt.total_seconds() / 60.0).to_numpy(dtype=float).copy()
    else:
        dur = np.full(n, np.nan)
    bad_dur = np.isfinite(dur) & (dur <= 0)
    if bad_dur.any():
        V.add(bad_dur, "end", cur.get("end", np.full(n, "")), "constraint", "duration not positive: not used")
        dur[bad_dur] = np.nan
    flag_speed, thr = R.flag_speeders(dur, fraction_of_median=float(scfg.get("fraction_of_median", 0.3)),
                                      min_minutes=scfg.get("min_minutes"))
    grids = _likert_grids(q, cb)
    lik_vals = {c: np.asarray(final[c], dtype=float) for g in grids.values() for c in g if c in final}
    stcfg = cfg.get("straightliners") or {}
    flag_straight, _share = R.flag_straightliners(lik_vals, grids, min_items=int(stcfg.get("min_items", 3)),
                                                  min_grids=int(stcfg.get("min_grids", 4)),
                                                  min_share_flat=float(stcfg.get("min_share_flat", 0.75)))
    ecfg = cfg.get("eligibility") or {}
    groups_map = cfg.get("legal_form_groups") or {}
    lf = np.asarray(final.get("legal_form", np.full(n, "", dtype=object)), dtype=object)
    lf_group = np.array([groups_map.get(x, "") if x else "" for x in lf], dtype=object) if n < 0 else \
        pd.Series(lf).map(lambda x: groups_map.get(x, "") if x else "").to_numpy(dtype=object)
    inel = np.zeros(n, dtype=bool)
    if "org_active" in cur and ecfg.get("org_active") is not None:
        inel |= (cur["org_active"] != "") & (cur["org_active"] != str(ecfg["org_active"]))
    if ecfg.get("require_legal_form_group", True):
        inel |= (lf != "") & (lf_group == "")
    incomplete = np.zeros(n, dtype=bool)
    if "consent" in cur and ecfg.get("consent") is not None:
        incomplete |= cur["consent"] != str(ecfg["consent"])
    req = [c for c in known if bool(cbi.at[c, "required"]) and types.get(c) not in ("system", "select_multiple_option")]
    if req:
        need = np.sum([rel[c] for c in req], axis=0)
        got = np.sum([rel[c] & filled[c] for c in req], axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(need > 0, got / np.maximum(need, 1), 1.0)
        incomplete |= share < float((cfg.get("incomplete") or {}).get("min_share_required", 0.8))
        for c in req:
            miss_req = rel[c] & ~filled[c] & ~incomplete
            V.add(miss_req, c, cur[c], "required_missing", "reported only")
    flags = {"flag_duplicate": flag_dup, "flag_test": flag_test, "flag_speeder": flag_speed,
             "flag_straightliner": flag_straight, "flag_ineligible": inel, "flag_incomplete": incomplete}
    excl = set(cfg.get("exclude") or [])
    analysed = np.ones(n, dtype=bool)
    for step, col, _d in FLOW_STEPS:
        if step in excl:
            analysed &= ~flags[col]

    # 12. the analysis file
    say("building the analysis file")
    # memory: what only the checks above needed goes before the analysis file is built
    del rel, filled, ev, num, num_status, opts, lik_vals, key
    data, labels = _assemble(raw, q, cb, cbi, known, personal, final, cur, multi_frames, likert, flags, analysed,
                             lf_group, dur, dt, uuid_arr, cfg, year)
    log = _build_log(data, known, personal, asread, C, uuid_arr, files, final, multi_frames, dt, fac, cur)
    flow = _flow(flags, analysed, lf_group, excl)
    link = _link_table(raw, personal, data["resp_id"], uuid_arr, asread)
    validation = V.frame()
    n_dup = int(flag_dup.sum())
    warnings.append(f"speeder threshold: {thr:.1f} minutes ({scfg.get('fraction_of_median', 0.3)} x median duration)")
    if n_dup:
        warnings.append(f"{n_dup} duplicate submission(s) dropped ({int((dup_kind == 'same_uuid').sum())} same _uuid, "
                        f"{int((dup_kind == 'same_organisation').sum())} same organisation)")
    if len(validation):
        counts = validation["rule"].value_counts().sort_index()
        warnings.append("validation: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    manifest = _manifest(tables, table_rows, paths, qdir, cfg, data, flow, personal, unknown_cols, thr)
    manifest["warnings"] = list(warnings)
    result = CleanResult(data=data, log=log, flow=flow, validation=validation, manifest=manifest,
                         warnings=warnings, labels=labels, link=link)
    result._dup_kept = kept_idx  # positions of kept rows (tests, audits)
    result._uuid = uuid_arr
    return result


def _likert_grids(q, cb) -> dict[str, list[str]]:
    """Innermost group -> Likert items (select_one on a 1-5 scale) in it."""
    likert = set(cb.loc[(cb["type"] == "select_one") & (cb["min"] == 1) & (cb["max"] == 5), "variable"])
    grids: dict[str, list[str]] = {}
    stack: list[str] = []
    for row in q.survey.itertuples(index=False):
        bt = row.base_type
        if bt in ("begin_group", "begin_repeat"):
            stack.append(row.name)
        elif bt in ("end_group", "end_repeat"):
            if stack:
                stack.pop()
        elif row.name in likert and stack:
            grids.setdefault(stack[-1], []).append(row.name)
    return grids


def _assemble(raw, q, cb, cbi, known, personal, final, cur, multi_frames, likert, flags, analysed, lf_group,
              dur, dt, uuid_arr, cfg, year):
    n = len(raw)
    cols: dict[str, object] = {}
    labels: dict[str, dict] = {}
    from analysis.study._instrument import LANG_AR, LANG_FR  # noqa: F401

    for c in known:
        if c in personal or c in _DROP_SYSTEM or types_of(cbi, c) == "select_multiple_option":
            continue
        t = types_of(cbi, c)
        info = {"label_fr": cbi.at[c, "label_fr"], "label_ar": cbi.at[c, "label_ar"], "type": t}
        if c in dt:
            cols[c] = dt[c].reset_index(drop=True)
        elif t in ("integer", "decimal", "calculate"):
            cols[c] = np.asarray(final[c], dtype=float)
        elif t == "select_one":
            ch = q.choice_list(cbi.at[c, "list_name"]) if cbi.at[c, "list_name"] else None
            if ch is not None:
                info["values"] = {str(k): {"fr": fr, "ar": ar} for k, fr, ar in zip(ch["name"], ch["label_fr"],
                                                                                      ch["label_ar"])}
            if c in likert:
                cols[c] = np.asarray(final[c], dtype=float)
                info["storage"] = "float64 codes; NaN = missing (97/98/99 and blanks)"
            else:
                cols[c] = _str_array(final[c])
        elif t == "select_multiple":
            cols[c] = _str_array(final[c])
            ch = q.choice_list(cbi.at[c, "list_name"])
            info["values"] = {str(k): {"fr": fr, "ar": ar} for k, fr, ar in zip(ch["name"], ch["label_fr"],
                                                                                  ch["label_ar"])}
            fr = multi_frames.get(c)
            labels[c] = info
            if fr is not None:
                for oc in fr.columns:
                    cols[oc] = fr[oc].to_numpy(dtype=float)
                    if oc.endswith("_count"):
                        labels[oc] = {"label_fr": f"{cbi.at[c, 'label_fr']} : nombre de réponses",
                                      "label_ar": cbi.at[c, "label_ar"], "type": "count"}
                    else:
                        labels[oc] = {"label_fr": cbi.at[oc, "label_fr"] if oc in cbi.index else oc,
                                      "label_ar": cbi.at[oc, "label_ar"] if oc in cbi.index else "",
                                      "type": "select_multiple_option", "values": {"1": {"fr": "Sélectionné"},
                                                                                   "0": {"fr": "Non sélectionné"}}}
            continue
        else:
            v = final.get(c, cur[c])
            cols[c] = _str_array(v)
        labels[c] = info
    if "region" in cols:
        from analysis.study._regions import REGIONS, REGIONS_AR

        labels["region"]["values"] = {k: {"fr": REGIONS[k], "ar": REGIONS_AR[k]} for k in REGIONS}
    start = dt.get("start")
    sy = cfg.get("survey_year")
    if "year_created" in cols:
        if sy:
            ref = np.full(n, float(sy))
        elif start is not None:
            ref = start.dt.year.to_numpy(dtype=float, na_value=np.nan)
        else:
            ref = np.full(n, float(year))
        cols["org_age"] = ref - np.asarray(cols["year_created"], dtype=float)
        labels["org_age"] = {"label_fr": "Âge de l'organisation (années, année de l'entretien - année de création)",
                             "label_ar": "عمر المنظمة (بالسنوات)", "type": "derived"}
    cols["legal_form_group"] = _str_array(lf_group)
    labels["legal_form_group"] = {"label_fr": "Groupe de forme juridique", "label_ar": "مجموعة الشكل القانوني",
                                  "type": "derived", "values": {"association": {"fr": "Association", "ar": "جمعية"},
                                                                "cooperative": {"fr": "Coopérative", "ar": "تعاونية"}}}
    cols["duration_min"] = dur
    labels["duration_min"] = {"label_fr": "Durée de l'entretien (minutes, fin - début)", "label_ar": "مدة المقابلة",
                              "type": "derived"}
    for k, v in flags.items():
        cols[k] = np.asarray(v, dtype=bool)
        labels[k] = {"label_fr": {"flag_duplicate": "Doublon", "flag_test": "Entretien test ou pilote",
                                  "flag_speeder": "Entretien trop rapide", "flag_straightliner": "Straightlining",
                                  "flag_ineligible": "Non éligible",
                                  "flag_incomplete": "Incomplet ou refus"}[k], "type": "flag"}
    cols["analysed"] = np.asarray(analysed, dtype=bool)
    labels["analysed"] = {"label_fr": "Retenu pour l'analyse", "type": "flag"}
    resp = R.pseudonymous_id(_S(uuid_arr))
    cols["resp_id"] = pd.array(resp.to_numpy(dtype=object), dtype="str")
    labels["resp_id"] = {"label_fr": "Identifiant pseudonyme de la soumission (SHA-256 du _uuid)", "type": "id"}
    cols["_source_file"] = _str_array(raw["_source_file"].to_numpy(dtype=object))
    cols["_source_row"] = raw["_source_row"].to_numpy(dtype=np.int64)
    labels["_source_file"] = {"label_fr": "Fichier brut d'origine", "type": "source"}
    labels["_source_row"] = {"label_fr": "Ligne dans le fichier brut (en-tête = 1)", "type": "source"}
    front = ["resp_id"]
    order = front + [c for c in cols if c not in front]
    # no copy: the columns are the arrays built above (a consolidated copy doubles the memory)
    data = pd.DataFrame({c: cols[c] for c in order}, copy=False)
    return data, labels


def types_of(cbi, c):
    return cbi.at[c, "type"] if c in cbi.index else "derived"


def _build_log(data, known, personal, asread, C: _Changes, uuid_arr, files, final, multi_frames, dt,
               fac=None, cur=None):
    cols_idx = {c: i for i, c in enumerate(data.columns)}
    acc = {k: [] for k in ("file", "_uuid", "column", "old_value", "new_value", "rule", "_pos", "_col")}
    for c in list(known) + [oc for fr in multi_frames.values() for oc in fr.columns if oc in asread]:
        if c in personal or c not in data.columns or c not in asread:
            continue
        old = asread[c]
        s = data[c]
        if c in dt:
            # same instant in another notation is not a change; reformatted or invalid cells are
            parts = C.parts.get(c, [])
            if not parts:
                continue
            changed = np.zeros(len(old), dtype=bool)
            for pos, _rule in parts:
                changed[pos] = True
            new = s.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3].fillna("").to_numpy(dtype=object)
            new = np.where(new != "", new + "Z", "").astype(object)
            v = None
        elif pd.api.types.is_float_dtype(s) or pd.api.types.is_integer_dtype(s):
            v = s.to_numpy(dtype=float)
            if fac and c in fac:
                codes, uniq = fac[c]
                un = pd.to_numeric(pd.Series(uniq, dtype=object), errors="coerce").to_numpy(dtype=float)
                rawnum = np.where(codes >= 0, un[np.maximum(codes, 0)], np.nan) if len(un) else np.full(len(old), np.nan)
            else:
                rawnum = _to_float(old)
            changed = ~((rawnum == v) | (np.isnan(rawnum) & np.isnan(v) & (old == "")))
            new = None
        else:
            src = final.get(c) if c in final else (cur.get(c) if cur is not None else None)
            if src is not None and np.asarray(src).dtype == object and len(src) == len(old):
                new = np.asarray(src, dtype=object)  # the values the column was built from ("" = missing)
            else:
                new = s.to_numpy(dtype=object, na_value="")
            changed = old != new
            v = None
        pos = np.flatnonzero(changed)
        if not len(pos):
            continue
        newv = _num_text(v[pos]) if new is None else np.asarray(new, dtype=object)[pos]
        rules = C.rules(c, pos)
        rules = np.where(rules == "", "other", rules).astype(object)
        k = len(pos)
        acc["file"].append(files[pos])
        acc["_uuid"].append(uuid_arr[pos])
        acc["column"].append(np.full(k, c, dtype=object))
        acc["old_value"].append(np.asarray(old, dtype=object)[pos])
        acc["new_value"].append(newv)
        acc["rule"].append(rules)
        acc["_pos"].append(pos)
        acc["_col"].append(np.full(k, cols_idx[c]))
    if not acc["file"]:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in LOG_COLUMNS})
    pos = np.concatenate(acc["_pos"])
    col = np.concatenate(acc["_col"])
    order = np.lexsort((col, pos))
    return pd.DataFrame({c: np.concatenate(acc[c])[order] for c in LOG_COLUMNS},
                        dtype=object)


def _flow(flags: dict, analysed: np.ndarray, lf_group: np.ndarray, excl: set) -> pd.DataFrame:
    groups = {"all": np.ones(len(analysed), dtype=bool), "association": lf_group == "association",
              "cooperative": lf_group == "cooperative"}
    groups["other"] = ~groups["association"] & ~groups["cooperative"]
    rows = [{"step": "received", "description": "Soumissions reçues",
             **{g: int(m.sum()) for g, m in groups.items()}}]
    remaining = np.ones(len(analysed), dtype=bool)
    for step, col, desc in FLOW_STEPS:
        hit = flags[col] & remaining if step in excl else np.zeros(len(analysed), dtype=bool)
        rows.append({"step": step, "description": desc, **{g: int((hit & m).sum()) for g, m in groups.items()}})
        remaining &= ~hit
    rows.append({"step": "analysed", "description": "Organisations retenues pour l'analyse",
                 **{g: int((remaining & m).sum()) for g, m in groups.items()}})
    return pd.DataFrame(rows, columns=["step", "description", "all", "association", "cooperative", "other"])


def _link_table(raw, personal, resp_id, uuid_arr, asread) -> pd.DataFrame:
    cols = {"resp_id": resp_id.to_numpy(dtype=object), "_uuid": uuid_arr,
            "_source_file": raw["_source_file"].to_numpy(dtype=object),
            "_source_row": raw["_source_row"].to_numpy()}
    for c, values in asread.items():  # the personal columns as read, in the codebook's order
        if c in personal:
            cols[c] = values
    return pd.DataFrame(cols, copy=False)


def write_link_table(result: CleanResult, private_dir: str | Path = config.PRIVATE_DIR) -> Path:
    """Write the link table (``resp_id`` <-> ``_uuid`` <-> personal data) to ``private_dir``.

    The folder is git-ignored and must never be shared; the file is written
    atomically as ``link_table.csv``.
    """
    d = Path(private_dir)
    d.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(d / "link_table.csv", _csv_bytes(result.link))


def _manifest(tables, table_rows, paths, qdir: Path, cfg: dict, data: pd.DataFrame, flow: pd.DataFrame, personal, unknown,
              thr) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    from analysis.utils.provenance import code_fingerprint

    try:
        ver = version("si-survey")
    except PackageNotFoundError:  # pragma: no cover
        ver = "unknown"
    qfiles = {}
    for name in ("survey.csv", "choices.csv", "settings.csv", "constructs.yaml", _CONFIG_NAME,
                 str(cfg.get("recode_other") or "")):
        p = qdir / name
        if name and p.is_file():
            qfiles[name] = sha256_file(p)
    raw_files = []
    for t, n_rows in zip(tables, table_rows):
        raw_files.append({"name": t.path.name, "sha256": sha256_file(t.path), "bytes": t.path.stat().st_size,
                          "format": t.format, "encoding": t.encoding, "delimiter": t.delimiter,
                          "rows": int(n_rows), "notes": t.notes})
    f = flow.set_index("step")["all"]
    return {
        "schema": 1,
        "raw_files": raw_files,
        "questionnaire": qfiles,
        "code": {"si_survey_version": ver, "fingerprint": code_fingerprint()},
        "rows": {"received": int(f["received"]), "analysed": int(f["analysed"]),
                 "columns": int(data.shape[1])},
        "speeder_threshold_minutes": float(thr),
        "personal_columns_removed": sorted(personal),
        "unknown_columns_dropped": list(unknown),
        "survey_parquet": "one row per submission received; analyse rows with analysed == True",
    }


def clean(raw_paths: Sequence[str | Path] | None = None, out_dir: str | Path = config.PROCESSED_DIR, *,
          private_dir: str | Path = config.PRIVATE_DIR, progress: Callable[[str], None] | None = None,
          questionnaire_dir: str | Path | None = None) -> CleanResult:
    """Clean the raw exports and write the outputs (``si-survey clean``).

    :func:`clean_data`, then the outputs are written to ``out_dir`` under a
    :class:`~analysis.utils.atomic.RunLock` through a staging folder (an error
    leaves the previous outputs untouched), then the link table is written
    atomically to ``private_dir``.

    Returns
    -------
    CleanResult

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.simulate import simulate_export
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> files = simulate_export(n=60, seed=3, out_dir=tmp / "raw")
    >>> result = clean([files["export"]], out_dir=tmp / "processed", private_dir=tmp / "private")
    >>> (tmp / "processed" / "survey.parquet").exists()
    True
    """
    result = clean_data(raw_paths, progress=progress, questionnaire_dir=questionnaire_dir)
    out = Path(out_dir)
    with RunLock(out), staged_directory(out) as stage:
        result.write(stage)
    write_link_table(result, private_dir)
    return result

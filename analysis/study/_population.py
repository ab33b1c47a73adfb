"""The study's population: known totals (``questionnaire/population.yaml``) and sampling frame.

* :func:`load_population_totals` - the known population counts, one Series per table, for
  :func:`analysis.survey.poststratify` / :func:`analysis.survey.rake`.
* :func:`population_recode` - detailed codes -> the cells of one table of ``population.yaml``.
* :func:`load_sampling_frame` - the strata sizes ``N`` (region x legal form) of
  ``questionnaire/sampling_frame.csv``.
* :func:`frame_design_weights` - design weights ``N_h / n_h`` for the frame's strata.

The survey engine (:mod:`analysis.survey`) takes these as DataFrames and Series; only this
module reads the files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import InputError

__all__ = ["load_population_totals", "population_recode", "load_sampling_frame", "frame_design_weights"]


def load_population_totals(path: str | Path | None = None) -> dict[str, pd.Series]:
    """Known population totals from ``questionnaire/population.yaml``.

    Parameters
    ----------
    path : str or Path, optional
        The YAML file; default ``config.QUESTIONNAIRE_DIR / "population.yaml"``.

    Returns
    -------
    dict of str -> pandas.Series
        One Series of counts per table of the file (``associations_by_region``,
        ``cooperatives_by_sector``, ...), indexed by category code, for
        :func:`analysis.survey.poststratify` / :func:`analysis.survey.rake`.

    Raises
    ------
    analysis.errors.InputError
        If the file is missing or a table has no ``count`` values.

    Examples
    --------
    >>> from analysis.study._population import load_population_totals
    >>> totals = load_population_totals()
    >>> int(totals["organisations_by_frame"]["association"])
    187834
    """
    import yaml

    path = Path(path) if path is not None else config.QUESTIONNAIRE_DIR / "population.yaml"
    if not path.exists():
        raise InputError("population totals file not found", file=str(path))
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = {}
    for name, table in (spec.get("tables") or {}).items():
        cells = table.get("cells") or []
        try:
            out[name] = pd.Series({str(c["code"]): float(c["count"]) for c in cells},
                                  name=name, dtype="float64")
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"table '{name}': every cell needs a code and a count",
                             file=str(path), expected="code: ..., count: ...") from exc
    return out


def population_recode(table: str, path: str | Path | None = None) -> dict[str, str]:
    """Recode map from detailed codes to the cells of one table of ``population.yaml``.

    Parameters
    ----------
    table : str
        Table name, e.g. ``"associations_by_region"``.
    path : str or Path, optional
        The YAML file; default ``config.QUESTIONNAIRE_DIR / "population.yaml"``.

    Returns
    -------
    dict of str -> str
        Detailed code -> cell code (a cell without ``members`` maps its own code), to build
        the post-stratifying variable, e.g. ``data["region"].map(recode)`` puts R05, R08,
        R10, R11 and R12 into ``R_other``.

    Raises
    ------
    analysis.errors.InputError
        If the file or the table does not exist.

    Examples
    --------
    >>> from analysis.study._population import population_recode
    >>> population_recode("associations_by_region")["R08"]
    'R_other'
    """
    import yaml

    path = Path(path) if path is not None else config.QUESTIONNAIRE_DIR / "population.yaml"
    if not path.exists():
        raise InputError("population totals file not found", file=str(path))
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    tables = spec.get("tables") or {}
    if table not in tables:
        raise InputError("unknown population table", file=str(path), value=table,
                         expected=", ".join(tables))
    out: dict[str, str] = {}
    for cell in tables[table].get("cells") or []:
        code = str(cell["code"])
        for member in cell.get("members") or [code]:
            out[str(member)] = code
    return out


def load_sampling_frame(path: str | Path | None = None) -> pd.DataFrame:
    """The sampling frame: population size ``N`` of each stratum (region x legal form).

    Parameters
    ----------
    path : str or Path, optional
        CSV with columns ``region, legal_form, N`` (``#`` lines are comments); default
        ``questionnaire/sampling_frame.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns ``region``, ``legal_form`` (str) and ``N`` (float).

    Raises
    ------
    analysis.errors.InputError
        Missing file or columns, duplicated strata, or a negative or non-numeric ``N``.

    Examples
    --------
    >>> from analysis.study._population import load_sampling_frame
    >>> frame = load_sampling_frame()
    >>> sorted(frame.columns)
    ['N', 'legal_form', 'region']
    """
    path = Path(path) if path is not None else config.QUESTIONNAIRE_DIR / "sampling_frame.csv"
    if not path.exists():
        raise InputError("sampling frame file not found", file=str(path),
                         expected="a CSV with columns region, legal_form, N")
    frame = pd.read_csv(path, comment="#", dtype={"region": str, "legal_form": str})
    missing = {"region", "legal_form", "N"} - set(frame.columns)
    if missing:
        raise InputError("missing columns in the sampling frame", file=str(path),
                         column=", ".join(sorted(missing)), expected="region, legal_form, N")
    n = pd.to_numeric(frame["N"], errors="coerce")
    bad = n.isna() | (n < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("stratum size must be a number >= 0", file=str(path), row=i + 2, column="N",
                         value=frame["N"].iloc[i])
    dup = frame.duplicated(["region", "legal_form"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError("stratum listed twice", file=str(path), row=i + 2,
                         value=f"{frame['region'].iloc[i]} x {frame['legal_form'].iloc[i]}")
    return frame.assign(N=n.astype(float))[["region", "legal_form", "N"]]


def frame_design_weights(sample: pd.DataFrame, frame: pd.DataFrame | None = None, *,
                         region: str = "region", legal_form: str = "legal_form"
                         ) -> tuple[pd.Series, pd.Series]:
    """Design weights ``N_h / n_h`` for the strata region x legal form of the sampling frame.

    ``n_h`` counts the rows of ``sample`` in each stratum (the respondents kept for the
    analysis), so the weights also correct for unit non-response within strata, under
    the usual assumption that it is random within a stratum.

    Parameters
    ----------
    sample : pandas.DataFrame
        Analysed rows, with the stratum columns.
    frame : pandas.DataFrame, optional
        Default :func:`load_sampling_frame`.
    region, legal_form : str
        Stratum columns of ``sample``.

    Returns
    -------
    stratum : pandas.Series
        ``"<region>_<legal_form>"`` per row (missing when a stratum column is missing).
    weight : pandas.Series
        ``N_h / n_h``; missing for rows whose stratum is not in the frame.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.study._population import frame_design_weights
    >>> frame = pd.DataFrame({"region": ["R01", "R01"], "legal_form": ["association", "cooperative"],
    ...                       "N": [1000.0, 50.0]})
    >>> s = pd.DataFrame({"region": ["R01"] * 3, "legal_form": ["association", "association", "cooperative"]})
    >>> frame_design_weights(s, frame)[1].tolist()   # R: 1 / (n_h / N_h) as svydesign(probs=)
    [500.0, 500.0, 50.0]
    """
    frame = load_sampling_frame() if frame is None else frame
    reg = sample[region].astype("object")
    lf = sample[legal_form].astype("object")
    ok = reg.notna() & lf.notna()
    stratum = pd.Series(None, index=sample.index, dtype="object")
    stratum[ok] = reg[ok].astype(str) + "_" + lf[ok].astype(str)
    sizes = pd.Series(frame["N"].to_numpy(dtype=float),
                      index=frame["region"].astype(str) + "_" + frame["legal_form"].astype(str))
    n_h = stratum.map(stratum.value_counts())
    weight = stratum.map(sizes) / n_h
    return stratum, weight.astype(float)

"""Heterotrait-monotrait ratio of correlations (HTMT) between the factors of a model.

References
----------
Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing discriminant
validity in variance-based structural equation modeling. *Journal of the Academy of Marketing
Science*, 43(1), 115-135.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.cbsem._partable import build_partable

__all__ = ["htmt"]


def htmt(model: str, data: pd.DataFrame, absolute: bool = True) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations between the factors of a model.

    Parameters
    ----------
    model : str
        Model in lavaan syntax (only the ``=~`` statements are used).
    data : pandas.DataFrame
        The indicators; Pearson correlations on the complete cases (listwise, as
        ``semTools::htmt``'s default).
    absolute : bool
        Use absolute values of the correlations (``semTools::htmt(absolute = TRUE)``, its
        default), so that reverse-keyed items do not cancel out.

    Returns
    -------
    pandas.DataFrame
        Square table factor x factor, ones on the diagonal.

    Notes
    -----
    ``HTMT_ij = mean(r_hetero(i, j)) / sqrt(mean(r_mono(i)) mean(r_mono(j)))`` where the
    heterotrait mean is over all correlations between indicators of ``i`` and ``j`` and the
    monotrait mean over the distinct correlations among indicators of one factor
    (Henseler, Ringle & Sarstedt, 2015), as ``semTools::htmt``.

    References
    ----------
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing
    discriminant validity in variance-based structural equation modeling. *Journal of the
    Academy of Marketing Science*, 43(1), 115-135.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis import config
    >>> from analysis.cbsem import htmt
    >>> hs = pd.read_csv(config.PROJECT_ROOT / "tests" / "data" / "holzinger1939.csv")
    >>> h = htmt("a =~ x1 + x2 + x3; b =~ x4 + x5 + x6", hs)  # R: semTools::htmt(model, data)
    >>> round(float(h.loc["a", "b"]), 4)
    0.4243
    """
    pt = build_partable(model)
    ov_set = set(pt.attrs["ov_names"])
    # first-order factors only (a higher-order factor has factors as indicators)
    rhs_all: dict[str, list] = {f: [] for f in pt.attrs["lv_names"]}
    rhs_g1: dict[str, list] = {f: [] for f in pt.attrs["lv_names"]}
    for op, lhs, rhs, grp in zip(pt["op"], pt["lhs"], pt["rhs"], pt["group"]):
        if op == "=~":
            rhs_all[lhs].append(rhs)
            if grp == 1:
                rhs_g1[lhs].append(rhs)
    lv = [f for f in pt.attrs["lv_names"] if rhs_all[f] and all(v in ov_set for v in rhs_all[f])]
    ind = {f: rhs_g1[f] for f in lv}
    cols = list(dict.fromkeys(v for f in lv for v in ind[f]))
    r = data[cols].apply(pd.to_numeric, errors="coerce").dropna().corr().to_numpy()
    if absolute:
        r = np.abs(r)
    pos = {v: i for i, v in enumerate(cols)}

    def mono(f):
        ix = [pos[v] for v in ind[f]]
        sub = r[np.ix_(ix, ix)]
        return sub[np.triu_indices(len(ix), 1)].mean()

    mono_of = {f: mono(f) for f in lv}
    vals = np.eye(len(lv))
    for i, a in enumerate(lv):
        for j, b in enumerate(lv):
            if a != b:
                het = r[np.ix_([pos[v] for v in ind[a]], [pos[v] for v in ind[b]])].mean()
                vals[i, j] = het / np.sqrt(mono_of[a] * mono_of[b])
    out = pd.DataFrame(vals, index=lv, columns=lv)
    return out

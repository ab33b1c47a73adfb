"""What a structural model adds to a fit: defined parameters, R-squared and effects.

* Defined parameters (``name := expression``, lavaan ``:=``): functions of labelled
  parameters (and of earlier defined parameters), with delta-method standard errors (numerical
  Jacobian of the function of the free parameters, as lavaan) or bootstrap ones.
* R-squared of every endogenous variable (lavaan ``inspect(fit, "r2")``): indicators
  ``1 - theta / sigma``, endogenous latent or observed variables ``1 - psi / var``.
* Direct, indirect and total effects between the variables of the regressions
  (``~``): with ``B`` the matrix of regression coefficients, total effects
  ``(I - B)^-1 - I``, direct ``B``, indirect the difference (Bollen, 1987).

References
----------
Bollen, K. A. (1987). Total, direct, and indirect effects in structural equation models.
*Sociological Methodology*, 17, 37-69.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36.
"""

from __future__ import annotations

import ast
import math

import numpy as np
import pandas as pd

from analysis.cbsem._matrices import SEMModel
from analysis.errors import InputError

__all__ = ["DefinedParameters", "r_squared", "effect_values", "effect_pairs"]

_FUNCS = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs}
_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Constant, ast.Load, ast.Call,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd,
)  # fmt: skip


class DefinedParameters:
    """The ``:=`` statements of a model, compiled against its parameter table.

    Parameters
    ----------
    defined : list of (name, expression, line)
        ``partable.attrs["defined"]``.
    partable : pandas.DataFrame
        The parameter table (labels in its ``label`` column).

    Raises
    ------
    InputError
        For an expression that is not arithmetic on labels and numbers, or that names an
        unknown label; the message names the model line.

    Examples
    --------
    >>> from analysis.cbsem._partable import build_partable
    >>> pt = build_partable("m ~ a*x\\ny ~ b*m\\nind := a*b")
    >>> d = DefinedParameters(pt.attrs["defined"], pt)
    >>> d.names, d.values({"a": 2.0, "b": 0.5})
    (['ind'], [1.0])
    """

    def __init__(self, defined, partable: pd.DataFrame):
        self.names: list[str] = []
        self.exprs: list[str] = []
        self._code = []
        labels = {lab for lab in partable["label"] if lab}
        self.label_row = {}
        for i, lab in enumerate(partable["label"]):
            if lab and lab not in self.label_row:
                self.label_row[lab] = i
        known = set(labels)
        for name, expr, line in defined:
            text = expr.replace("^", "**")
            try:
                tree = ast.parse(text, mode="eval")
            except SyntaxError:
                raise InputError(
                    f"model line {line}: the defined parameter {name} is not an arithmetic "
                    "expression of labels",
                    row=line,
                    value=expr,
                ) from None
            for node in ast.walk(tree):
                bad_call = isinstance(node, ast.Call) and (
                    not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS
                )
                if not isinstance(node, _NODES) or bad_call:
                    raise InputError(
                        f"model line {line}: the defined parameter {name} uses an operation "
                        "other than + - * / ^ exp log sqrt abs",
                        row=line,
                        value=expr,
                    )
                if isinstance(node, ast.Name) and node.id not in _FUNCS and node.id not in known:
                    raise InputError(
                        f"model line {line}: the defined parameter {name} uses the unknown "
                        f"label {node.id}",
                        row=line,
                        value=node.id,
                        expected="a label given with label*variable earlier in the model",
                    )
            if name in known:
                raise InputError(
                    f"model line {line}: the defined parameter {name} reuses an existing name",
                    row=line,
                    value=name,
                )
            known.add(name)
            self.names.append(name)
            self.exprs.append(expr)
            self._code.append(compile(tree, f"<{name}>", "eval"))

    def __len__(self) -> int:
        return len(self.names)

    def values(self, env: dict) -> list[float]:
        """Values of the defined parameters given ``label -> value`` (updated in place)."""
        out = []
        for name, code in zip(self.names, self._code):
            try:
                v = float(eval(code, {"__builtins__": {}, **_FUNCS}, env))  # noqa: S307
            except (ValueError, ZeroDivisionError, OverflowError):
                v = np.nan
            env[name] = v
            out.append(v)
        return out

    def from_table(self, table_values: np.ndarray) -> np.ndarray:
        """Values given the value of every row of the parameter table."""
        env = {lab: float(table_values[i]) for lab, i in self.label_row.items()}
        return np.array(self.values(env), dtype=float)


def r_squared(sem: SEMModel, x: np.ndarray) -> list[dict[str, float]]:
    """R-squared of the endogenous variables per group (lavaan ``inspect(fit, "r2")``)."""
    pt = sem.partable
    phantoms = set(pt.attrs.get("phantoms", []))
    ov_x = set(pt.attrs.get("ov_x", []))
    reg_lhs = set(pt.loc[pt["op"] == "~", "lhs"])
    lv_ind = set(pt.loc[(pt["op"] == "=~") & pt["rhs"].isin(sem.lv_names), "rhs"])
    out = []
    for mats, (sigma, _mu) in zip(sem.matrices(x), sem.implied(x)):
        a = sem._ia(mats)
        lat = a @ mats["psi"] @ a.T
        r2 = {}
        for i, v in enumerate(sem.ov_names):
            if v in ov_x or (v in phantoms and v not in reg_lhs):
                continue
            if v in phantoms:
                j = sem.lv_names.index(v)
                r2[v] = 1.0 - mats["psi"][j, j] / sigma[i, i]
            else:
                r2[v] = 1.0 - mats["theta"][i, i] / sigma[i, i]
        for j, f in enumerate(sem.lv_names):
            if f in phantoms or (f not in reg_lhs and f not in lv_ind):
                continue
            r2[f] = 1.0 - mats["psi"][j, j] / lat[j, j]
        out.append(r2)
    return out


def effect_pairs(sem: SEMModel) -> list[tuple[int, str, str, bool, bool]]:
    """``(group, outcome, predictor, has_direct, has_indirect)`` of every structural path.

    The variables are those of the regressions (``~``); a pair is listed when a directed path
    leads from the predictor to the outcome (in the pattern of ``B``).
    """
    pt = sem.partable
    regs = pt[pt["op"] == "~"]
    names = list(dict.fromkeys(list(regs["lhs"]) + list(regs["rhs"])))
    pos = {v: sem.lv_names.index(v) for v in names}
    out = []
    for g in range(1, sem.ngroups + 1):
        sub = regs[regs["group"] == g]
        edge = {(r.lhs, r.rhs) for r in sub.itertuples() if r.free > 0 or r.value != 0}
        m = len(sem.lv_names)
        adj = np.zeros((m, m), dtype=bool)
        for o, p in edge:
            adj[pos[o], pos[p]] = True
        # paths of length >= 2
        reach2 = np.zeros_like(adj)
        power = adj.copy()
        for _ in range(m):
            power = (power.astype(int) @ adj.astype(int)) > 0
            reach2 |= power
        for o in names:
            for p in names:
                if o == p:
                    continue
                d, ind = adj[pos[o], pos[p]], reach2[pos[o], pos[p]]
                if d or ind:
                    out.append((g, o, p, bool(d), bool(ind)))
    return out


def effect_values(sem: SEMModel, x: np.ndarray, pairs) -> np.ndarray:
    """Direct, indirect and total effect of every pair (3 values per pair, in that order)."""
    mats = sem.matrices(x)
    totals = []
    for m in mats:
        b = m["beta"]
        totals.append(np.linalg.inv(np.eye(len(b)) - b) - np.eye(len(b)))
    out = np.empty(3 * len(pairs))
    for k, (g, o, p, _d, _i) in enumerate(pairs):
        i, j = sem.lv_names.index(o), sem.lv_names.index(p)
        direct = mats[g - 1]["beta"][i, j]
        total = totals[g - 1][i, j]
        out[3 * k : 3 * k + 3] = (direct, total - direct, total)
    return out


def numerical_jacobian(func, x: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of a vector function of the free parameters."""
    f0 = np.asarray(func(x), dtype=float)
    jac = np.zeros((len(f0), len(x)))
    for j in range(len(x)):
        h = 1e-6 * max(1.0, abs(x[j]))
        xp, xm = x.copy(), x.copy()
        xp[j] += h
        xm[j] -= h
        jac[:, j] = (np.asarray(func(xp)) - np.asarray(func(xm))) / (2 * h)
    return jac

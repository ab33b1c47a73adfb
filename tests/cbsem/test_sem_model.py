"""Tests of analysis.cbsem._syntax, _partable, _matrices: parser, parameter table, implied moments, derivatives."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from analysis import config
from analysis.cbsem import SEMModel, build_partable, parse_syntax, start_values
from analysis.errors import InputError

REF = json.loads((config.TESTS_REFERENCE_DIR / "lavaan_reference.json").read_text())
HS3 = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


# ----------------------------------------------------------------------------- parser
def test_parse_operators_and_modifiers():
    st_ = parse_syntax(
        """
        # a comment
        f1 =~ 1*x1 + a*x2 + NA*x3 + start(0.5)*x4   ! another comment
        f2 =~ c(1, NA)*y1 + c(b1, b2)*y2 +
              y3
        f2 ~ f1; x1 ~~ x2
        x1 ~ 1
        u1 | t1 + t2
        a == b1
        """
    )
    rows = [(s.lhs, s.op, s.rhs) for s in st_]
    assert rows == [
        ("f1", "=~", "x1"), ("f1", "=~", "x2"), ("f1", "=~", "x3"), ("f1", "=~", "x4"),
        ("f2", "=~", "y1"), ("f2", "=~", "y2"), ("f2", "=~", "y3"),
        ("f2", "~", "f1"), ("x1", "~~", "x2"), ("x1", "~1", ""),
        ("u1", "|", "t1"), ("u1", "|", "t2"), ("a", "==", "b1"),
    ]  # fmt: skip
    m = {(s.lhs, s.rhs): s for s in st_}
    assert m[("f1", "x1")].modifier(1).fixed == 1.0
    assert m[("f1", "x2")].modifier(2).label == "a"  # one modifier applies to every group
    assert m[("f1", "x3")].modifier(1).free
    assert m[("f1", "x4")].modifier(1).start == 0.5
    assert m[("f2", "y1")].modifier(1).fixed == 1.0 and m[("f2", "y1")].modifier(2).free
    assert m[("f2", "y2")].modifier(2).label == "b2"
    assert st_[0].line == 3 and st_[6].line == 4


@pytest.mark.parametrize(
    ("text", "line", "token"),
    [
        ("f =~ x1 + x2\nf =~ x3 + 2a", 2, "2a"),
        ("f =~ x1 + x2\nthis is not a model", 2, None),
        ("f =~ x1 + + x2", 1, None),
        ("f g =~ x1", 1, "f g"),
        ("f =~ x1\n2d := a*b", 2, None),
    ],
)
def test_syntax_errors_name_line_and_token(text, line, token):
    with pytest.raises(InputError) as exc:
        parse_syntax(text)
    assert exc.value.row == line
    if token is not None:
        assert exc.value.value == token
    assert f"row {line}" in str(exc.value)


_name = st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(
    factors=st.lists(_name, min_size=1, max_size=3, unique=True),
    data=st.data(),
)
def test_parse_roundtrip_property(factors, data):
    items = data.draw(st.lists(_name, min_size=len(factors) * 2, max_size=12, unique=True))
    items = [f"i_{v}" for v in items]
    factors = [f"F_{f}" for f in factors]
    chunks = np.array_split(np.array(items), len(factors))
    lines, expected = [], []
    for f, ch in zip(factors, chunks):
        mods = [data.draw(st.sampled_from(["", "1*", "NA*", "lab_x*", "0.5*"])) for _ in ch]
        lines.append(f"{f} =~ " + " + ".join(m + v for m, v in zip(mods, ch)))
        expected += [(f, "=~", str(v)) for v in ch]
    sep = data.draw(st.sampled_from(["\n", ";", "\n\n  "]))
    got = [(s.lhs, s.op, s.rhs) for s in parse_syntax(sep.join(lines))]
    assert got == expected


# ----------------------------------------------------------------------------- partable
# the rows, order, fixed flags, counts and labels of build_partable are compared with lavaan's
# in the parity catalogue (tests/parity/catalogue.py, section lavaan)
def test_second_order_loadings_go_to_beta():
    second = build_partable(REF["model_second_order"])
    assert set(second[second["lhs"] == "g"]["matrix"]) == {"beta", "psi"}


def test_scalar_invariance_frees_latent_means_in_group_2():
    scalar = build_partable(HS3, ngroups=2, group_equal=("loadings", "intercepts"))
    # latent means: fixed in group 1, free in group 2 under scalar invariance
    means = scalar[(scalar["op"] == "~1") & scalar["lhs"].isin(["visual", "speed"])]
    assert list(means["free"] > 0) == [False, False, True, True]


def test_labels_constrain_and_partial():
    pt = build_partable("f =~ x1 + a*x2 + a*x3")
    assert pt.loc[1, "free"] == pt.loc[2, "free"]
    pt = build_partable(HS3, ngroups=2, group_equal=("loadings",), group_partial=["visual =~ x2"])
    x2 = pt[(pt["lhs"] == "visual") & (pt["rhs"] == "x2")]
    assert x2["free"].nunique() == 2
    pt = build_partable("f =~ x1 + a*x2 + b*x3\na == b")
    assert pt.loc[1, "free"] == pt.loc[2, "free"]


def test_ordered_hook():
    pt = build_partable("f =~ u1 + u2 + u3", ordered={"u1": 2, "u2": 2, "u3": 3})
    thr = pt[pt["op"] == "|"]
    assert len(thr) == 7 and (thr["free"] > 0).all()
    assert list(thr["row"]) == list(range(7))
    ints = pt[(pt["op"] == "~1") & pt["lhs"].str.startswith("u")]
    assert (ints["free"] == 0).all() and (ints["value"] == 0).all()
    assert (pt[pt["op"] == "~*~"]["value"] == 1).all()
    res = pt[(pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].str.startswith("u")]
    assert (res["free"] == 0).all()
    m = SEMModel(start_values(pt, [np.eye(3)], [np.zeros(3)]))
    mats = m.matrices(m.x_start())[0]
    assert mats["tau"].shape == (7,) and mats["delta"].shape == (3,)
    eq = build_partable("f =~ u1 + u2", ordered={"u1": 2, "u2": 2}, ngroups=2,
                        group_equal=("thresholds",))  # fmt: skip
    t = eq[eq["op"] == "|"]
    assert t.groupby(["lhs", "rhs"])["free"].nunique().eq(1).all()


def test_partable_errors():
    with pytest.raises(InputError):
        build_partable("x1 ~~ x2")  # no latent variable
    with pytest.raises(InputError):
        build_partable(HS3, group_equal=("slopes",))
    with pytest.raises(InputError):
        build_partable("f =~ x1 + x2\nx1 ~ x2")  # observed regression
    with pytest.raises(InputError):
        build_partable("f =~ x1 + x2", observed=["x1"])


# ----------------------------------------------------------------------------- model
def _random_x(model, rng):
    pt = model.partable
    x = np.empty(model.npar)
    for k in range(1, model.npar + 1):
        r = pt[pt["free"] == k].iloc[0]
        if r["op"] == "~~" and r["lhs"] == r["rhs"]:
            x[k - 1] = rng.uniform(0.5, 1.5)
        elif r["op"] == "~~":
            x[k - 1] = rng.uniform(-0.2, 0.2)
        else:
            x[k - 1] = rng.uniform(-1, 1)
    return x


@pytest.mark.parametrize(
    "model_text",
    [
        HS3,
        "f1 =~ y1 + y2 + y3\nf2 =~ y4 + y5 + y6\nf3 =~ y7 + y8\nf2 ~ f1\nf3 ~ f1 + f2\ny1 ~~ y4",
    ],
)
def test_jacobian_matches_finite_differences(model_text):
    pt = build_partable(model_text, ngroups=2, group_equal=("loadings",))
    m = SEMModel(pt)
    rng = np.random.default_rng(1)
    x = _random_x(m, rng)
    jac = m.jacobian(x)
    fac = m.jacobian_factors(x)
    h = 1e-6
    for k in range(m.npar):
        xp, xm = x.copy(), x.copy()
        xp[k] += h
        xm[k] -= h
        for g in range(m.ngroups):
            (sp, mp), (sm, mm) = m.implied(xp)[g], m.implied(xm)[g]
            assert_allclose(jac[g][0][k], (sp - sm) / (2 * h), atol=1e-7)
            assert_allclose(jac[g][1][k], (mp - mm) / (2 * h), atol=1e-7)
            u, v, c, idx = fac[g]
            sel = idx == k
            low_rank = sum(
                c[j] * (np.outer(u[:, j], v[:, j]) + np.outer(v[:, j], u[:, j]))
                for j in np.flatnonzero(sel)
            )
            assert_allclose(low_rank if sel.any() else 0.0, jac[g][0][k], atol=1e-12)


def test_implied_regression_model():
    pt = build_partable("f1 =~ y1 + y2\nf2 =~ y3 + y4\nf2 ~ b*f1")
    m = SEMModel(pt)
    assert "f1 ~~ f2" not in set(pt["lhs"] + " ~~ " + pt["rhs"])  # endogenous: no covariance
    x = m.x_start()
    x[:] = 0.5
    sigma, _ = m.implied(x)[0]
    # cov(y1, y3) = 1 * b * var(f1) * 1 with every free value 0.5
    assert_allclose(sigma[0, 2], 0.5 * 0.5)
    assert_allclose(m.x_to_table(x)[pt["free"].to_numpy() > 0], 0.5)


def test_defined_parameters_are_parsed():
    st = parse_syntax("y ~ a*x\nz ~ b*y\nind := a * b")
    assert (st[-1].lhs, st[-1].op, st[-1].rhs, st[-1].line) == ("ind", ":=", "a*b", 3)

"""Path diagram: layers from the regression paths, labels, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.report._path_diagram import path_diagram, path_layers


def _params():
    return pd.DataFrame({
        "lhs": ["m", "y", "y", "m"], "op": ["~", "~", "~", "=~"], "rhs": ["x", "m", "x", "i1"],
        "estimate": [0.5, 0.4, -0.1, 1.0], "std_all": [0.45, 0.38, -0.08, 0.9],
        "p_value": [0.0001, 0.02, 0.4, np.nan],
    })


def test_layers_follow_the_paths():
    assert path_layers(_params().query("op == '~'")) == {"x": 0, "m": 1, "y": 2}
    chain = pd.DataFrame({"lhs": ["b", "c", "d"], "rhs": ["a", "b", "z"]})
    layers = path_layers(chain)
    assert layers["a"] < layers["b"] < layers["c"] and layers["z"] == 0


def test_feedback_loop_is_refused():
    loop = pd.DataFrame({"lhs": ["a", "b"], "rhs": ["b", "a"]})
    with pytest.raises(InputError, match="feedback loop"):
        path_layers(loop)


def test_labels_shapes_and_dashes():
    fig = path_diagram(_params(), r2={"m": 0.2, "y": 0.31}, labels={"y": "Impact perçu"})
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert {"0,45***", "0,38*", "−0,08"} <= set(texts) or {"0,45***", "0,38*", "-0,08"} <= set(texts)
    assert "Impact perçu" in texts and "R² = ,31" in texts
    from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch

    assert sum(isinstance(p, Ellipse) for p in ax.patches) == 1  # m is latent (=~)
    assert sum(isinstance(p, FancyBboxPatch) for p in ax.patches) == 2  # x and y observed
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 3
    dashed = [a for a in arrows if a.get_linestyle() not in ("-", "solid")]
    assert len(dashed) == 1  # the non-significant x -> y path


def test_english_note_and_missing_columns():
    fig = path_diagram(_params(), lang="en", standardized=False)
    assert "Unstandardised" in fig.texts[0].get_text()
    with pytest.raises(InputError, match="lacks columns"):
        path_diagram(_params().drop(columns="p_value"))
    with pytest.raises(InputError, match="no regression path"):
        path_diagram(_params().query("op == '=~'"))

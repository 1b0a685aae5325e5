"""A frame's hidden units are quantized all at once (``quantize_units``): the same bytes,
minimum and maximum as quantizing each unit's column on its own (``quantize``)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from deepviz.lessons.playground.frame import quantize, quantize_units


@given(st.integers(1, 16), st.floats(0, 1e3) | st.sampled_from([5e-324, 1e-310, 1e-300]), st.integers(0, 2**32 - 1))
def test_units_quantized_together_as_one_by_one(units, scale, seed):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((200, units)) * scale
    h[:, 0] = 0.25  # a unit that does not vary: all zeros, min = max
    h[rng.integers(200), -1] = [np.nan, np.inf, -np.inf][seed % 3]  # a diverging unit
    together = quantize_units(h)
    assert len(together) == units
    for j, unit in enumerate(together):
        alone = quantize(h[:, j])
        assert (unit["min"], unit["max"]) == (alone["min"], alone["max"])
        assert unit["values"].dtype == np.uint8 and unit["values"].tobytes() == alone["values"].tobytes()

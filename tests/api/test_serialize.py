"""The serializer's fast paths (one number, a rule's template) give what the plain way gave."""

import json
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepviz.app import serialize


def plain_values(a):
    """The serializer as it was before its fast paths: every value through an array."""
    if a is None:
        return None
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        x = a.item()
        return x if np.isfinite(x) else ("NaN" if np.isnan(x) else ("Infinity" if x > 0 else "-Infinity"))
    return a.tolist() if np.all(np.isfinite(a)) else [plain_values(row) for row in a]


numbers = st.floats(allow_nan=True, allow_infinity=True, width=64)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
@given(x=numbers, kind=st.sampled_from([float, np.float64, np.float32, np.array, int, bool]))
def test_one_number_serializes_as_through_an_array(x, kind):
    if kind in (int, bool) and not np.isfinite(x):
        return
    value = kind(x) if kind is not np.array else np.array(x)
    assert json.dumps(serialize.values(value)) == json.dumps(plain_values(value))


@given(rows=st.lists(st.lists(numbers, min_size=2, max_size=2), min_size=1, max_size=3))
def test_arrays_serialize_as_before(rows):
    for a in (np.array(rows), np.array(rows[0])):
        assert json.dumps(serialize.values(a)) == json.dumps(plain_values(a))


def plain_rule_text(rule, names):
    mapping = dict(zip("ab", names, strict=False))
    return re.sub(r"\b[ab]\b", lambda m: mapping.get(m.group(0), m.group(0)), rule)


@pytest.mark.parametrize("rule", ["1", "b", "1 / b", "-a / b²", "b · a^(b-1)", "a^b · ln a", "[a > b] (½ on a tie)",
                                  "sign(a)", "Σ upstream", "upstream @ W", "{a}", "abs(b)"])  # fmt: skip
@pytest.mark.parametrize("names", [[], ["x"], ["q", "W"], ["p", "y", "z"]])
def test_rules_name_their_inputs_as_before(rule, names):
    assert serialize.rule_text(rule, names) == plain_rule_text(rule, names)

"""The examples in the engine's docstrings run, and give what they say."""

import doctest

from deepviz import engine


def test_the_engine_docstring_example_runs():
    result = doctest.testmod(engine)
    assert result.attempted >= 3 and result.failed == 0

"""The examples in the engine's docstrings run, and give what they say."""

import doctest

import pytest

from deepviz import engine
from deepviz.engine import autograd, data


@pytest.mark.parametrize("module", [engine, autograd, data])
def test_the_engine_docstring_examples_run(module):
    result = doctest.testmod(module)
    assert result.attempted >= 2 and result.failed == 0

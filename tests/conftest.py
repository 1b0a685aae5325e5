"""Hypothesis settings for the whole suite. In CI (CI=true) examples are derandomized, so a
run is reproducible and a red build means a change broke something; locally they are
random, so that every run can still find something new."""

import os

from hypothesis import settings

settings.register_profile("deepviz", max_examples=40, deadline=None, derandomize=bool(os.environ.get("CI")))
settings.load_profile("deepviz")

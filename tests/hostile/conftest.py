"""The hostile suite's fixtures: a bare `deepviz serve --workers 2`, two instances behind nginx
(deploy/nginx.conf rendered for them), and the honest clients' process; each started once
for the session and always stopped."""

from __future__ import annotations

import pytest

from tests.hostile.harness import Bare, Front, Honest

# Timeouts lowered for the tests (DEEPVIZ_<NAME>, settings of deepviz/app/settings.py), so
# that an attack of a few seconds sees them act: a head within 1 s (10 s by default), a body
# within 1 s (15 s), a stream closed after 1 s without a frame (300 s). bench/hostile.py runs
# the defaults.
ENV: dict[str, str] = {"DEEPVIZ_HEADER_TIMEOUT": "1", "DEEPVIZ_BODY_TIMEOUT": "1", "DEEPVIZ_WS_IDLE_TIMEOUT": "1"}


@pytest.fixture(scope="session")
def honest():
    clients = Honest()
    yield clients
    clients.close()


@pytest.fixture(scope="session")
def bare(honest):
    with Bare(ENV) as setup:
        honest.measure(setup.target, 0.5)  # warm-up: first imports, first connections
        yield setup


@pytest.fixture(scope="session")
def front(honest):
    with Front(ENV) as setup:
        honest.measure(setup.target, 0.5)
        yield setup


@pytest.fixture(params=["bare", "nginx"])
def setup(request):
    """Each attack runs against both: the bare server and the production front."""
    return request.getfixturevalue("bare" if request.param == "bare" else "front")

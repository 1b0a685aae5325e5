"""The hostile suite's fixtures: a bare `deepviz serve --workers 2`, two instances behind nginx
(deploy/nginx.conf rendered for them), and the honest clients' process; each started once
for the session and always stopped."""

from __future__ import annotations

import pytest

from tests.hostile.harness import Bare, Front, Honest

# Limits lowered for the tests through DEEPVIZ_<NAME> variables (only settings that exist).
ENV: dict[str, str] = {}


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

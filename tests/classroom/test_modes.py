"""Where classes live, decided at start: never a class split between workers that do not
share it, and never Redis without a shared secret for the tokens."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from deepviz.app.classroom import mode
from deepviz.app.settings import Settings


def serve(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DEEPVIZ_")}
    command = [sys.executable, "-m", "deepviz", "serve", "--port", "1", *args]
    return subprocess.run(command, env=clean | env, capture_output=True, text=True, timeout=60)


def test_several_workers_without_redis_refuse_to_start_when_classroom_mode_is_required():
    done = serve("--workers", "2", DEEPVIZ_CLASSROOM="on")
    assert done.returncode == 1
    assert "DEEPVIZ_CLASSROOM=on, but this server runs 2 worker processes and no Redis" in done.stderr


def test_redis_without_a_shared_secret_refuses_to_start():
    done = serve(DEEPVIZ_REDIS_URL="redis://127.0.0.1:1/0")
    assert done.returncode == 1 and "DEEPVIZ_CLASSROOM_SECRET" in done.stderr and "32 characters" in done.stderr


@pytest.mark.parametrize(
    "settings, workers, where",
    [
        ({}, 1, "memory"),
        ({}, 2, "off"),
        ({"redis_url": "redis://r", "classroom_secret": "x" * 32}, 4, "redis"),
        ({"classroom": "off"}, 1, "off"),
        ({"classroom": "on"}, 1, "memory"),
    ],
)
def test_where_classes_live(settings, workers, where):
    assert mode(Settings(**settings), workers)[0] == where

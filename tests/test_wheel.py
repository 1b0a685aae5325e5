"""The wheel a user installs: built from this source, installed into a fresh virtual
environment, it serves every page, every asset the pages load, the API and LeNet-5's weights,
started from another directory (so nothing can come from the source tree by accident)."""

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from deepviz.app.routers.pages import PAGES
from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent


def _get(url: str, body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, answer.read()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the wheel (and its dependencies from the index) installed."""
    where = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(where / "dist"),
                            str(ROOT)], capture_output=True, text=True)  # fmt: skip
    assert build.returncode == 0, build.stderr
    wheels = list((where / "dist").glob("deepviz-*.whl"))
    assert len(wheels) == 1
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True)
    install = subprocess.run([str(where / "venv/bin/pip"), "install", "-q", "--disable-pip-version-check",
                              str(wheels[0])], capture_output=True, text=True)  # fmt: skip
    assert install.returncode == 0, install.stderr
    return where


@pytest.fixture(scope="module")
def server(installed):
    port = free_port()
    elsewhere = installed / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("DEEPVIZ_")}
    process = subprocess.Popen([str(installed / "venv/bin/deepviz"), "serve", "--port", str(port)], cwd=elsewhere,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            _get(url + "/healthz")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(process.stderr.read().decode(errors="replace")) from None
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_the_installed_package_holds_no_source_tree(installed):
    site = next((installed / "venv/lib").glob("python3.*/site-packages"))
    assert (site / "deepviz/app/templates/base.html").exists() and (site / "deepviz/app/static/js/api.js").exists()
    assert (site / "deepviz/lessons/weights/lenet5.npz").exists()
    assert not (site / "app").exists() and not (site / "engine").exists()  # no generic top-level names


def test_every_page_and_every_asset_it_loads_is_served(server):
    assets = set()
    for page in [*PAGES, "/docs"]:
        status, html = _get(server + page)
        assert status == 200, page
        assets |= set(re.findall(r"""(?:src|href)="(/(?:static|vendor)/[^"]+)\"""", html.decode()))
    modules = {a for a in assets if a.endswith(".js") and a.startswith("/static/")}
    while modules:  # the ES modules the pages import, and what they import
        module = modules.pop()
        source = _get(server + module)[1].decode()
        for imported in re.findall(r"""from\s+"(\.{1,2}/[^"]+)\"""", source):
            path = os.path.normpath(os.path.join(os.path.dirname(module), imported))
            if path not in assets:
                assets.add(path)
                modules.add(path)
    assert len(assets) >= 10
    for asset in sorted(assets):
        assert _get(server + asset)[0] == 200, asset


def test_the_api_and_the_shipped_model_work(server):
    status, body = _get(
        server + "/api/v1/graph", b'{"expression": "(x + y) * z", "values": {"x": -2, "y": 5, "z": -4}}'
    )
    assert status == 200 and b'"gradients":{"x":-4.0,"y":-4.0,"z":3.0}' in body
    status, body = _get(server + "/api/v1/lenet/model")
    assert status == 200 and b"test_accuracy" in body
    status, body = _get(server + "/api/v1/lenet/robustness")  # the adversarially trained model and its curves
    assert status == 200 and b'"robust"' in body and b'"iterated"' in body
    status, _ = _get(server + "/api/v1/conv", b'{"image": {"preset": "camera", "size": 32}, "kernels": ["sobel_x"]}')
    assert status == 200  # the photographs come from scikit-image's wheel

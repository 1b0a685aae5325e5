"""What can be checked of the deployment without a Docker engine: the Dockerfile copies
everything the app reads at run time, runs as a non-root user, checks its health, serves
with the CLI; and the CLI's defaults."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_the_image_installs_the_wheel_built_from_the_source():
    copied = re.findall(r"^COPY (?:--chown=\S+ )?(?!--from)(.+?) \S+$", DOCKERFILE, re.M)
    sources = {s for line in copied for s in line.split()}
    assert sources == {"pyproject.toml", "README.md", "deepviz"}  # what the wheel is built from, nothing else
    assert re.search(r"^RUN pip wheel .*--no-deps .*\.$", DOCKERFILE, re.M)
    assert re.search(r"^RUN pip install --no-cache-dir /wheels/\*\.whl", DOCKERFILE, re.M)
    assert " -e " not in DOCKERFILE  # not an editable checkout: the wheel is what users get
    assert (ROOT / "deepviz/lessons/weights/lenet5.npz").exists()  # inside the package: in the wheel
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored and "node_modules" in ignored


def test_the_image_runs_unprivileged_checks_its_health_and_serves():
    user = re.findall(r"^USER (\S+)$", DOCKERFILE, re.M)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", DOCKERFILE, re.M)
    assert re.search(r'^CMD \["deepviz", "serve", "--host", "0.0.0.0"', DOCKERFILE, re.M)
    assert "OPENBLAS_NUM_THREADS=1" in DOCKERFILE
    assert "DEEPVIZ_WORKERS=2" in DOCKERFILE  # the hosting setup the README documents, not one worker
    assert re.findall(r"^FROM (python:3\.\d+-slim)", DOCKERFILE, re.M)


def test_the_cli_documents_serve_and_train():
    out = subprocess.run([sys.executable, "-m", "deepviz", "serve", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "--workers" in out.stdout and "default 127.0.0.1" in out.stdout
    out = subprocess.run([sys.executable, "-m", "deepviz", "train", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "--epochs" in out.stdout and "--seed" in out.stdout


def test_training_for_no_epochs_is_refused_with_a_word():
    out = subprocess.run([sys.executable, "-m", "deepviz", "train", "lenet", "--epochs", "0"], capture_output=True,
                         text=True, cwd=ROOT)  # fmt: skip
    assert out.returncode == 2 and "must be at least 1, not 0" in out.stderr  # was an IndexError after loading MNIST

"""/metrics of a server with several worker processes: counts add up over the workers and
never go back between scrapes, whether the server is started by `deepviz serve` or by plain
uvicorn; dead workers are forgotten by the sessions gauge but not by the counters; label
values are escaped per the text exposition format."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.multiprocess import MultiProcessCollector

from deepviz.app import metrics
from deepviz.app.main import create_app
from deepviz.app.settings import Settings
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
HEALTHZ = 'deepviz_requests_total{method="GET",route="/healthz",status="200"}'
REQUESTS = 30


@contextlib.contextmanager
def server(args: list[str], tmp: Path, workers: int = 2) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python <args> --port P` on loopback, its temporary directory `tmp`, until every
    worker has started; stopped (and, if it hangs, killed with its workers) at the end."""
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = tmp / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, *args, "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        try:
            deadline = time.monotonic() + 60  # generous: other tests may share the cores
            while log_path.read_text().count("Application startup complete") < workers:
                assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}", process
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: the parent and its workers
                process.wait()


def get(url: str) -> str:
    """One request over a connection of its own (urllib closes it), so any worker may answer."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def healthz_count(url: str) -> float:
    match = re.search(re.escape(HEALTHZ) + r" (\S+)", get(f"{url}/metrics"))
    return float(match[1]) if match else 0.0


def per_worker(directory: Path) -> list[float]:
    """/healthz requests counted by each worker process, from its own file."""
    counts = []
    for path in sorted(directory.glob("counter_*.db")):
        samples = [s for m in MultiProcessCollector.merge([str(path)]) for s in m.samples]
        counts.append(sum(s.value for s in samples if s.labels.get("route") == "/healthz"))
    return counts


def both_counted(directory: Path) -> bool:
    served = per_worker(directory)
    return len(served) == 2 and min(served) > 0


def check_scrapes_add_up(url: str, tmp: Path) -> None:
    (directory,) = tmp.glob("deepviz-metrics-*")
    # Which worker accepts a connection is the kernel's choice: under load one of them may take
    # many in a row. Requests go until both have counted some (bounded, generously).
    sent, deadline = 0, time.monotonic() + 60
    while sent < REQUESTS or not both_counted(directory):
        assert time.monotonic() < deadline, f"after {sent} requests, the workers counted {per_worker(directory)}"
        assert get(f"{url}/healthz") == '{"status":"ok"}'
        sent += 1
    deadline = time.monotonic() + 30  # a worker counts a request just after answering it
    while healthz_count(url) < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    scrapes = [healthz_count(url) for _ in range(10)]
    assert scrapes == sorted(scrapes), scrapes  # a counter that went back would read as a reset
    assert scrapes == [sent] * 10, scrapes  # every worker's requests, in every scrape
    served = per_worker(directory)
    assert len(served) == 2 and sum(served) == sent and min(served) > 0, served  # both workers served some


def test_deepviz_serve_sums_its_workers_and_removes_their_files_at_exit(tmp_path):
    with server(["-m", "deepviz", "serve", "--workers", "2"], tmp_path) as (url, process):
        check_scrapes_add_up(url, tmp_path)
        (directory,) = tmp_path.glob("deepviz-metrics-*")
        assert directory.name.startswith(f"deepviz-metrics-{os.getuid()}-{process.pid}-")
        assert directory.stat().st_mode & 0o777 == 0o700
    assert process.returncode == 0 and not list(tmp_path.glob("deepviz-metrics-*"))


def test_plain_uvicorn_workers_find_each_other_and_sweep_dead_servers_files(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"deepviz-metrics-{os.getuid()}-{int(gone.stdout)}-x"  # a server that is no more
    stale.mkdir()
    (stale / "counter_1.db").write_bytes(b"")
    command = ["-m", "uvicorn", "deepviz.app.main:create_app", "--factory", "--workers", "2"]
    with server(command, tmp_path) as (url, process):
        assert not stale.exists()
        check_scrapes_add_up(url, tmp_path)
        (directory,) = tmp_path.glob("deepviz-metrics-*")
        assert directory.name.startswith(f"deepviz-metrics-{os.getuid()}-{process.pid}-")


WORKERS = """
    import multiprocessing, os, sys

    def worker(how):
        from deepviz.app.metrics import METRICS
        METRICS.gauge("deepviz_websocket_sessions", +1)  # each has a session open
        METRICS.count("deepviz_websocket_rejected_total", reason='say "hi" \\\\ bye\\n')
        if how == "killed":
            os._exit(0)  # as after SIGKILL: no clean-up of its own
        if how == "scrape":
            sys.stdout.write(METRICS.render())

    if __name__ == "__main__":
        for how in ("killed", "exits", "scrape"):
            p = multiprocessing.get_context("spawn").Process(target=worker, args=(how,))
            p.start()
            p.join()
"""


def test_dead_workers_sessions_are_forgotten_their_counts_kept_and_labels_escaped(tmp_path):
    """Three `multiprocessing` workers of one parent, one after another, as uvicorn
    replaces workers: one killed, one that exits, one that scrapes."""
    script = tmp_path / "workers.py"
    script.write_text(textwrap.dedent(WORKERS))
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    out = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "\ndeepviz_websocket_sessions 1.0\n" in out.stdout  # only the live worker's session
    assert '\ndeepviz_websocket_rejected_total{reason="say \\"hi\\" \\\\ bye\\n"} 3.0\n' in out.stdout


def test_label_values_are_escaped_in_one_process_too():
    registry = metrics.Metrics()  # a registry of its own: the app's is untouched
    registry.count("deepviz_websocket_rejected_total", reason='a "quoted" back\\slash\nnewline')
    expected = 'deepviz_websocket_rejected_total{reason="a \\"quoted\\" back\\\\slash\\nnewline"} 1.0\n'
    assert expected in registry.render()


def test_many_apps_and_registries_in_one_process():
    create_app(Settings())
    create_app(Settings())  # no duplicate registration
    first, second = metrics.Metrics(), metrics.Metrics()
    first.count("deepviz_frames_total", 2)
    assert "deepviz_frames_total 2.0" in first.render() and "deepviz_frames_total 0.0" in second.render()

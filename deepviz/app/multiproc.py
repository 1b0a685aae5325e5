"""Where the worker processes of one server share their metrics files (prometheus_client's
multiprocess mode, app/metrics.py): one private directory per server, chosen before
prometheus_client is imported. No prometheus_client here: `deepviz serve` uses this module
in the parent process, which never serves.

Names are ``deepviz-metrics-<uid>-<pid>-<start>`` under the temporary directory, where
<pid> is the supervising process (uvicorn's parent, or `deepviz serve` itself) and <start>
says when it started (Linux: boot id and start time in clock ticks). A later server that
happens to get the same pid therefore never finds an earlier one's files, so nothing inside
a directory ever needs wiping; whole directories of servers that are gone are removed when
the next one starts (`sweep`)."""

from __future__ import annotations

import glob
import logging
import multiprocessing
import os
import shutil
import stat
import tempfile

ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "deepviz-metrics-"
LOG = logging.getLogger("deepviz.metrics")


def choose() -> str | None:
    """The directory this process writes its metrics files to, exported as $ENV for
    prometheus_client; None for an in-process registry (one process: the tests, or
    `uvicorn deepviz.app.main:create_app` without --workers).

    1. $PROMETHEUS_MULTIPROC_DIR if set: by `deepviz serve` (a directory of its own) or by
       the operator (who must empty it before each start, as prometheus_client requires).
    2. Else, in a process started by `multiprocessing` (uvicorn's workers and reloader are
       spawned so): the directory of the parent, shared by all its workers.
    3. Else none."""
    given = os.environ.get(ENV)
    if given:
        os.makedirs(given, mode=0o700, exist_ok=True)
        return given
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return None
    path = server_dir(parent.pid)
    if path is not None:
        os.environ[ENV] = path
    return path


def server_dir(pid: int) -> str | None:
    """The directory of the server supervised by process `pid`, created if need be (every
    worker calls this at once: mkdir either creates it or finds it, and nothing inside is
    wiped). None if it cannot be created, or if the name is taken by something that is not
    a private directory of ours (in a shared /tmp, another user could have made it first)."""
    uid = _uid()
    sweep(uid)
    path = os.path.join(tempfile.gettempdir(), f"{PREFIX}{uid}-{pid}-{_started(pid)}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as error:  # a read-only or full file system
        LOG.warning("cannot create %s (%s): metrics are per worker process", path, error)
        return None
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or (uid >= 0 and info.st_uid != uid) or info.st_mode & 0o077:
        LOG.warning("%s is not a private directory of ours: metrics are per worker process", path)
        return None
    return path


def sweep(uid: int | None = None) -> None:
    """Remove the directories of servers that are gone (their supervisor is dead, or its
    pid now belongs to a process started at another time). Workers sweeping at once race
    harmlessly: whichever removes a file first wins, the others ignore the error."""
    uid = _uid() if uid is None else uid
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(PREFIX):
            continue
        parts = entry.name[len(PREFIX) :].split("-", 2)
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or int(parts[0]) != uid:
            continue
        pid, started = int(parts[1]), parts[2]
        if not alive(pid) or _started(pid) != started:
            shutil.rmtree(entry.path, ignore_errors=True)


def wipe(path: str) -> None:
    """Delete the metrics files (*.db) in `path`: what prometheus_client asks for between runs."""
    for name in glob.glob(os.path.join(path, "*.db")):
        try:
            os.remove(name)
        except FileNotFoundError:
            pass


def alive(pid: int) -> bool:
    """Whether process `pid` exists (in this pid namespace). Assumed alive where that
    cannot be asked safely (on Windows, os.kill(pid, 0) would terminate it)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _started(pid: int) -> str:
    """When process `pid` started, as a token: Linux's boot id and the process's start time
    in clock ticks since boot; "x" where /proc is absent (the pid alone then names a server)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # after "pid (comm)", which may hold spaces
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip().replace("-", "")[:8]
        return f"{boot}.{fields[19]}"  # field 22 of proc(5), starttime
    except (OSError, IndexError):
        return "x"


def _uid() -> int:
    return os.getuid() if hasattr(os, "getuid") else -1

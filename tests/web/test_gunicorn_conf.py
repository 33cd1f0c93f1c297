"""The web workers' gunicorn hooks, and that both ways of running them use them."""

from __future__ import annotations

import gc
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.app.wsgiapp import WSGIApplication

from ivr.config import DEVELOPMENT_AUTH_TOKEN, Settings
from ivr.harness.inputs import Press
from ivr.harness.processes import (
    ServerProcess,
    free_port,
    ivr_environ,
    wait_until,
    worker_pids,
)
from ivr.harness.simulator import CallHarness, CallSpec
from ivr.harness.transport import HttpTransport
from ivr.web.gunicorn_conf import (
    child_exit,
    least_used_cpu,
    on_starting,
    post_fork,
    post_worker_init,
    pre_fork,
)
from ivr.web.server import IvrServer, gunicorn_options

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def _collected(thing: object) -> bool:
    """True when the garbage collector would look at ``thing`` in its collections."""
    return any(candidate is thing for candidate in gc.get_objects())


def test_a_worker_freezes_what_it_built_at_start(unfrozen: None) -> None:
    built_at_start = [object()]
    assert _collected(built_at_start)
    post_worker_init(worker=None)
    assert gc.get_freeze_count() > 0
    assert not _collected(built_at_start)
    # What the requests make later is still the collector's.
    assert _collected([object()])


def _procfile_web_arguments() -> list[str]:
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    command = line.split("&&")[-1]
    # The shell's defaults (${PORT:-5000}), as a platform without those variables runs it.
    command = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", command)
    words = shlex.split(command)
    assert words[0] == "gunicorn"
    return words[1:]


def test_the_procfile_runs_the_workers_with_the_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["gunicorn", *_procfile_web_arguments()])
    application = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]")
    assert application.cfg.post_worker_init is post_worker_init
    assert application.cfg.pre_fork is pre_fork
    assert application.cfg.post_fork is post_fork
    assert application.cfg.on_starting is on_starting
    assert application.cfg.child_exit is child_exit
    assert application.app_uri == "ivr.web:create_app()"


def test_ivr_serve_runs_the_workers_with_the_hooks(tmp_path: Path) -> None:
    settings = Settings.from_environ({"IVR_ENVIRONMENT": "test", "IVR_VAR_DIR": str(tmp_path)})
    options = gunicorn_options(settings, host="127.0.0.1", port=5000, workers=2, threads=4)
    server = IvrServer(settings, options)
    assert server.cfg.post_worker_init is post_worker_init
    assert server.cfg.pre_fork is pre_fork
    assert server.cfg.post_fork is post_fork
    assert server.cfg.on_starting is on_starting
    assert server.cfg.child_exit is child_exit


def test_a_new_worker_takes_the_cpu_with_the_fewest_workers() -> None:
    assert least_used_cpu({0, 1, 2, 3}, []) == 0
    assert least_used_cpu({0, 1, 2, 3}, [0, None]) == 1
    assert least_used_cpu({0, 1, 2, 3}, [0, 1, 2, 3]) == 0
    # A worker that died left CPU 1: its replacement takes it.
    assert least_used_cpu({0, 1, 2, 3}, [0, 2, 3, 0, 2, 3]) == 1
    # Pinned to a CPU the master may no longer use: not counted against the others.
    assert least_used_cpu({2, 3}, [0, 1, 2]) == 3
    assert least_used_cpu({5}, []) is None


# -- the hooks in a real gunicorn --------------------------------------------------------------

HELLO_APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]
"""

TWO_CPUS = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs a Linux machine with two CPUs or more",
)


def _workers(master: int) -> dict[int, str]:
    """The master's workers, each with the CPUs it may run on (as /proc lists them)."""
    cpus = {}
    for pid in worker_pids(master):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue  # gone meanwhile
        line = next(line for line in status.splitlines() if line.startswith("Cpus_allowed_list"))
        cpus[pid] = line.split(":", 1)[1].strip()
    return cpus


@contextmanager
def _gunicorn(tmp_path: Path, workers: int, pinning: str) -> Iterator[subprocess.Popen[bytes]]:
    (tmp_path / "hello.py").write_text(HELLO_APP)
    env = {**os.environ, "IVR_WEB_CPU_PINNING": pinning}
    command = [
        sys.executable, "-m", "gunicorn", "-c", "python:ivr.web.gunicorn_conf",
        "--bind", "127.0.0.1:0", "--workers", str(workers), "--pythonpath", str(tmp_path),
        "hello:app",
    ]  # fmt: skip
    master = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield master
    finally:
        master.terminate()
        master.wait(timeout=30)


@TWO_CPUS
def test_pinned_workers_each_run_on_a_cpu_of_their_own(tmp_path: Path) -> None:
    first, second = (str(cpu) for cpu in sorted(os.sched_getaffinity(0))[:2])
    with _gunicorn(tmp_path, workers=2, pinning="true") as master:
        assert wait_until(lambda: sorted(_workers(master.pid).values()) == [first, second])
        # A worker that dies is replaced on the CPU it left.
        victim = next(pid for pid, cpus in _workers(master.pid).items() if cpus == first)
        os.kill(victim, signal.SIGKILL)
        assert wait_until(
            lambda: (
                victim not in _workers(master.pid)
                and sorted(_workers(master.pid).values()) == [first, second]
            )
        )


@TWO_CPUS
def test_without_pinning_a_worker_may_run_on_every_cpu(tmp_path: Path) -> None:
    with _gunicorn(tmp_path, workers=2, pinning="false") as master:
        assert wait_until(lambda: len(_workers(master.pid)) == 2)
        everywhere = Path("/proc/self/status").read_text().split("Cpus_allowed_list:")[1]
        assert set(_workers(master.pid).values()) == {everywhere.split()[0]}


def test_a_broken_environment_is_left_to_the_worker_to_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The master does not stop on it: the worker refuses to boot, naming the variable.
    monkeypatch.setenv("IVR_WEB_CPU_PINNING", "true")
    monkeypatch.setenv("IVR_RELOAD_INTERVAL", "soon")
    master = SimpleNamespace(app=SimpleNamespace(), WORKERS={}, log=None)
    worker = SimpleNamespace()
    pre_fork(master, worker)
    assert worker.ivr_cpu is None


def test_the_procfiles_master_prepares_the_metric_files_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IVR_ENVIRONMENT", "test")
    monkeypatch.setenv("IVR_VAR_DIR", str(tmp_path))
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_1.db").write_bytes(b"last run")
    master = SimpleNamespace(app=SimpleNamespace(), log=SimpleNamespace(info=lambda *a: None))
    on_starting(master)
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "metrics")
    assert list((tmp_path / "metrics").iterdir()) == []


def test_a_broken_environment_leaves_the_metric_files_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IVR_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("IVR_RELOAD_INTERVAL", "soon")
    on_starting(SimpleNamespace(app=SimpleNamespace(), log=None))
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    assert list(tmp_path.iterdir()) == []


def test_ivr_serve_writes_json_lines_when_asked(tmp_path: Path, sqlite_url: str) -> None:
    port = free_port()
    env = ivr_environ(tmp_path, sqlite_url, port, IVR_LOG_FORMAT="json")
    server = ServerProcess(env, tmp_path, port, workers=1, threads=1).start()
    try:
        harness = CallHarness(HttpTransport(timeout=15), server.url, DEVELOPMENT_AUTH_TOKEN)
        spec = CallSpec(to="+78005553535", caller="+79161234567", inputs=(Press("4"),))
        harness.place(spec)
    finally:
        server.stop()
    first, *lines = server.log().splitlines()
    assert first.startswith("Serving ")  # the command's own word, before gunicorn starts
    records = [json.loads(line) for line in lines]  # every line an object
    names = {record["name"] for record in records}
    assert {"gunicorn.error", "gunicorn.access", "ivr.services.calls"} <= names
    assert any("POST /voice/step?turn=1" in record["message"] for record in records)
    assert "+79161234567" not in server.log()
    assert any("+*********67" in record["message"] for record in records)
    # No line twice: gunicorn's loggers and the app's handler each write once.
    assert len(lines) == len(set(lines))

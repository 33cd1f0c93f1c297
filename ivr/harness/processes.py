"""``ivr serve`` (gunicorn) and the other commands as real processes, for the tests and the
benchmarks that need several of them on one database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

IVR = str(Path(sys.executable).with_name("ivr"))
# The checkout: the shipped flows/ and prompts/ beside the package.
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Whether ``condition`` came true within ``timeout`` seconds (looked at every 0.1 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def worker_pids(master: int) -> set[int]:
    """The processes a gunicorn master has forked (its workers), as /proc lists them."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def allowed_cpus(pid: int | None) -> str:
    """The CPUs a process may run on, as /proc lists them (``0-1``, ``3``), or ``?``."""
    if pid is None:
        return "?"
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "?"
    return next(
        (
            line.split(":", 1)[1].strip()
            for line in status.splitlines()
            if line.startswith("Cpus_allowed_list:")
        ),
        "?",
    )


def cpu_seconds(pids: set[int] | list[int]) -> float:
    """User + system CPU time of processes (all their threads) from /proc; a process that is
    gone counts 0."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def ivr_environ(workdir: Path, database_url: str, port: int, **extra: str) -> dict[str, str]:
    """The environment of a development server on ``port`` over the shipped flows.

    Nothing from the shell's IVR_/TWILIO_ variables (nor PROMETHEUS_MULTIPROC_DIR) leaks in;
    ``extra`` adds settings by their variable names.
    """
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IVR_", "TWILIO_")) and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    return {
        **inherited,
        "IVR_ENVIRONMENT": "development",
        "IVR_DATABASE_URL": database_url,
        "IVR_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "IVR_FLOWS_DIR": str(ROOT / "flows"),
        "IVR_PROMPTS_DIR": str(ROOT / "prompts"),
        "IVR_VAR_DIR": str(workdir / "var"),
        "IVR_RECORDINGS_DIR": str(workdir / "recordings"),
        **extra,
    }


def run_ivr(
    args: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run one ``ivr`` command to its end; its output is returned, not checked."""
    return subprocess.run(
        [IVR, *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class ServerProcess:
    """``ivr serve`` in a process group of its own: started, waited for, stopped or killed."""

    def __init__(
        self, env: Mapping[str, str], workdir: Path, port: int, workers: int = 2, threads: int = 4
    ) -> None:
        self.env = dict(env)
        self.workdir = workdir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.args = [
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ]
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> ServerProcess:
        """Start the server and wait until ``/healthz`` answers."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [IVR, *self.args],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("ivr serve exited: " + self.log())
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("ivr serve did not answer /healthz: " + self.log())
            time.sleep(0.1)

    def log(self) -> str:
        """What the server has written so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """``kill -9`` the master and every worker at once, as a crash or an OOM kill would."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), killing it when it does not stop in time."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

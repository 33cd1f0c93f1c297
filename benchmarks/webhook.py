"""``make bench``: a signed menu turn through the whole app against a minimal Flask route.

Two gunicorn servers, each ONE worker of the same class (gthread with 4 threads by default, as
the Procfile runs in production), are started on free ports of 127.0.0.1:

* **full app**: ``create_app`` over the shipped ``flows/`` and ``prompts/``, a fresh migrated
  SQLite database in a temporary directory, environment ``test``, signatures *checked*
  (``IVR_SKIP_SIGNATURE_CHECK=false``; a forged request is sent first and must get 403), and a
  fixed clock on Wednesday 2026-11-25 10:00 Moscow time so the main menu is open. Gunicorn
  loads it as ``benchmarks.webhook:full_app()``, configured through the environment;
* **baseline**: ``benchmarks.baseline_app:app``, one POST route that returns the same
  ``<Gather>`` document built with twilio's ``VoiceResponse``; no database, no signature.

A *menu turn* is what Twilio sends when a caller answers the main menu: ``POST
/voice/step?turn=N`` with Twilio's ~30 form fields, ``Digits=*`` (repeat the menu) and an
``X-Twilio-Signature`` over the public URL and the form. Every call is created first with an
untimed ``POST /voice/incoming``; then its turns 1..3 (``--turns-per-call``) are timed, one
after the other on the same call (a caller asking for the menu again twice is realistic; a
call's stored inputs grow a little per turn, as they do for real). Each timed turn must move
the call on: the answer must be 200, contain ``<Gather`` and point at turn N+1. The baseline
gets the same requests (signed for its own URL, so only the port and signature differ).

All requests are built and signed before the clock starts. The load generator is this
process: ``--concurrency`` threads, each with its own keep-alive connection, sending
pre-built HTTP/1.1 requests over a raw socket (far cheaper than ``http.client``, so that on a
small machine the client takes as little CPU from the server as possible). Servers are
measured alternately for ``--rounds`` rounds (baseline then full, then full then baseline, …),
each after a warm-up; the reported figures are the median over the rounds of each figure, and
the ratio of each round is printed too, to show how much the machine varied.

The run exits 0 whatever the figures (this is a benchmark, not a test); it exits 1 only when
something broke: a server did not start, an answer was not 200, had no ``<Gather>`` or did
not advance the turn, or a forged signature was accepted.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ivr.harness.processes import allowed_cpus

ROOT = Path(__file__).resolve().parents[1]

AUTH_TOKEN = "bench-auth-token"
ACCOUNT_SID = "AC" + "b" * 32
LINE = "+78005553535"
# Wednesday 25 November 2026, 10:00 Moscow time: the main line is open.
CLOCK = "2026-11-25T10:00:00+03:00"
CLOCK_ENV = "IVR_BENCH_CLOCK"

TARGET_RATIO = 0.70
TARGET_P99_MS = 20.0
# The steady load, unless --steady-rate says: this share of the baseline's saturated throughput.
STEADY_SHARE = 0.5


# -- the full app, as gunicorn loads it in the child process ---------------------------------


def full_app() -> Any:
    """``gunicorn 'benchmarks.webhook:full_app()'``: the real app, settings from the
    environment (``IVR_*``, ``TWILIO_*``), the clock fixed at ``IVR_BENCH_CLOCK``."""
    from ivr.config import Settings
    from ivr.web import create_app

    settings = Settings.from_environ(os.environ)
    moment = datetime.fromisoformat(os.environ.get(CLOCK_ENV, CLOCK))
    return create_app(settings, clock=lambda: moment)


# -- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerOptions:
    worker_class: str
    threads: int
    log_level: str


class Server:
    """One gunicorn master with one worker, started by us and stopped by us (by pid)."""

    def __init__(self, name: str, target: str, workdir: Path, options: ServerOptions) -> None:
        self.name = name
        self.target = target
        self.workdir = workdir
        self.options = options
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"{name}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env_for: Callable[[int], dict[str, str]]) -> None:
        for _ in range(3):  # a free port can be taken between the probe and the bind
            self.port = free_port()
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                # The Procfile's settings (their hooks), for both servers alike.
                "--config",
                "python:ivr.web.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--worker-class",
                self.options.worker_class,
                "--threads",
                str(self.options.threads),
                "--timeout",
                "60",
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
                self.target,
            ]
            log = self.log_path.open("ab")
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env_for(self.port),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            log.close()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and self.process.poll() is None:
                if self.worker_pid() is not None and self._answers():
                    return
                time.sleep(0.05)
            bind_failed = "Address already in use" in self.log_tail()
            self.stop()
            if not bind_failed:
                break
        raise BenchError(f"{self.name} server: gunicorn did not start (log below)")

    def _answers(self) -> bool:
        """True once the worker answers HTTP at all (any status)."""
        connection = Connection(self.port)
        try:
            connection.exchange(
                f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n".encode()
            )
            return True
        except (OSError, _Closed, BenchError):
            return False
        finally:
            connection.close()

    def worker_pid(self) -> int | None:
        """The pid of the one gunicorn worker (a child of the master we started)."""
        if self.process is None:
            return None
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children")
        try:
            pids = [int(p) for p in children.read_text().split()]
        except OSError:
            pids = []
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                if int(fields[1]) == master:
                    pids.append(int(stat.parent.name))
        return pids[0] if pids else None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    if pid is None:
        return math.nan
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- requests --------------------------------------------------------------------------------


class BenchError(Exception):
    """Something broke: the benchmark cannot be trusted."""


def twilio_fields(sid: str, caller: str, **extra: str) -> dict[str, str]:
    """The form fields Twilio posts for a call to the main line (voice webhook / Gather)."""
    fields = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": "in-progress",
        "Called": LINE,
        "CalledCity": "",
        "CalledCountry": "RU",
        "CalledState": "",
        "CalledZip": "",
        "Caller": caller,
        "CallerCity": "",
        "CallerCountry": "RU",
        "CallerState": "",
        "CallerZip": "",
        "Direction": "inbound",
        "From": caller,
        "FromCity": "",
        "FromCountry": "RU",
        "FromState": "",
        "FromZip": "",
        "To": LINE,
        "ToCity": "",
        "ToCountry": "RU",
        "ToState": "",
        "ToZip": "",
    }
    fields.update(extra)
    return fields


@dataclass(frozen=True)
class Request:
    """Pre-built bytes of one request and what its answer must contain."""

    data: bytes
    expect: bytes


class Signer:
    """Builds signed requests for one server exactly as Twilio signs them."""

    def __init__(self, base_url: str, host: str) -> None:
        from twilio.request_validator import RequestValidator

        self.base_url = base_url
        self.host = host
        self.validator = RequestValidator(AUTH_TOKEN)

    def request(
        self, path: str, params: dict[str, str], expect: bytes, signature: str | None = None
    ) -> Request:
        if signature is None:
            signature = self.validator.compute_signature(self.base_url + path, params)
        body = urlencode(params).encode()
        head = (
            f"POST {path} HTTP/1.1\r\n"
            f"Host: {self.host}\r\n"
            "User-Agent: TwilioProxy/1.1\r\n"
            "Accept: */*\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-Twilio-Signature: {signature}\r\n"
            "\r\n"
        ).encode()
        return Request(head + body, expect)


def new_call() -> tuple[str, str]:
    sid = "CA" + uuid.uuid4().hex
    caller = "+7916" + str(uuid.uuid4().int)[:7]
    return sid, caller


def incoming(signer: Signer, sid: str, caller: str) -> Request:
    return signer.request("/voice/incoming", twilio_fields(sid, caller), b'/voice/step?turn=1"')


def menu_turn(signer: Signer, sid: str, caller: str, turn: int) -> Request:
    fields = twilio_fields(sid, caller, Digits="*", FinishedOnKey="", msg="Gather End")
    return signer.request(
        f"/voice/step?turn={turn}", fields, f'/voice/step?turn={turn + 1}"'.encode()
    )


# -- the load generator ----------------------------------------------------------------------


class Connection:
    """A keep-alive HTTP/1.1 connection that sends pre-built requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buffer = sock, b""
        return sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def exchange(self, data: bytes) -> tuple[int, bytes]:
        """Send one request, read its whole answer: (status, body)."""
        for attempt in (0, 1):
            fresh = self.sock is None
            sock = self.sock or self._connect()
            try:
                sock.sendall(data)
                return self._read(sock)
            except (ConnectionError, _Closed):
                # The server closed an idle kept-alive connection: retry once on a new one.
                self.close()
                if fresh or attempt:
                    raise
        raise AssertionError("unreachable")

    def _read(self, sock: socket.socket) -> tuple[int, bytes]:
        buffer = self.buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            chunk = sock.recv(65536)
            if not chunk:
                raise _Closed
            buffer += chunk
        head = buffer[:end].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        length, close = 0, False
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
            elif name == "transfer-encoding":
                raise BenchError("chunked answers are not expected")
        start = end + 4
        while len(buffer) < start + length:
            chunk = sock.recv(65536)
            if not chunk:
                raise BenchError("connection closed in the middle of an answer")
            buffer += chunk
        body, self.buffer = buffer[start : start + length], buffer[start + length :]
        if close:
            self.close()
        return status, body


class _Closed(Exception):
    pass


@dataclass
class PhaseResult:
    latencies: list[float]
    wall: float
    client_cpu: float
    server_cpu: float
    errors: list[str]
    stopped_early: bool


def run_phase(
    port: int,
    work: Sequence[Sequence[Request]],
    *,
    worker_pid: int | None,
    max_seconds: float,
    rate: float | None = None,
) -> PhaseResult:
    """Every thread sends its list of requests in order on its own connection.

    Without ``rate``, each thread sends its next request as soon as the last one is answered
    (a closed loop: the server is kept saturated). With ``rate`` (requests/s, all threads
    together), request k of thread i is due at ``(k * threads + i) / rate`` seconds after the
    start and is sent then, or as soon as its connection is free if the server is late; its
    latency counts from when it was due, so a server that falls behind shows it (no
    "coordinated omission")."""
    latencies: list[list[float]] = [[] for _ in work]
    threads_count = len(work)
    errors: list[str] = []
    stopped = threading.Event()
    start = threading.Barrier(len(work) + 1)
    # Set by this thread just before the start: when to stop sending, and when it began.
    stop_after, origin = [0.0], [0.0]

    def client(index: int) -> None:
        connection = Connection(port)
        mine = latencies[index]
        clock = time.perf_counter
        try:
            # Connect before the clock starts, as a kept-alive Twilio edge would be.
            connection._connect()
            start.wait()
            t0 = origin[0]
            for k, request in enumerate(work[index]):
                if stopped.is_set():
                    return
                if rate is None:
                    began = clock()
                else:
                    began = t0 + (k * threads_count + index) / rate
                    wait = began - clock()
                    if wait > 0:
                        time.sleep(wait)
                status, body = connection.exchange(request.data)
                mine.append(clock() - began)
                if status != 200 or b"<Gather" not in body or request.expect not in body:
                    errors.append(
                        f"HTTP {status}, expected 200 with <Gather and {request.expect.decode()}:"
                        f" {body[:300]!r}"
                    )
                    stopped.set()
                    return
                if began > stop_after[0]:
                    stopped.set()
                    return
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            stopped.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(work))]
    for thread in threads:
        thread.start()
    cpu_client, cpu_server = time.process_time(), cpu_seconds(worker_pid)
    began = time.perf_counter()
    stop_after[0], origin[0] = began + max_seconds, began
    start.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    result = PhaseResult(
        latencies=[x for per_thread in latencies for x in per_thread],
        wall=wall,
        client_cpu=time.process_time() - cpu_client,
        server_cpu=cpu_seconds(worker_pid) - cpu_server,
        errors=errors,
        stopped_early=stopped.is_set() and not errors,
    )
    if errors:
        raise BenchError(f"{len(errors)} failed request(s); first: {errors[0]}")
    return result


def deal(items: Sequence[Sequence[Request]], threads: int) -> list[list[Request]]:
    """Calls dealt out to threads round-robin; each call's requests stay in order on one."""
    work: list[list[Request]] = [[] for _ in range(threads)]
    for index, call in enumerate(items):
        work[index % threads].extend(call)
    return work


# -- rounds ----------------------------------------------------------------------------------


@dataclass
class Measurement:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    server_cpu_ms_per_request: float
    client_cpu_ms_per_request: float
    stopped_early: bool

    @classmethod
    def of(cls, phase: PhaseResult) -> Measurement:
        ordered = sorted(phase.latencies)
        n = len(ordered)

        def pct(q: float) -> float:
            return ordered[max(0, math.ceil(q * n) - 1)] * 1000

        return cls(
            requests=n,
            seconds=round(phase.wall, 3),
            rps=n / phase.wall,
            p50_ms=pct(0.50),
            p90_ms=pct(0.90),
            p99_ms=pct(0.99),
            max_ms=ordered[-1] * 1000,
            mean_ms=statistics.fmean(ordered) * 1000,
            server_cpu_ms_per_request=phase.server_cpu * 1000 / n,
            client_cpu_ms_per_request=phase.client_cpu * 1000 / n,
            stopped_early=phase.stopped_early,
        )


@dataclass
class ServerResult:
    name: str
    rounds: list[Measurement] = field(default_factory=list)

    def median(self, key: str) -> float:
        return float(statistics.median(getattr(m, key) for m in self.rounds))

    def summary(self) -> dict[str, float]:
        keys = ("rps", "p50_ms", "p90_ms", "p99_ms", "mean_ms", "server_cpu_ms_per_request")
        return {key: round(self.median(key), 3) for key in keys}


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        options = ServerOptions(args.worker_class, args.threads, args.app_log_level)
        self.full = Server("full", "benchmarks.webhook:full_app()", workdir, options)
        self.baseline = Server("baseline", "benchmarks.baseline_app:app", workdir, options)
        self.database_url = f"sqlite:///{workdir}/ivr.db"

    def child_env(self, port: int) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("IVR_", "TWILIO_", "GUNICORN_"))
        }
        env.update(
            {
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
                "PYTHONDONTWRITEBYTECODE": "1",
                "IVR_ENVIRONMENT": "test",
                "IVR_DATABASE_URL": self.database_url,
                "IVR_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "IVR_FLOWS_DIR": str(ROOT / "flows"),
                "IVR_PROMPTS_DIR": str(ROOT / "prompts"),
                "IVR_VAR_DIR": str(self.workdir / "var"),
                "IVR_RELOAD_INTERVAL": "2",
                "IVR_SKIP_SIGNATURE_CHECK": "false",
                "IVR_LOG_LEVEL": self.args.app_log_level,
                # Read by the gunicorn hooks of both servers (ivr.web.gunicorn_conf).
                "IVR_WEB_CPU_PINNING": "true" if self.args.cpu_pinning else "false",
                "IVR_SQLITE_NAVIGATION_SYNC": self.args.sqlite_navigation_sync,
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                CLOCK_ENV: CLOCK,
            }
        )
        return env

    def start(self) -> None:
        from ivr.store.migrate import upgrade

        logging.disable(logging.INFO)  # alembic's "Running upgrade" lines
        upgrade(self.database_url)
        logging.disable(logging.NOTSET)
        self.full.start(self.child_env)
        self.baseline.start(self.child_env)
        self.full_signer = Signer(self.full.base_url, f"127.0.0.1:{self.full.port}")
        self.baseline_signer = Signer(self.baseline.base_url, f"127.0.0.1:{self.baseline.port}")

    def stop(self) -> None:
        self.full.stop()
        self.baseline.stop()

    def sanity(self) -> bool:
        """Signatures are enforced, and both servers answer the same document."""
        connection = Connection(self.full.port)
        try:
            sid, caller = new_call()
            forged = self.full_signer.request(
                "/voice/incoming", twilio_fields(sid, caller), b"", signature="bm90IGEgc2ln"
            )
            status, _ = connection.exchange(forged.data)
            if status != 403:
                raise BenchError(f"a forged signature got HTTP {status}, not 403")
            status, body = connection.exchange(incoming(self.full_signer, sid, caller).data)
            if status != 200:
                raise BenchError(f"/voice/incoming: HTTP {status}: {body[:300]!r}")
            status, full_body = connection.exchange(
                menu_turn(self.full_signer, sid, caller, 1).data
            )
        finally:
            connection.close()
        connection = Connection(self.baseline.port)
        try:
            _, base_body = connection.exchange(menu_turn(self.baseline_signer, sid, caller, 1).data)
        finally:
            connection.close()
        # Each server writes its own address into the URLs; the rest must be the same.
        return full_body.replace(self.full.base_url.encode(), b"") == base_body.replace(
            self.baseline.base_url.encode(), b""
        )

    def worker_cpus(self) -> dict[str, str]:
        """The CPUs each server's worker may run on; with --cpu-pinning, one each."""
        cpus = {
            server.name: allowed_cpus(server.worker_pid()) for server in (self.baseline, self.full)
        }
        if self.args.cpu_pinning and any(not c.isdigit() for c in cpus.values()):
            raise BenchError(f"--cpu-pinning: the workers were not pinned (CPUs: {cpus})")
        return cpus

    def calls(self, signer: Signer, count: int) -> tuple[list[list[Request]], list[list[Request]]]:
        """``count`` new calls: their incoming webhooks and their timed menu turns."""
        starts, turns = [], []
        for _ in range(count):
            sid, caller = new_call()
            starts.append([incoming(signer, sid, caller)])
            turns.append(
                [menu_turn(signer, sid, caller, t) for t in range(1, self.args.turns_per_call + 1)]
            )
        return starts, turns

    def measure(
        self, server: Server, requests: int, connections: int, rate: float | None = None
    ) -> Measurement:
        """Create the calls (untimed, full app only), then time their menu turns: as fast as
        the server answers, or at a steady ``rate``."""
        per_call = self.args.turns_per_call
        signer = self.full_signer if server is self.full else self.baseline_signer
        worker = server.worker_pid()
        if server is self.full and self.args.first_turns:
            # Every timed request is a new call's first webhook.
            timed, _ = self.calls(signer, requests)
        else:
            starts, timed = self.calls(signer, math.ceil(requests / per_call))
            if server is self.full:
                run_phase(
                    server.port, deal(starts, connections), worker_pid=worker, max_seconds=3600
                )
        phase = run_phase(
            server.port,
            deal(timed, connections),
            worker_pid=worker,
            max_seconds=self.args.max_seconds,
            rate=rate,
        )
        return Measurement.of(phase)

    def rounds(
        self,
        label: str,
        requests: int,
        connections: int,
        progress: Callable[[str], None],
        rate: float | None = None,
    ) -> dict[str, ServerResult]:
        """``--rounds`` alternating rounds of both servers under the same load."""
        results = {"baseline": ServerResult("baseline"), "full": ServerResult("full app")}
        pair = (("baseline", self.baseline), ("full", self.full))
        for round_no in range(1, self.args.rounds + 1):
            # Each server goes first in every other round, so a machine that slows down or
            # speeds up over the run favours neither.
            for key, server in pair if round_no % 2 else pair[::-1]:
                if self.args.warmup:
                    self.measure(server, self.args.warmup, self.args.concurrency)
                m = self.measure(server, requests, connections, rate)
                results[key].rounds.append(m)
                progress(
                    f"{label} round {round_no} {results[key].name:<9} {m.rps:8.1f} req/s"
                    f"  p50 {m.p50_ms:6.2f} ms  p99 {m.p99_ms:6.2f} ms"
                    f"  server CPU {m.server_cpu_ms_per_request:5.2f} ms/req"
                    f"  client CPU {m.client_cpu_ms_per_request:5.2f} ms/req"
                    + ("  (stopped at --max-seconds)" if m.stopped_early else "")
                )
        return results

    def run(self, progress: Callable[[str], None]) -> dict[str, Any]:
        same = self.sanity()
        if not same:
            progress("WARNING: the baseline's document differs from the full app's")
        args = self.args
        results = self.rounds("saturated", args.requests, args.concurrency, progress)
        base, full = results["baseline"].summary(), results["full"].summary()
        # Each round measures both servers back to back, so a round's ratio is the one
        # figure a machine that speeds up or slows down between rounds leaves alone; the
        # ratio of the two medians would pair figures from different rounds.
        round_ratios = [
            f.rps / b.rps
            for b, f in zip(results["baseline"].rounds, results["full"].rounds, strict=True)
        ]
        ratio = round(statistics.median(round_ratios), 3)
        # Latency at a load both servers can carry: at saturation it is mostly queueing.
        rate = args.steady_rate or round(STEADY_SHARE * base["rps"])
        steady: dict[str, Any] = {}
        if args.steady_requests:
            steady_results = self.rounds(
                "steady", args.steady_requests, args.steady_connections, progress, float(rate)
            )
            steady = {key: r.summary() for key, r in steady_results.items()}
        return {
            "scenario": "signed menu turn: POST /voice/step?turn=N, Digits=*, main menu again",
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "settings": {
                "worker_class": self.args.worker_class,
                "workers": 1,
                "threads": self.args.threads,
                "concurrency": self.args.concurrency,
                "requests_per_round": self.args.requests,
                "warmup_per_round": self.args.warmup,
                "rounds": self.args.rounds,
                "turns_per_call": self.args.turns_per_call,
                "first_turns": self.args.first_turns,
                "sqlite_navigation_sync": self.args.sqlite_navigation_sync,
                "steady_requests_per_round": self.args.steady_requests,
                "app_log_level": self.args.app_log_level,
                "cpu_pinning": self.args.cpu_pinning,
                "worker_cpus": self.worker_cpus(),
                "aggregate": "median over rounds",
            },
            "same_document": same,
            "baseline": base,
            "full": full,
            "ratio": ratio,
            "round_ratios": [round(r, 3) for r in round_ratios],
            "ratio_of_medians": round(full["rps"] / base["rps"], 3),
            "steady": {"rate": rate, "connections": args.steady_connections, **steady},
            "targets": {"min_ratio": TARGET_RATIO, "max_p99_ms": TARGET_P99_MS},
            "pass": {
                "throughput": ratio >= TARGET_RATIO,
                "p99": full["p99_ms"] < TARGET_P99_MS,
                **({"steady_p99": steady["full"]["p99_ms"] < TARGET_P99_MS} if steady else {}),
            },
            "rounds": {key: [asdict(m) for m in r.rounds] for key, r in results.items()},
        }


def _table(figures: dict[str, Any]) -> list[str]:
    """Both servers' medians, one line each, under a header."""
    lines = [
        f"{'server':<10}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'mean ms':>9}"
        f"{'CPU ms/req':>12}"
    ]
    for key, name in (("baseline", "baseline"), ("full", "full app")):
        m = figures[key]
        lines.append(
            f"{name:<10}{m['rps']:>9.1f}{m['p50_ms']:>9.2f}{m['p90_ms']:>9.2f}"
            f"{m['p99_ms']:>9.2f}{m['mean_ms']:>9.2f}{m['server_cpu_ms_per_request']:>12.2f}"
        )
    return lines


def report(result: dict[str, Any]) -> str:
    s = result["settings"]
    worker = f"{s['worker_class']}" + (
        f", {s['threads']} threads" if s["worker_class"] == "gthread" else ""
    )
    if s["cpu_pinning"]:
        worker += ", pinned to one CPU"
    lines = [
        f"Signed menu turn (POST /voice/step, Digits=*) — gunicorn 1 worker ({worker}),",
        f"{s['concurrency']} client connections"
        + (" (keep-alive)" if s["worker_class"] == "gthread" else " (sync closes each)")
        + f", {s['requests_per_round']} requests"
        f" per server per round, {s['rounds']} alternating rounds; median over rounds."
        f" {result['machine']['cpus']} CPUs, Python {result['machine']['python']}.",
        "",
        *_table(result),
    ]
    ratio, passed = result["ratio"], result["pass"]
    lines += [
        "",
        f"throughput ratio full/baseline, median of the rounds' ratios: {ratio:.0%}"
        f" (round by round: {', '.join(f'{r:.0%}' for r in result['round_ratios'])};"
        f" ratio of the medians above: {result['ratio_of_medians']:.0%})",
        f"{'PASS' if passed['throughput'] else 'MISS'}  throughput: full app keeps {ratio:.0%}"
        f" of the baseline (target >= {TARGET_RATIO:.0%})",
        f"{'PASS' if passed['p99'] else 'MISS'}  latency, saturated: full app p99"
        f" {result['full']['p99_ms']:.1f} ms (target < {TARGET_P99_MS:.0f} ms;"
        f" the baseline's own: {result['baseline']['p99_ms']:.1f} ms)",
    ]
    steady = result["steady"]
    if "full" in steady:
        lines += [
            "",
            f"Steady load: {steady['rate']:.0f} requests/s offered to each server over"
            f" {steady['connections']} connections, {s['steady_requests_per_round']} requests"
            " per round; latency counted from when each request was due.",
            "",
            *_table(steady),
            "",
            f"{'PASS' if passed['steady_p99'] else 'MISS'}  latency, steady load: full app p99"
            f" {steady['full']['p99_ms']:.1f} ms (target < {TARGET_P99_MS:.0f} ms)",
        ]
    if not result["same_document"]:
        lines.append("WARNING: the baseline's TwiML differs from the full app's; compare them")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.webhook",
        description="Signed menu turn through the full app vs a minimal Flask route.",
    )
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per round")
    parser.add_argument("--warmup", type=int, default=300, help="untimed requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per server")
    parser.add_argument("--concurrency", type=int, default=8, help="client connections")
    parser.add_argument(
        "--worker-class", choices=("gthread", "sync"), default="gthread", help="both servers"
    )
    parser.add_argument(
        "--threads", type=int, default=4, help="gthread threads per worker (sync: always 1)"
    )
    parser.add_argument(
        "--cpu-pinning",
        action="store_true",
        help="both servers' worker on one CPU (IVR_WEB_CPU_PINNING=true)",
    )
    parser.add_argument("--turns-per-call", type=int, default=3, help="menu turns per call")
    parser.add_argument(
        "--steady-requests",
        type=int,
        default=2000,
        help="timed requests per round at a steady rate (0: no steady phase)",
    )
    parser.add_argument(
        "--steady-rate",
        type=float,
        default=0,
        help=f"requests/s of the steady phase (0: {STEADY_SHARE:.0%}% of the baseline's"
        " saturated throughput)",
    )
    parser.add_argument(
        "--steady-connections", type=int, default=32, help="client connections, steady phase"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=60, help="stop a timed phase after this long"
    )
    parser.add_argument(
        "--sqlite-navigation-sync",
        choices=("NORMAL", "FULL"),
        default="NORMAL",
        help="IVR_SQLITE_NAVIGATION_SYNC of the full app (durable commits are always FULL)",
    )
    parser.add_argument(
        "--first-turns",
        action="store_true",
        help="time the full app's first turn of new calls (POST /voice/incoming) instead of"
        " menu turns; the baseline still answers its menu turn",
    )
    parser.add_argument("--app-log-level", default="INFO", help="IVR_LOG_LEVEL of the full app")
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if min(args.requests, args.rounds, args.concurrency, args.threads, args.turns_per_call) < 1:
        parser.error("--requests, --rounds, --concurrency, --threads, --turns-per-call >= 1")
    if args.steady_requests < 0 or args.steady_rate < 0 or args.steady_connections < 1:
        parser.error("--steady-requests, --steady-rate >= 0 and --steady-connections >= 1")
    if args.worker_class == "sync":
        # gunicorn quietly runs gthread instead of sync when threads > 1.
        args.threads = 1
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    bench = Bench(args, workdir)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        bench.start()
        result = bench.run(progress)
    except (BenchError, OSError) as exc:
        print(f"bench: BROKEN: {exc}", file=sys.stderr)
        for server in (bench.full, bench.baseline):
            tail = server.log_tail()
            if tail:
                print(f"--- {server.name} server log (tail) ---\n{tail}", file=sys.stderr)
        return 1
    finally:
        bench.stop()
        if args.keep:
            print(f"bench: files kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

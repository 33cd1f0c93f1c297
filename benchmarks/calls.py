"""``make bench-calls``: whole calls of a realistic mix, paced in real time, against ``ivr serve``.

Simulated callers (threads of this process) each place whole calls one after another with the
call harness (``ivr.harness.simulator``), signed as Twilio signs them, over real HTTP to a
real ``ivr serve`` (gunicorn, ``--workers``/``--threads``), on SQLite or PostgreSQL, with
``ivr worker`` beside it if asked. The mix (``call_spec``):

* line open (``1 - --after-hours``): 2 to 4 menu turns (``*`` repeats the menu, then a
  topic and its sub-menu), then the queue: its ``waitUrl`` is asked ``--queue-waits`` times,
  each after the announcements the previous one played (about 27 s of call time apart with
  the shipped flows), and the caller hangs up in the queue;
* after hours, half of them book a callback (three menu turns), half leave a voicemail: the
  recording is served by the stand-in recording host (``ivr.harness.recordings``) in this
  process, the server downloads it on the recording status callback.

Every call ends with the status callback. The harness estimates the call's own clock (speech
at a fixed rate, pauses, answers); each request is sent when that clock, divided by
``--speedup``, says, so 100 callers at speed-up 10 load the server as 1 000 concurrent calls
do (the ``X-IVR-Clock`` header tells the development server the call's moment).

The load is a stepped ramp (``--steps``, callers per step, each step ``--step-seconds`` of
new calls, then the calls under way finish). Per step and webhook kind: requests/s, p50/p99
latency (whole request, client side), errors; per step: server CPU (the gunicorn master and
its workers, from /proc) per whole call. A step is *sustained* when its p99 over every request
is under ``--p99-ms`` and nothing failed; *calls per web core* is the largest sustained step's
equivalent concurrent calls divided by the web processes.

CPU ms per request of each kind is measured apart, before the ramp: ``--profile-calls`` calls
one at a time, the server's CPU read before and after each request (the kernel counts CPU in
ticks of 10 ms, so this is an average over many requests, not a per-request figure).

Side by side, in the same run: the bare Flask route (``benchmarks.baseline_app``) is sent as
many menu turns as the largest step sent, at that step's rate, and its latency and CPU per
request are reported beside the full app's.

After the run the database is checked (``ivr.harness.ledger``): every request number a caller
heard exists exactly once, with its booking or stored voicemail, and nothing beyond. The exit
status is 1 when that check fails or a server did not start; the figures themselves never fail
the run (it is a benchmark, not a test).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from ivr.domain.schedule import MOSCOW
from ivr.harness.inputs import CallerInput, Press, Talk
from ivr.harness.ledger import Told, problems, told_number
from ivr.harness.processes import (
    IVR,
    ServerProcess,
    allowed_cpus,
    cpu_seconds,
    free_port,
    ivr_environ,
    worker_pids,
)
from ivr.harness.protocol import CLOCK_HEADER
from ivr.harness.recordings import RecordingHost
from ivr.harness.simulator import CallHarness, CallResult, CallSpec
from ivr.harness.transport import HttpReply, HttpTransport, Transport, TransportError

ROOT = Path(__file__).resolve().parents[1]
AUTH_TOKEN = "bench-auth-token"
METRICS_TOKEN = "bench-metrics-token"
ACCOUNT_SID = "AC" + "c" * 32
HOTLINE = "+78005553535"
# Wednesdays a year ahead of the machine's clock's present, so that callbacks booked for the
# next morning are not yet due for the real-time `ivr worker`: it would dial them.
FIRST_DAY = datetime(2027, 11, 24, tzinfo=MOSCOW)
OPEN_AT = timedelta(hours=10)
AFTER_HOURS_AT = timedelta(hours=22, minutes=30)
# A call's length at speed-up 1 as the shipped flows make it (for staggering starts).
TYPICAL_CALL_SECONDS = 150.0
KINDS = (
    "/voice/incoming",
    "/voice/step",
    "/voice/queue/wait",
    "/voice/queue/key",
    "/voice/recording",
    "/voice/status",
)


class BenchError(Exception):
    """Something broke: the figures cannot be trusted."""


# -- the mix -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One call of the mix: its kind (open, booking, voicemail) and its script."""

    kind: str
    spec: CallSpec


def call_spec(index: int, rng: random.Random, after_hours: float, queue_waits: int) -> Planned:
    """The ``index``-th call: its own caller number and CallSid, a time of day by its kind."""
    caller = f"+7916{index % 10_000_000:07d}"
    # Spread over weekdays so that bookings do not pile onto one morning's slots.
    day = FIRST_DAY + timedelta(days=7 * (index % 20))
    seed = f"bench-{uuid.uuid4().hex}"
    inputs: tuple[CallerInput, ...]
    if rng.random() < after_hours:
        if rng.random() < 0.5:
            # When the slot offered is taken by another caller meanwhile, the next one is
            # offered: the caller takes it (the spare presses are not used otherwise).
            kind, inputs = "booking", (Press("2"), Press("1"), *[Press("1")] * 4)
        else:
            kind, inputs = "voicemail", (Press("1"), Talk(3))
        at = day + AFTER_HOURS_AT
    else:
        # 2 to 4 menu turns: the menu again ("*") once or twice, then a topic and its
        # sub-menu, and the caller waits in the queue.
        repeats = rng.randint(0, 2)
        kind, inputs = "open", (*([Press("*")] * repeats), Press("1"), Press("1"))
        at = day + OPEN_AT
    spec = CallSpec(
        to=HOTLINE,
        caller=caller,
        at=at,
        inputs=inputs,
        seed=seed,
        queue_waits=queue_waits,
    )
    return Planned(kind, spec)


# -- measuring requests ----------------------------------------------------------------------


@dataclass
class Sample:
    """One request: its kind, when it was sent (perf_counter), latency, status or None."""

    kind: str
    sent: float
    seconds: float
    status: int | None
    cpu: float = math.nan


@dataclass
class Log:
    """Every request of a phase, from every caller thread."""

    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        """Keep one request (lists are thread-safe to append to, the lock is for clarity)."""
        with self.lock:
            self.samples.append(sample)


def kind_of(url: str) -> str:
    """The webhook kind of a URL: its path."""
    return urlsplit(url).path


class PacedTransport:
    """Sends each request of one call when the call's clock says, sped up ``speedup`` times,
    and logs it. Without a speed-up (0), requests go at once, and with ``cpu_of`` each
    request's server CPU is read before and after it (one call at a time)."""

    def __init__(
        self,
        inner: Transport,
        log: Log,
        call_start: datetime,
        speedup: float,
        cpu_of: Callable[[], float] | None = None,
    ) -> None:
        self.inner = inner
        self.log = log
        self.call_start = call_start
        self.speedup = speedup
        self.cpu_of = cpu_of
        self.wall_start = time.perf_counter()

    def send(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> HttpReply:
        """Wait for the request's moment, send it, log its latency and status."""
        moment = headers.get(CLOCK_HEADER)
        if moment and self.speedup:
            offset = (datetime.fromisoformat(moment) - self.call_start).total_seconds()
            wait = self.wall_start + offset / self.speedup - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        cpu_before = self.cpu_of() if self.cpu_of else math.nan
        began = time.perf_counter()
        status: int | None = None
        try:
            reply = self.inner.send(method, url, params, headers)
            status = reply.status
            return reply
        finally:
            seconds = time.perf_counter() - began
            cpu = self.cpu_of() - cpu_before if self.cpu_of else math.nan
            self.log.add(Sample(kind_of(url), began, seconds, status, cpu))


def call_failed(result: CallResult) -> str | None:
    """Why a call went wrong (an error answer, no answer, an unexpected end), or None."""
    for exchange in result.exchanges:
        if exchange.status is None or exchange.status >= 400:
            return f"{exchange.kind} {kind_of(exchange.url)}: {exchange.status} {exchange.error}"
    if not result.outcome.ok:
        return result.outcome.label()
    return None


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values (nearest rank), in ms; NaN for none."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


def latency_figures(samples: Sequence[Sample], wall: float) -> dict[str, float]:
    """Requests, requests/s, p50/p99/max latency and errors of some requests."""
    ordered = sorted(s.seconds for s in samples)
    errors = sum(1 for s in samples if s.status is None or s.status >= 500)
    return {
        "requests": len(samples),
        "rps": round(len(samples) / wall, 2) if wall else math.nan,
        "p50_ms": round(percentile(ordered, 0.50), 2),
        "p99_ms": round(percentile(ordered, 0.99), 2),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else math.nan,
        "errors": errors,
    }


# -- a CPU quota of its own for each web process (--web-cpu) ---------------------------------

# Where the CPU groups are made: this variable (or --cgroup-root) names the directory of a
# cgroup v1 `cpu` hierarchy or of a cgroup v2 group; without it the usual mount points are
# tried in this order.
CGROUP_ROOT_ENV = "IVR_BENCH_CGROUP_ROOT"
CGROUP_CANDIDATES = (
    Path("/sys/fs/cgroup/cpu"),
    Path("/sys/fs/cgroup/cpu,cpuacct"),
    Path("/sys/fs/cgroup"),
    Path("/sys/fs/cgroup/unified"),
)
CFS_PERIOD_US = 100_000
# Groups are named so, with the benchmark's pid: `rmdir /sys/fs/cgroup/cpu/ivr-bench-*` removes
# what a `kill -9`ed run left.
CGROUP_PREFIX = "ivr-bench-"


class CgroupError(Exception):
    """``--web-cpu`` cannot be honoured here; the message is one line for the user."""


def cgroup_version(root: Path) -> int | None:
    """1 for a cgroup v1 ``cpu`` hierarchy, 2 for a cgroup v2 group offering ``cpu``, else
    None."""
    if (root / "cpu.cfs_quota_us").is_file() and (root / "cgroup.procs").is_file():
        return 1
    try:
        if "cpu" in (root / "cgroup.controllers").read_text().split():
            return 2
    except OSError:
        pass
    return None


def find_cgroup_root(explicit: str | None) -> tuple[Path, int]:
    """The directory to make the groups in and its cgroup version."""
    candidates = [Path(explicit)] if explicit else list(CGROUP_CANDIDATES)
    for root in candidates:
        version = cgroup_version(root)
        if version:
            return root, version
    where = explicit or ", ".join(str(c) for c in CGROUP_CANDIDATES)
    raise CgroupError(f"no cgroup CPU controller (v1 cpu.cfs_quota_us or v2 cpu.max) at {where}")


def _cpu_stat(group: Path) -> dict[str, int]:
    try:
        pairs = (line.split() for line in (group / "cpu.stat").read_text().splitlines())
        return {p[0]: int(p[1]) for p in pairs if len(p) == 2}
    except (OSError, ValueError):
        return {}


class CpuGroups:
    """One CPU group per gunicorn worker process, each with a quota of ``quota`` CPUs (CFS
    bandwidth: ``quota`` × 100 ms of CPU every 100 ms), as if each web process had a small
    machine of its own. The master stays where it was.

    Made at once: a probe group is created, given its quota and removed, so that a machine
    where this cannot be done refuses before anything starts (``CgroupError``). ``follow``
    places the master's workers, and a thread places any worker forked later (a respawn);
    ``close`` moves what is left back to the root group and removes every group.
    """

    def __init__(self, quota: float, root: str | None = None) -> None:
        if not quota > 0:
            raise CgroupError(f"--web-cpu must be a positive number of CPUs, not {quota}")
        self.quota = quota
        self.quota_us = max(1000, round(quota * CFS_PERIOD_US))
        self.root, self.version = find_cgroup_root(root or os.environ.get(CGROUP_ROOT_ENV))
        self.prefix = f"{CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.groups: dict[int, Path] = {}
        self.retired: list[Path] = []
        self.placed = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self._remove(self._make("probe"))

    def settings(self) -> dict[str, Any]:
        """What the JSON tells of the quota."""
        return {
            "quota_cpus": self.quota,
            "cfs_quota_us": self.quota_us,
            "cfs_period_us": CFS_PERIOD_US,
            "cgroup_version": self.version,
            "cgroup_root": str(self.root),
            "groups_made": self.placed,
        }

    def _make(self, name: str) -> Path:
        group = self.root / f"{self.prefix}-{name}"
        try:
            if self.version == 2:
                control = self.root / "cgroup.subtree_control"
                if "cpu" not in control.read_text().split():
                    control.write_text("+cpu")
            group.mkdir()
        except OSError as exc:
            raise CgroupError(
                f"cannot create a CPU group in {self.root}: {exc.strerror or exc}"
                " (--web-cpu needs root and a writable cgroup file system)"
            ) from exc
        files = ("cpu.cfs_period_us", "cpu.cfs_quota_us") if self.version == 1 else ("cpu.max",)
        try:
            missing = [f for f in files if not (group / f).is_file()]
            if missing:
                raise CgroupError(
                    f"{self.root} is not a cgroup file system: a new group has no {missing[0]}"
                )
            if self.version == 1:
                (group / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
                (group / "cpu.cfs_quota_us").write_text(str(self.quota_us))
            else:
                (group / "cpu.max").write_text(f"{self.quota_us} {CFS_PERIOD_US}")
        except OSError as exc:
            self._remove(group)
            raise CgroupError(f"cannot set a CPU quota in {group}: {exc.strerror or exc}") from exc
        except CgroupError:
            self._remove(group)
            raise
        return group

    def _remove(self, group: Path, patience: float = 2.0) -> bool:
        """Move any process left in ``group`` to the root group and remove it."""
        deadline = time.monotonic() + patience
        while True:
            try:
                for pid in (group / "cgroup.procs").read_text().split():
                    with contextlib.suppress(OSError):
                        (self.root / "cgroup.procs").write_text(pid)
            except OSError:
                pass
            try:
                group.rmdir()
                return True
            except FileNotFoundError:
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)

    def place(self, pid: int) -> None:
        """A group of its own for process ``pid`` (all its threads)."""
        with self.lock:
            if pid in self.groups:
                return
            self.placed += 1
            group = self._make(f"w{self.placed}")
            try:
                (group / "cgroup.procs").write_text(str(pid))
            except ProcessLookupError:  # it is gone already
                self._remove(group)
                return
            except OSError as exc:
                self._remove(group)
                raise CgroupError(f"cannot move process {pid} into {group}: {exc}") from exc
            self.groups[pid] = group

    def follow(self, master: int, workers: int, timeout: float = 30) -> None:
        """Place the master's ``workers`` workers (waiting for them to be forked), then keep
        placing any new one until ``close``."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self._children(master)
            for pid in pids:
                self.place(pid)
            if len(pids) >= workers:
                break
            if time.monotonic() > deadline:
                raise CgroupError(f"gunicorn forked {len(pids)} of {workers} workers in time")
            time.sleep(0.05)
        self.thread = threading.Thread(target=self._watch, args=(master,), daemon=True)
        self.thread.start()

    @staticmethod
    def _children(master: int) -> set[int]:
        try:
            return worker_pids(master)
        except OSError:
            return set()

    def _watch(self, master: int) -> None:
        while not self.stopping.wait(0.2):
            pids = self._children(master)
            if not pids:
                continue
            for pid in pids - set(self.groups):
                with contextlib.suppress(CgroupError):
                    self.place(pid)
            with self.lock:
                for pid in set(self.groups) - pids:
                    group = self.groups.pop(pid)
                    if not self._remove(group, patience=0):
                        self.retired.append(group)

    def pids(self) -> dict[int, str]:
        """Each placed worker and its group's name."""
        with self.lock:
            return {pid: group.name for pid, group in self.groups.items()}

    def throttling(self) -> dict[str, float]:
        """CFS periods, periods throttled and seconds throttled so far, over the groups."""
        periods = throttled = 0
        waited_us = 0.0
        with self.lock:
            groups = [*self.groups.values(), *self.retired]
        for group in groups:
            stat = _cpu_stat(group)
            periods += stat.get("nr_periods", 0)
            throttled += stat.get("nr_throttled", 0)
            if "throttled_usec" in stat:
                waited_us += stat["throttled_usec"]
            else:
                waited_us += stat.get("throttled_time", 0) / 1000
        return {"periods": periods, "throttled": throttled, "seconds": waited_us / 1e6}

    def close(self) -> list[str]:
        """Stop following, remove every group; the groups that could not be removed."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=5)
        with self.lock:
            groups = [*self.groups.values(), *self.retired]
            self.groups.clear()
            self.retired.clear()
        return [str(g) for g in groups if not self._remove(g)]


def proc_stat_cpu() -> tuple[float, float]:
    """The machine's busy and stolen CPU seconds so far (every CPU, from /proc/stat)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return math.nan, math.nan
    tick = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal (guest time is inside user)
    busy = sum(fields[:8]) - fields[3] - fields[4]
    steal = fields[7] if len(fields) > 7 else 0
    return busy / tick, steal / tick


def postgres_ticks() -> dict[int, int]:
    """CPU ticks of every process named ``postgres`` on the machine (the server, its
    backends, whoever else uses it)."""
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return ticks


def postgres_cpu_between(before: Mapping[int, int], after: Mapping[int, int]) -> float:
    """CPU seconds PostgreSQL's processes used between two readings (processes that ended
    in between are not counted)."""
    ticks = sum(max(0, n - before.get(pid, 0)) for pid, n in after.items())
    return ticks / os.sysconf("SC_CLK_TCK")


# -- the run --------------------------------------------------------------------------------


class Deployment:
    """The servers, the worker and the recording host of one run, and its database."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        # First, so that a machine where the quota cannot be set refuses before anything runs.
        self.groups = CpuGroups(args.web_cpu, args.cgroup_root) if args.web_cpu else None
        self.schema: str | None = None
        self.database_url = self._database(args.database_url)
        self.host = RecordingHost(ACCOUNT_SID, AUTH_TOKEN)
        port = free_port()
        self.env = ivr_environ(
            workdir,
            self.database_url,
            port,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            IVR_TWILIO_API_BASE=self.host.base_url,
            IVR_LOG_LEVEL=args.app_log_level,
            IVR_WORKER_INTERVAL="5",
            IVR_METRICS_TOKEN=METRICS_TOKEN,
            IVR_WEB_CPU_PINNING="true" if args.cpu_pinning else "false",
        )
        self.server = ServerProcess(
            self.env, workdir, port, workers=args.workers, threads=args.threads
        )
        self.worker: subprocess.Popen[bytes] | None = None
        self.worker_cpus: list[str] = []

    def _database(self, url: str | None) -> str:
        """A fresh migrated database: an SQLite file here, or a schema of our own."""
        from ivr.store.migrate import upgrade

        if not url:
            url = f"sqlite:///{self.workdir}/ivr.db"
        elif url.startswith("postgresql"):
            from sqlalchemy import create_engine, text

            self.schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(url)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            separator = "&" if "?" in url else "?"
            self.admin_url = url
            url = f"{url}{separator}options={quote(f'-csearch_path={self.schema}')}"
        logging.disable(logging.INFO)  # alembic's "Running upgrade" lines
        upgrade(url)
        logging.disable(logging.NOTSET)
        return url

    def start(self) -> None:
        """The server, and ``ivr worker`` when asked."""
        self.server.start()
        if self.groups is not None:
            assert self.server.process is not None
            self.groups.follow(self.server.process.pid, self.args.workers)
        self.worker_cpus = self._worker_cpus()
        if self.args.worker:
            log = (self.workdir / "worker.log").open("ab")
            self.worker = subprocess.Popen(
                [IVR, "worker"],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()

    def _worker_cpus(self) -> list[str]:
        """The CPUs each web worker may run on (``/proc``); with --cpu-pinning, one each."""
        assert self.server.process is not None
        deadline = time.monotonic() + 30
        pids = worker_pids(self.server.process.pid)
        while len(pids) < self.args.workers and time.monotonic() < deadline:
            time.sleep(0.1)  # the first worker answered; the others are still forking
            pids = worker_pids(self.server.process.pid)
        cpus = sorted(allowed_cpus(pid) for pid in pids)
        if self.args.cpu_pinning and not all(cpu.isdigit() for cpu in cpus):
            raise BenchError(f"--cpu-pinning: the workers were not pinned (CPUs: {cpus})")
        return cpus

    def server_pids(self) -> set[int]:
        """The gunicorn master and its workers."""
        process = self.server.process
        if process is None:
            return set()
        return {process.pid, *worker_pids(process.pid)}

    def server_cpu(self) -> float:
        """CPU seconds the server's processes have used so far."""
        return cpu_seconds(self.server_pids())

    def worker_cpu(self) -> float:
        """CPU seconds ``ivr worker`` has used so far (0 without one)."""
        return cpu_seconds([self.worker.pid]) if self.worker is not None else 0.0

    def webhook_buckets(self) -> dict[float, float]:
        """The server's own count of webhooks answered within each bucket's time (all
        routes and outcomes, every worker), from its ``/metrics``."""
        request = urllib.request.Request(
            self.server.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=15) as response:
            text = response.read().decode()
        buckets: dict[float, float] = defaultdict(float)
        for line in text.splitlines():
            if line.startswith("ivr_webhook_duration_seconds_bucket{"):
                labels, _, value = line.rpartition(" ")
                bound = labels.split('le="', 1)[1].split('"', 1)[0]
                buckets[math.inf if bound == "+Inf" else float(bound)] += float(value)
        return dict(buckets)

    def harness(self, transport: Transport) -> CallHarness:
        """A harness for one call over ``transport``."""
        return CallHarness(
            transport,
            self.server.url,
            AUTH_TOKEN,
            account_sid=ACCOUNT_SID,
            recordings=lambda: self.host,
        )

    def stop(self) -> None:
        """Everything we started, by its own handle; the CPU groups; the schema unless kept."""
        try:
            self._stop()
        finally:
            if self.groups is not None:
                for group in self.groups.close():
                    print(f"bench-calls: could not remove CPU group {group}", file=sys.stderr)

    def _stop(self) -> None:
        if self.worker is not None:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait()
        self.server.stop()
        self.host.close()
        if self.schema and not self.args.keep:
            from sqlalchemy import create_engine, text

            admin = create_engine(self.admin_url)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            admin.dispose()


@dataclass
class Outcomes:
    """What the placed calls left: told numbers for the database check, failures."""

    told: list[Told] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # Transcripts of a few calls that should have been told a number and were not.
    untold: list[list[str]] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    menu_turns: int = 0
    call_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, planned: Planned, result: CallResult) -> None:
        """One finished call."""
        failed = call_failed(result)
        number = told_number(result) if planned.kind != "open" else None
        with self.lock:
            self.calls[planned.kind] += 1
            self.menu_turns += sum(1 for e in result.exchanges if kind_of(e.url) == "/voice/step")
            self.call_seconds += result.duration
            if failed:
                self.failures.append(f"{planned.spec.caller}: {failed}")
            if planned.kind != "open":
                self.told.append(Told(planned.kind, planned.spec.caller, number))
                if number is None and len(self.untold) < 5:
                    self.untold.append(result.transcript())


class Bench:
    """One run: the profile calls, the ramp, the baseline, the database check."""

    def __init__(self, args: argparse.Namespace, deployment: Deployment) -> None:
        self.args = args
        self.d = deployment
        self.rng = random.Random(args.seed)
        self.next_index = 0
        self.index_lock = threading.Lock()
        self.outcomes = Outcomes()
        self.inner = HttpTransport(timeout=15.0)

    def plan(self) -> Planned:
        """The next call of the mix (thread-safe)."""
        with self.index_lock:
            index = self.next_index
            self.next_index += 1
            return call_spec(index, self.rng, self.args.after_hours, self.args.queue_waits)

    def place(self, log: Log, speedup: float, cpu_of: Callable[[], float] | None = None) -> None:
        """Place one call of the mix and keep what it left."""
        planned = self.plan()
        assert planned.spec.at is not None
        transport = PacedTransport(self.inner, log, planned.spec.at, speedup, cpu_of)
        try:
            result = self.d.harness(transport).place(planned.spec)
        except TransportError as exc:  # the harness keeps these; this is a safety net
            with self.outcomes.lock:
                self.outcomes.failures.append(f"{planned.spec.caller}: {exc}")
            return
        self.outcomes.add(planned, result)

    def profile(self) -> dict[str, Any]:
        """CPU ms per request of each kind: calls one at a time, CPU read around each request."""
        log = Log()
        for _ in range(self.args.profile_calls):
            self.place(log, 0, self.d.server_cpu)
        by_kind: dict[str, list[Sample]] = defaultdict(list)
        for sample in log.samples:
            by_kind[sample.kind].append(sample)
        calls = max(1, self.args.profile_calls)
        return {
            "calls": self.args.profile_calls,
            "cpu_ms_per_call": round(sum(s.cpu for s in log.samples) * 1000 / calls, 2),
            "kinds": {
                kind: {
                    "requests": len(samples),
                    "cpu_ms_per_request": round(statistics.fmean(s.cpu for s in samples) * 1000, 2),
                    "p50_ms_alone": round(percentile(sorted(s.seconds for s in samples), 0.5), 2),
                }
                for kind, samples in sorted(by_kind.items(), key=lambda kv: _kind_order(kv[0]))
            },
        }

    def step(self, callers: int) -> dict[str, Any]:
        """``callers`` callers placing calls for ``--step-seconds``; calls under way finish."""
        args = self.args
        log = Log()
        calls_before = sum(self.outcomes.calls.values())
        failures_before = len(self.outcomes.failures)
        call_seconds_before = self.outcomes.call_seconds
        stagger = TYPICAL_CALL_SECONDS / args.speedup
        began = time.perf_counter()
        deadline = began + args.step_seconds
        seeds = [self.rng.random() for _ in range(callers)]

        def caller(offset: float) -> None:
            # Callers start spread over one call's length, as calls arrive at random.
            time.sleep(offset * stagger)
            while time.perf_counter() < deadline:
                self.place(log, args.speedup)

        threads = [threading.Thread(target=caller, args=(s,), daemon=True) for s in seeds]
        buckets0 = self.d.webhook_buckets()
        cpu0, worker0, client0 = self.d.server_cpu(), self.d.worker_cpu(), time.process_time()
        busy0, steal0 = proc_stat_cpu()
        pg0 = postgres_ticks()
        throttle0 = self.d.groups.throttling() if self.d.groups else None
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        server_cpu = self.d.server_cpu() - cpu0
        worker_cpu = self.d.worker_cpu() - worker0
        client_cpu = time.process_time() - client0
        busy1, steal1 = proc_stat_cpu()
        postgres_cpu = postgres_cpu_between(pg0, postgres_ticks())
        quota: dict[str, Any] | None = None
        if self.d.groups is not None and throttle0 is not None:
            throttle1 = self.d.groups.throttling()
            periods = throttle1["periods"] - throttle0["periods"]
            throttled = throttle1["throttled"] - throttle0["throttled"]
            quota = {
                "cpus_per_process": self.d.groups.quota,
                "cpus_allowed": round(self.d.groups.quota * args.workers, 2),
                # Of the 100 ms periods in which a web process ran, the share in which it used
                # its whole quota and had to wait for the next period.
                "periods_throttled_share": round(throttled / periods, 3) if periods else 0.0,
                "seconds_throttled": round(throttle1["seconds"] - throttle0["seconds"], 2),
            }
        buckets1 = self.d.webhook_buckets()
        served = {b: n - buckets0.get(b, 0.0) for b, n in buckets1.items()}
        calls = sum(self.outcomes.calls.values()) - calls_before
        failures = self.outcomes.failures[failures_before:]
        call_seconds = self.outcomes.call_seconds - call_seconds_before
        by_kind: dict[str, list[Sample]] = defaultdict(list)
        for sample in log.samples:
            by_kind[sample.kind].append(sample)
        # Rates over the steady part: after every caller has started, before the last new
        # call; latency over every request.
        window = (
            (began + stagger, deadline)
            if args.step_seconds > 2 * stagger
            else (began, began + wall)
        )
        steady = [x for x in log.samples if window[0] <= x.sent < window[1]]
        span = window[1] - window[0]
        overall = latency_figures(log.samples, wall)
        overall["rps"] = round(len(steady) / span, 2)
        sustained = overall["p99_ms"] < args.p99_ms and not failures and overall["errors"] == 0
        return {
            "callers": callers,
            "speedup": args.speedup,
            "equivalent_concurrent_calls": callers * args.speedup,
            "seconds": round(wall, 2),
            "calls": calls,
            "mean_call_seconds": round(call_seconds / calls, 1) if calls else math.nan,
            "failed_calls": len(failures),
            "first_failures": failures[:5],
            "all": overall,
            "kinds": {
                kind: {
                    **latency_figures(samples, wall),
                    "rps": round(sum(1 for x in steady if x.kind == kind) / span, 2),
                }
                for kind, samples in sorted(by_kind.items(), key=lambda kv: _kind_order(kv[0]))
            },
            "server_cpu_seconds": round(server_cpu, 2),
            "server_cpu_ms_per_call": round(server_cpu * 1000 / calls, 2) if calls else math.nan,
            "server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, len(log.samples)), 2),
            "server_cores_busy": round(server_cpu / wall, 2),
            "worker_cpu_seconds": round(worker_cpu, 2),
            "client_cpu_seconds": round(client_cpu, 2),
            "client_cpu_ms_per_request": round(client_cpu * 1000 / max(1, len(log.samples)), 2),
            "client_cores_busy": round(client_cpu / wall, 2),
            # Every process named postgres on the machine, other users' included.
            "postgres_cores_busy": round(postgres_cpu / wall, 2),
            "machine_cores_busy": round((busy1 - busy0) / wall, 2),
            "machine_cores_stolen": round((steal1 - steal0) / wall, 2),
            "web_cpu_quota": quota,
            "load_after": os.getloadavg()[0],
            # The server's own timing (from the route being matched to the answer being
            # ready, ivr.web.metrics_route): what the client's figures add is the client's
            # and the network stack's.
            "server_side": server_side(served),
            "sustained": sustained,
        }

    def ramp(self, progress: Callable[[str], None]) -> list[dict[str, Any]]:
        """The steps in order; stops after the first one not sustained (unless --all-steps)."""
        steps = []
        for callers in self.args.steps:
            step = self.step(callers)
            steps.append(step)
            a = step["all"]
            progress(
                f"step {callers:>5} callers x{self.args.speedup:g}"
                f" (= {step['equivalent_concurrent_calls']:.0f} calls): {step['calls']} calls,"
                f" {a['rps']:.1f} req/s, p50 {a['p50_ms']:.1f} ms, p99 {a['p99_ms']:.1f} ms,"
                f" errors {a['errors']} / failed calls {step['failed_calls']},"
                f" server CPU {step['server_cpu_ms_per_call']:.1f} ms/call"
                f" ({step['server_cores_busy']:.2f} cores"
                + (
                    f" of {step['web_cpu_quota']['cpus_allowed']:g} allowed, throttled in"
                    f" {step['web_cpu_quota']['periods_throttled_share']:.0%} of periods"
                    if step["web_cpu_quota"]
                    else ""
                )
                + f"; client {step['client_cpu_ms_per_request']:.1f} ms/req,"
                f" {step['client_cores_busy']:.2f} cores; postgres"
                f" {step['postgres_cores_busy']:.2f}; machine {step['machine_cores_busy']:.2f})"
                + f", server-side p99 <= {step['server_side'].get('p99_at_most_ms')} ms"
                + ("" if step["sustained"] else "  NOT SUSTAINED")
            )
            if not step["sustained"] and not self.args.all_steps:
                break
        return steps


def server_side(served: Mapping[float, float]) -> dict[str, Any]:
    """Of the webhooks a step's server answered (by its histogram), the share answered
    within 100 and 250 ms, and the bucket bound p99 falls under."""
    total = served.get(math.inf, 0.0)
    if not total:
        return {"webhooks": 0}
    bounds = sorted(served)
    p99 = next(b for b in bounds if served[b] >= 0.99 * total)
    return {
        "webhooks": int(total),
        "within_100_ms": round(served.get(0.1, 0.0) / total, 4),
        "within_250_ms": round(served.get(0.25, 0.0) / total, 4),
        "p99_at_most_ms": None if p99 == math.inf else p99 * 1000,
    }


def _kind_order(kind: str) -> int:
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


def run_baseline(
    args: argparse.Namespace, workdir: Path, requests: int, rate: float
) -> dict[str, Any]:
    """The bare Flask route, sent ``requests`` menu turns at ``rate`` requests/s."""
    from benchmarks import webhook

    options = webhook.ServerOptions(
        "gthread" if args.threads > 1 else "sync", args.threads, "WARNING"
    )
    server = webhook.Server("baseline", "benchmarks.baseline_app:app", workdir, options)

    def env_for(port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_"))}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        return env

    server.start(env_for)
    try:
        signer = webhook.Signer(server.base_url, f"127.0.0.1:{server.port}")
        work = []
        per_call = 3
        for _ in range(math.ceil(requests / per_call)):
            sid, caller = webhook.new_call()
            work.append([webhook.menu_turn(signer, sid, caller, t) for t in range(1, 4)])
        connections = max(1, min(64, args.baseline_connections))
        phase = webhook.run_phase(
            server.port,
            webhook.deal(work, connections),
            worker_pid=server.worker_pid(),
            max_seconds=3600,
            rate=rate,
        )
    finally:
        server.stop()
    m = webhook.Measurement.of(phase)
    return {
        "requests": m.requests,
        "rate_offered": round(rate, 2),
        "rps": round(m.rps, 2),
        "p50_ms": round(m.p50_ms, 2),
        "p99_ms": round(m.p99_ms, 2),
        "server_cpu_ms_per_request": round(m.server_cpu_ms_per_request, 3),
    }


def machine(web_cpu: float | None = None) -> dict[str, Any]:
    """nproc, the CPU model and the load, as this run saw them, and the CPU quota of each web
    process (None: no quota, every process may use every CPU)."""
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "load_before": os.getloadavg(),
        "python": platform.python_version(),
        "web_cpu_quota_per_process": web_cpu,
    }


def run(args: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    """The whole benchmark; the result as plain data."""
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-calls-"))
    result: dict[str, Any] = {"machine": machine(args.web_cpu)}
    deployment = Deployment(args, workdir)
    try:
        deployment.start()
        bench = Bench(args, deployment)
        result["profile"] = bench.profile() if args.profile_calls else {}
        steps = bench.ramp(progress)
        result["database_problems"] = problems(deployment.database_url, bench.outcomes.told)
        result["call_failures"] = bench.outcomes.failures[:20]
        result["untold_transcripts"] = bench.outcomes.untold
        result["calls"] = dict(bench.outcomes.calls)
        result["server_log_tracebacks"] = deployment.server.log().count("Traceback")
    finally:
        deployment.stop()
    try:
        largest = max(steps, key=lambda s: s["all"]["requests"])
        if args.baseline and largest["all"]["requests"]:
            # The same number of requests at the same rate, once the full app is stopped.
            result["baseline"] = run_baseline(
                args, workdir, largest["all"]["requests"], largest["all"]["rps"]
            )
            result["baseline"]["full_app_step_callers"] = largest["callers"]
    finally:
        if args.keep:
            progress(f"bench-calls: files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    sustained = [s for s in steps if s["sustained"]]
    best = max(sustained, key=lambda s: s["equivalent_concurrent_calls"]) if sustained else None
    result.update(
        {
            "settings": {
                "database": "postgresql" if deployment.schema else "sqlite",
                "web_processes": args.workers,
                "threads": args.threads,
                "worker_running": args.worker,
                "speedup": args.speedup,
                "steps": args.steps,
                "step_seconds": args.step_seconds,
                "after_hours_share": args.after_hours,
                "queue_waits": args.queue_waits,
                "p99_limit_ms": args.p99_ms,
                "app_log_level": args.app_log_level,
                "web_cpu": deployment.groups.settings() if deployment.groups else None,
                "cpu_pinning": args.cpu_pinning,
                "worker_cpus": deployment.worker_cpus,
            },
            "steps": steps,
            "sustained_concurrent_calls": best["equivalent_concurrent_calls"] if best else 0,
            "calls_per_web_core": (
                best["equivalent_concurrent_calls"] / args.workers if best else 0
            ),
            "ramp_topped_out": bool(steps) and steps[-1]["sustained"],
        }
    )
    result["machine"]["load_after"] = os.getloadavg()
    return result


def report(result: dict[str, Any]) -> str:
    """The result as a few tables."""
    m, s = result["machine"], result["settings"]
    lines = [
        f"Whole calls: {s['database']}, {s['web_processes']} web process(es) x"
        f" {s['threads']} threads, ivr worker {'running' if s['worker_running'] else 'off'},"
        f" speed-up {s['speedup']:g}, steps {s['steps']} callers x {s['step_seconds']:g} s.",
        f"Machine: {m['nproc']} CPUs, {m['cpu_model']}, load"
        f" {' '.join(f'{x:.2f}' for x in m['load_before'])} before,"
        f" {' '.join(f'{x:.2f}' for x in m['load_after'])} after;"
        + (
            f" each web process limited to {m['web_cpu_quota_per_process']:g} CPU"
            f" (cgroup v{s['web_cpu']['cgroup_version']} CPU quota,"
            f" {s['web_cpu']['groups_made']} group(s))."
            if s.get("web_cpu")
            else " no CPU quota for the web processes."
        )
        + (
            f" Web workers pinned (IVR_WEB_CPU_PINNING), CPUs {', '.join(s['worker_cpus'])}."
            if s.get("cpu_pinning")
            else ""
        ),
        "",
    ]
    profile = result.get("profile") or {}
    if profile:
        lines.append(
            f"CPU per request, {profile['calls']} calls one at a time"
            f" (whole call: {profile['cpu_ms_per_call']:.1f} ms):"
        )
        lines.append(f"  {'kind':<20}{'requests':>9}{'CPU ms':>9}{'p50 ms alone':>14}")
        for kind, k in profile["kinds"].items():
            lines.append(
                f"  {kind:<20}{k['requests']:>9}{k['cpu_ms_per_request']:>9.2f}"
                f"{k['p50_ms_alone']:>14.2f}"
            )
        lines.append("")
    for step in result["steps"]:
        lines.append(
            f"{step['callers']} callers x{step['speedup']:g} ="
            f" {step['equivalent_concurrent_calls']:.0f} concurrent calls: {step['calls']} calls"
            f" in {step['seconds']:.0f} s, server {step['server_cpu_ms_per_call']:.1f} CPU ms"
            f" per call ({step['server_cores_busy']:.2f} cores busy),"
            f" {'sustained' if step['sustained'] else 'NOT sustained'};"
            f" server-side p99 <= {step['server_side'].get('p99_at_most_ms')} ms"
        )
        quota = step.get("web_cpu_quota")
        lines.append(
            f"  cores busy: web {step['server_cores_busy']:.2f}"
            + (
                f" (of {quota['cpus_allowed']:g} allowed, throttled in"
                f" {quota['periods_throttled_share']:.0%} of periods,"
                f" {quota['seconds_throttled']:.1f} s)"
                if quota
                else ""
            )
            + f", client {step['client_cores_busy']:.2f},"
            f" postgres {step['postgres_cores_busy']:.2f},"
            f" machine {step['machine_cores_busy']:.2f} (stolen {step['machine_cores_stolen']:.2f})"
        )
        lines.append(
            f"  {'kind':<20}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'err':>5}"
        )
        for kind, k in [*step["kinds"].items(), ("all", step["all"])]:
            lines.append(
                f"  {kind:<20}{k['requests']:>9}{k['rps']:>9.1f}{k['p50_ms']:>9.1f}"
                f"{k['p99_ms']:>9.1f}{k['errors']:>5}"
            )
    base = result.get("baseline")
    if base:
        lines += [
            "",
            f"Bare route, {base['requests']} menu turns at {base['rate_offered']:.1f} req/s"
            f" (the {base['full_app_step_callers']}-caller step's rate): p50"
            f" {base['p50_ms']:.1f} ms, p99 {base['p99_ms']:.1f} ms,"
            f" {base['server_cpu_ms_per_request']:.2f} CPU ms/request",
        ]
    lines += [
        "",
        f"Sustained (p99 < {s['p99_limit_ms']:g} ms, no errors):"
        f" {result['sustained_concurrent_calls']:.0f} concurrent calls,"
        f" {result['calls_per_web_core']:.0f} per web process"
        + (" (the ramp's last step; more may hold)" if result["ramp_topped_out"] else ""),
        f"Calls: {result['calls']}; failed: {len(result['call_failures'])}",
        "Database check: "
        + ("every number told exists once" if not result["database_problems"] else "FAILED"),
    ]
    lines += [f"  {p}" for p in result["database_problems"][:20]]
    lines += [f"  call failed: {f}" for f in result["call_failures"][:10]]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.calls", description="Whole calls of a realistic mix."
    )
    parser.add_argument(
        "--steps", default="50,100,150,200,300,400", help="callers per ramp step, comma-separated"
    )
    parser.add_argument("--speedup", type=float, default=20, help="call time / real time")
    parser.add_argument(
        "--step-seconds", type=float, default=40, help="real seconds of new calls per step"
    )
    parser.add_argument("--all-steps", action="store_true", help="go on after a failed step")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn web processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per web process")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("IVR_BENCH_DATABASE_URL", ""),
        help="PostgreSQL server URL (a schema of its own is made); default: SQLite",
    )
    parser.add_argument("--worker", action="store_true", help="run `ivr worker` beside")
    parser.add_argument("--after-hours", type=float, default=0.3, help="share of after-hours calls")
    parser.add_argument("--queue-waits", type=int, default=3, help="waitUrl requests per queue")
    parser.add_argument("--profile-calls", type=int, default=150, help="calls one at a time")
    parser.add_argument("--p99-ms", type=float, default=200, help="sustained: p99 under this")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument(
        "--baseline-connections", type=int, default=32, help="client connections, bare route"
    )
    parser.add_argument("--app-log-level", default="INFO", help="IVR_LOG_LEVEL of the server")
    parser.add_argument("--seed", type=int, default=19, help="the mix's random seed")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the files and the schema")
    parser.add_argument(
        "--web-cpu",
        type=float,
        default=None,
        metavar="Q",
        help="limit each gunicorn worker process to Q CPUs (a cgroup CPU quota of its own;"
        " needs root and a writable cgroup file system)",
    )
    parser.add_argument(
        "--cpu-pinning",
        action="store_true",
        help="each web worker on one CPU of its own (IVR_WEB_CPU_PINNING=true)",
    )
    parser.add_argument(
        "--cgroup-root",
        default=None,
        help=f"where to make the --web-cpu groups (default: ${CGROUP_ROOT_ENV}, else"
        " /sys/fs/cgroup/cpu for cgroup v1 or /sys/fs/cgroup for v2)",
    )
    args = parser.parse_args(argv)
    try:
        args.steps = [int(x) for x in args.steps.split(",") if x.strip()]
    except ValueError:
        parser.error("--steps: callers per step, e.g. 100,200,300")
    if not args.steps or min(args.steps) < 1 or args.speedup <= 0 or args.workers < 1:
        parser.error("--steps >= 1 each, --speedup > 0, --workers >= 1")
    if args.web_cpu is not None and not (0 < args.web_cpu <= (os.cpu_count() or 1)):
        parser.error("--web-cpu: a number of CPUs above 0, e.g. 0.4")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print, exit 1 when the database check failed or something broke."""
    args = parse_args(argv)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if args.web_cpu:
        # At once, before anything starts: a quota that cannot be set is never ignored.
        try:
            CpuGroups(args.web_cpu, args.cgroup_root).close()
        except CgroupError as exc:
            print(f"bench-calls: --web-cpu: {exc}", file=sys.stderr)
            return 2

    def terminated(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # the same clean-up as Ctrl-C: servers, CPU groups, schema

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminated)
    try:
        result = run(args, progress)
    except CgroupError as exc:
        print(f"bench-calls: --web-cpu: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench-calls: interrupted (servers stopped, CPU groups removed)", file=sys.stderr)
        return 130
    except (BenchError, RuntimeError, OSError) as exc:
        print(f"bench-calls: BROKEN: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else report(result))
    return 1 if result["database_problems"] else 0


if __name__ == "__main__":
    sys.exit(main())

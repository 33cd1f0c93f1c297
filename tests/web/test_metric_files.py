"""The workers' metric files: a fresh directory at every start, a dead worker's live gauges
dropped, and a real two-worker ``ivr serve`` whose ``/metrics`` adds up both workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from ivr.config import DEVELOPMENT_AUTH_TOKEN, Settings
from ivr.domain.schedule import MOSCOW
from ivr.harness.inputs import Press
from ivr.harness.processes import (
    ROOT,
    ServerProcess,
    free_port,
    ivr_environ,
    wait_until,
    worker_pids,
)
from ivr.harness.simulator import CallHarness, CallResult, CallSpec
from ivr.harness.transport import HttpTransport
from ivr.web import metric_files
from tests.support.metrics import Samples

TOKEN = "two-workers-token"
HOTLINE = "+78005553535"
AFTER_HOURS = datetime(2026, 11, 25, 22, 30, tzinfo=MOSCOW)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_environ({"IVR_ENVIRONMENT": "test", "IVR_VAR_DIR": str(tmp_path)})


def test_the_master_makes_the_directory_and_names_it_for_the_workers(settings: Settings) -> None:
    path = metric_files.prepare(settings)
    assert path == settings.var_dir / "metrics"
    assert path.is_dir()
    assert os.environ[metric_files.MULTIPROC_ENV] == str(path)


def test_a_start_deletes_the_last_runs_metric_files_and_nothing_else(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "elsewhere"
    named.mkdir()
    (named / "counter_4242.db").write_bytes(b"old counts")
    (named / "gauge_liveall_4242.db").write_bytes(b"old gauge")
    (named / "notes.txt").write_text("not the library's")
    monkeypatch.setenv(metric_files.MULTIPROC_ENV, str(named))
    assert metric_files.prepare(settings) == named
    assert sorted(p.name for p in named.iterdir()) == ["notes.txt"]


def test_a_dead_worker_loses_its_live_gauges_and_keeps_its_counts(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = metric_files.prepare(settings)
    for name in ("counter_77.db", "histogram_77.db", "gauge_liveall_77.db", "gauge_liveall_78.db"):
        (path / name).write_bytes(b"")
    metric_files.worker_gone(77)
    assert sorted(p.name for p in path.iterdir()) == [
        "counter_77.db",
        "gauge_liveall_78.db",
        "histogram_77.db",
    ]


def test_without_the_directory_a_dead_worker_is_nothing_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gauge_liveall_77.db").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    metric_files.worker_gone(77)
    assert (tmp_path / "gauge_liveall_77.db").exists()


def test_the_master_imports_no_prometheus_client_before_it_names_the_directory() -> None:
    # The library picks its mode when first imported, and forked workers inherit the pick.
    code = (
        "import sys, ivr.cli, ivr.web, ivr.web.gunicorn_conf, ivr.web.server\n"
        "print('prometheus_client' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"


# -- a real server with two workers ---------------------------------------------------------


def _scrape(url: str, token: str | None = TOKEN) -> Samples:
    request = urllib.request.Request(url + "/metrics")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=15) as response:
        return Samples(response.read().decode())


def _live_pids(samples: Samples) -> set[int]:
    return {
        int(dict(labels)["pid"]) for labels in samples.labelled("ivr_web_worker_start_time_seconds")
    }


def _started_by_worker(directory: Path) -> dict[int, float]:
    """Calls started, as each worker's own counter file holds them."""
    shares = {}
    for path in directory.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        for metric in MultiProcessCollector.merge([str(path)], accumulate=False):
            if metric.name == "ivr_calls_started":
                shares[pid] = sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return shares


def _webhooks_sent(results: list[CallResult]) -> dict[str, int]:
    """How many webhooks the calls sent, by route (the path of each request)."""
    routes: dict[str, int] = {}
    for result in results:
        for exchange in result.exchanges:
            path = urlsplit(exchange.url).path
            if path.startswith("/voice/"):
                routes[path] = routes.get(path, 0) + 1
    return routes


@pytest.fixture
def server(tmp_path: Path, sqlite_url: str) -> Iterator[ServerProcess]:
    port = free_port()
    env = ivr_environ(tmp_path, sqlite_url, port, IVR_METRICS_TOKEN=TOKEN, IVR_LOG_LEVEL="WARNING")
    # One thread a worker: calls placed four at a time have to be spread over both.
    process = ServerProcess(env, tmp_path, port, workers=2, threads=1).start()
    try:
        yield process
    finally:
        process.stop()


def test_two_workers_are_scraped_as_one_server_and_a_dead_one_leaves_its_counts(
    server: ServerProcess, tmp_path: Path
) -> None:
    assert server.process is not None
    master = server.process.pid
    directory = tmp_path / "var" / "metrics"
    harness = CallHarness(HttpTransport(timeout=15), server.url, DEVELOPMENT_AUTH_TOKEN)
    with pytest.raises(urllib.error.HTTPError) as refused:
        _scrape(server.url, token=None)
    # Closed at once: a sync worker keeps a connection open for the next request.
    refused.value.close()
    assert refused.value.code == 401

    # Calls four at a time, until each worker has answered some (at most 80 calls).
    results: list[CallResult] = []
    with ThreadPoolExecutor(4) as pool:
        while len(results) < 80 and len(_started_by_worker(directory)) < 2:
            specs = [
                CallSpec(
                    to=HOTLINE,
                    caller=f"+7916{5000000 + len(results) + i:07d}",
                    at=AFTER_HOURS,
                    inputs=(Press("4"),),
                    seed=f"metrics-{len(results) + i}",
                )
                for i in range(8)
            ]
            results += pool.map(harness.place, specs)
    assert all(r.outcome.kind == "hangup" for r in results), [r.transcript() for r in results]
    calls = len(results)
    shares = _started_by_worker(directory)
    assert len(shares) == 2 and all(share > 0 for share in shares.values()), shares
    assert sum(shares.values()) == calls

    samples = _scrape(server.url)
    assert samples.get("ivr_calls_started_total", line=HOTLINE, direction="inbound") == calls
    ended = {"line": HOTLINE, "direction": "inbound", "status": "completed"}
    assert samples.get("ivr_calls_ended_total", **ended) == calls
    # Each call: its first answer and the key 4.
    assert samples.get("ivr_call_turns_total", flow="hotline") == 2 * calls
    sent = _webhooks_sent(results)
    assert sent == {"/voice/incoming": calls, "/voice/step": calls, "/voice/status": calls}
    for route, count in sent.items():
        labels = {"route": route, "outcome": "answered"}
        assert samples.get("ivr_webhook_duration_seconds_count", **labels) == count
    assert samples.total("ivr_webhook_duration_seconds_count") == sum(sent.values())
    assert _live_pids(samples) == worker_pids(master) == set(shares)

    # A worker dies (SIGKILL, as the OOM killer would): gunicorn starts another in its place.
    victim = min(shares)
    os.kill(victim, signal.SIGKILL)
    assert wait_until(
        lambda: victim not in worker_pids(master) and len(worker_pids(master)) == 2, 60
    )
    assert wait_until(lambda: _live_pids(_scrape(server.url)) == worker_pids(master), 60)
    after = _scrape(server.url)
    assert victim not in _live_pids(after)
    assert not (directory / f"gauge_liveall_{victim}.db").exists()
    # What it counted stays counted.
    assert after.get("ivr_calls_started_total", line=HOTLINE, direction="inbound") == calls
    assert after.total("ivr_webhook_duration_seconds_count") == sum(sent.values())


def test_a_restarted_server_counts_from_nothing(server: ServerProcess) -> None:
    harness = CallHarness(HttpTransport(timeout=15), server.url, DEVELOPMENT_AUTH_TOKEN)
    spec = CallSpec(to=HOTLINE, at=AFTER_HOURS, inputs=(Press("4"),), seed="restart")
    assert harness.place(spec).outcome.kind == "hangup"
    assert _scrape(server.url).get("ivr_calls_started_total", line=HOTLINE, direction="inbound")
    server.stop()
    server.start()
    samples = _scrape(server.url)
    assert samples.labelled("ivr_calls_started_total") == {}
    assert samples.total("ivr_webhook_duration_seconds_count") == 0
    # The database still has what the first run left: states are read, not counted.
    assert samples.get("ivr_database_up") == 1
    assert json.loads(urllib.request.urlopen(server.url + "/healthz", timeout=15).read().decode())[
        "ok"
    ]

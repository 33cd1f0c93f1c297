"""A short run of ``benchmarks.calls`` (``make bench-calls``) on SQLite: the whole pipeline
works, the report has its figures, and the database check holds. No timing is asserted."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from benchmarks import calls


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    """A tiny run: a few callers, a high speed-up, a few calls profiled one at a time."""
    args = calls.parse_args(
        [
            "--steps",
            "3",
            "--speedup",
            "200",
            "--step-seconds",
            "2",
            "--profile-calls",
            "4",
            "--after-hours",
            "0.5",
            "--app-log-level",
            "WARNING",
        ]
    )
    return calls.run(args, lambda line: None)


def test_a_short_run_places_whole_calls_and_loses_nothing(result: dict[str, Any]) -> None:
    assert result["database_problems"] == []
    assert result["call_failures"] == []
    assert result["server_log_tracebacks"] == 0
    (step,) = result["steps"]
    assert step["callers"] == 3
    assert step["calls"] > 0
    assert step["all"]["errors"] == 0
    # Every call starts with the voice webhook and ends with the status callback.
    assert step["kinds"]["/voice/incoming"]["requests"] == step["calls"]
    assert step["kinds"]["/voice/status"]["requests"] == step["calls"]
    assert set(step["kinds"]) <= set(calls.KINDS)


def test_the_report_has_every_figure(result: dict[str, Any]) -> None:
    profile = result["profile"]
    assert profile["calls"] == 4
    assert "/voice/incoming" in profile["kinds"]
    baseline = result["baseline"]
    assert baseline["requests"] > 0
    assert {"p50_ms", "p99_ms", "server_cpu_ms_per_request"} <= set(baseline)
    assert {"sustained_concurrent_calls", "calls_per_web_core", "machine", "settings"} <= set(
        result
    )
    text = calls.report(result)
    assert "Database check: every number told exists once" in text
    json.dumps(result)  # --json prints it


def test_a_told_number_missing_from_the_database_is_reported(tmp_path: Path) -> None:
    """The check can fail: a caller told a number the database does not hold."""
    from ivr.harness.ledger import Told, problems
    from ivr.store.migrate import upgrade

    url = f"sqlite:///{tmp_path}/ivr.db"
    upgrade(url)
    found = problems(url, [Told("booking", "+79160000001", "1234567")])
    assert found == [
        "1 booking calls, but 0 requests with source callback",
        "request 1234567 told to +79160000001 is not in the database",
        "request 1234567 (booking) has no callback",
    ]


def test_the_run_says_which_cpus_its_workers_run_on(result: dict[str, Any]) -> None:
    """Without --cpu-pinning a worker may run on every CPU the benchmark may."""
    everything = calls.allowed_cpus(os.getpid())
    assert result["settings"]["cpu_pinning"] is False
    assert result["settings"]["worker_cpus"] == [everything]


@pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="pinning needs two CPUs to choose from"
)
def test_cpu_pinning_puts_each_web_worker_on_a_cpu_of_its_own(tmp_path: Path) -> None:
    args = calls.parse_args(["--cpu-pinning", "--workers", "2", "--app-log-level", "WARNING"])
    deployment = calls.Deployment(args, tmp_path)
    try:
        deployment.start()
        pinned = deployment.worker_cpus
    finally:
        deployment.stop()
    assert len(pinned) == 2
    assert all(cpu.isdigit() for cpu in pinned)
    assert len(set(pinned)) == 2

"""The Prometheus side: outcomes, and the collector of the database's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from ivr.store.db import Database
from ivr.store.models import DispatcherHost
from ivr.web.metrics import Metrics, OperationsCollector, outcome
from tests.support.metrics import Samples

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "apologised", "expected"),
    [
        (200, False, "answered"),
        (204, False, "answered"),
        (200, True, "apology"),
        (403, False, "refused"),
        (400, False, "client_error"),
        (413, False, "client_error"),
        (500, False, "server_error"),
        (500, True, "server_error"),
        (503, False, "server_error"),
    ],
)
def test_outcome(status: int, apologised: bool, expected: str) -> None:
    assert outcome(status, apologised) == expected


def _collected(collector: OperationsCollector) -> Samples:
    registry = CollectorRegistry()
    registry.register(collector)
    return Samples(generate_latest(registry).decode())


def test_seconds_since_a_pass_are_counted_on_the_apps_clock(database_url: str) -> None:
    db = Database(database_url)
    try:
        with db.transaction() as session:
            session.add(
                DispatcherHost(
                    worker="w:1",
                    started_at=NOW,
                    last_pass_at=NOW - timedelta(minutes=2),
                    last_pass_seconds=1.5,
                    passes=3,
                )
            )
        clock = [NOW]
        collector = OperationsCollector(db, lambda: clock[0])
        assert (
            _collected(collector).get("ivr_dispatcher_seconds_since_last_pass", worker="w:1") == 120
        )
        clock[0] = NOW + timedelta(minutes=8)
        samples = _collected(collector)
        assert samples.get("ivr_dispatcher_seconds_since_last_pass", worker="w:1") == 600
        assert samples.get("ivr_dispatcher_last_pass_duration_seconds", worker="w:1") == 1.5
    finally:
        db.dispose()


def test_a_database_that_does_not_answer_is_said_and_the_scrape_still_served(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path}/missing/dir/ivr.db")
    try:
        metrics = Metrics(db, lambda: NOW)
        samples = Samples(metrics.exposition().decode())
    finally:
        db.dispose()
    assert samples.get("ivr_database_up") == 0
    assert samples.labelled("ivr_callbacks") == {}
    # What the worker counts is still there.
    assert samples.get("ivr_apologies_total", answer="operator") == 0
    assert (("answer", "operator"),) in samples.labelled("ivr_apologies_total")


def test_two_apps_in_one_process_count_apart(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/ivr.db")
    try:
        first, second = Metrics(db, lambda: NOW), Metrics(db, lambda: NOW)
        first.turn("hotline")
        first.webhook("/voice/step", "answered", 0.003)
        assert Samples(first.exposition().decode()).get("ivr_call_turns_total", flow="hotline") == 1
        assert Samples(second.exposition().decode()).labelled("ivr_call_turns_total") == {}
        labels = {"route": "/voice/step", "outcome": "answered"}
        samples = Samples(first.exposition().decode())
        assert samples.get("ivr_webhook_duration_seconds_bucket", le="0.005", **labels) == 1
        assert samples.get("ivr_webhook_duration_seconds_sum", **labels) == 0.003
    finally:
        db.dispose()

"""The server's metrics for Prometheus (``prometheus_client``): what each web worker counts,
and what the back office's rows say at the moment of a scrape.

Events (webhooks answered, calls started and ended, turns, apologies) are counted in the
worker that saw them. Under gunicorn every worker is a process of its own, so the library's
multiprocess mode is used whenever ``PROMETHEUS_MULTIPROC_DIR`` is set (the gunicorn master
sets it, see ``ivr.web.gunicorn_conf``): each worker writes its counts to files there, and the
worker that answers a scrape adds up every worker's files, those of workers that have died
included, so a total never goes back. Gauges of live processes (``liveall``) are dropped by
the master when their worker dies. Without the variable (one process: tests, ``flask run``)
the counts live in a registry of this app's own.

States (bookings and voicemails by status, the dispatcher's heartbeats) are read from the
database by ``OperationsCollector`` when a scrape asks, so every worker answers alike.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from ivr.services.operations import operations_state
from ivr.store.db import Database
from ivr.web.metric_files import MULTIPROC_ENV

__all__ = [
    "CONTENT_TYPE",
    "OUTCOMES",
    "Metrics",
    "OperationsCollector",
    "outcome",
]

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Webhook latency buckets, seconds: a turn takes milliseconds; Twilio waits 15 s in all for
# TwiML before it gives up on the webhook (shared/TWILIO.md, "Webhooks").
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)

# How a webhook was answered.
OUTCOMES = ("answered", "apology", "refused", "client_error", "server_error")
# The fallback's answers (``ivr.services.fallback``), counted from zero.
APOLOGY_ANSWERS = ("operator", "voicemail", "queue")


def outcome(status: int, apologised: bool) -> str:
    """A webhook's outcome from its HTTP status and whether the fallback answered it:
    ``answered``, ``apology`` (the fallback's TwiML), ``refused`` (403, a bad signature),
    ``client_error`` (another 4xx) or ``server_error`` (5xx: Twilio tries again)."""
    if status >= 500:
        return "server_error"
    if status == 403:
        return "refused"
    if status >= 400:
        return "client_error"
    return "apology" if apologised else "answered"


class Metrics:
    """One web worker's counters (a ``CallEvents`` for the services), and its scrape."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        multiprocess_dir: str | None = None,
    ) -> None:
        """``multiprocess_dir``: the directory of the multiprocess mode, or None for counts
        kept in this process only."""
        self.multiprocess_dir = multiprocess_dir
        if multiprocess_dir is not None and not values.ValueClass._multiprocess:
            # prometheus_client picks its mode when first imported; imported earlier, it
            # would keep this worker's counts to itself and a scrape would show a share.
            log.error(
                "%s is set but prometheus_client was imported before it was: "
                "this worker's counts are not shared",
                MULTIPROC_ENV,
            )
        # Multiprocess mode: the metrics go to the files, a scrape reads them all; a
        # registry of their own would count them twice.
        registry = CollectorRegistry() if multiprocess_dir is None else None
        self.registry = registry
        self.webhooks = Histogram(
            "ivr_webhook_duration_seconds",
            "Voice webhooks by route and outcome: time to answer (the _count is the requests)",
            ["route", "outcome"],
            buckets=WEBHOOK_BUCKETS,
            registry=registry,
        )
        self.calls_started = Counter(
            "ivr_calls_started",
            "Calls whose first webhook was answered, by our line and direction",
            ["line", "direction"],
            registry=registry,
        )
        self.calls_ended = Counter(
            "ivr_calls_ended",
            "Calls Twilio reported ended, by our line, direction and final status",
            ["line", "direction", "status"],
            registry=registry,
        )
        self.turns = Counter(
            "ivr_call_turns",
            "Webhooks that moved a call on by one turn (first answers included), by flow",
            ["flow"],
            registry=registry,
        )
        self.apologies = Counter(
            "ivr_apologies",
            "Webhooks that failed inside and were answered by the fallback, by its answer",
            ["answer"],
            registry=registry,
        )
        for answer in APOLOGY_ANSWERS:
            self.apologies.labels(answer)
        self.worker_started = Gauge(
            "ivr_web_worker_start_time_seconds",
            "When each live web worker started (Unix time); gone when the worker dies",
            registry=registry,
            multiprocess_mode="liveall",
        )
        self.worker_started.set(time.time())
        self.collector = OperationsCollector(db, clock)
        if registry is not None:
            registry.register(self.collector)
        # The children met on every request, by their labels: one dict lookup instead of
        # the library's locked label lookup.
        self._observers: dict[tuple[str, str], Callable[[float], None]] = {}
        self._turns: dict[str, Callable[[], None]] = {}

    @classmethod
    def from_environ(cls, db: Database, clock: Callable[[], datetime]) -> Metrics:
        """Multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` names a directory."""
        path = os.environ.get(MULTIPROC_ENV) or None
        if path is not None and not Path(path).is_dir():
            log.error(
                "%s=%s is not a directory: counting in this process only", MULTIPROC_ENV, path
            )
            path = None
        return cls(db, clock, path)

    # -- what the web layer observes ----------------------------------------------------------

    def webhook(self, route: str, result: str, seconds: float) -> None:
        """A voice webhook was answered: its route (``/voice/step``), outcome and time."""
        observe = self._observers.get((route, result))
        if observe is None:
            observe = self._observers[(route, result)] = self.webhooks.labels(route, result).observe
        observe(seconds)

    # -- CallEvents: what the services report -------------------------------------------------

    def call_started(self, line: str, direction: str) -> None:
        """Count a started call."""
        self.calls_started.labels(line, direction).inc()

    def call_ended(self, line: str, direction: str, status: str) -> None:
        """Count an ended call."""
        self.calls_ended.labels(line, direction, status).inc()

    def turn(self, flow: str) -> None:
        """Count a turn."""
        count = self._turns.get(flow)
        if count is None:
            count = self._turns[flow] = self.turns.labels(flow).inc
        count()

    def apology(self, answer: str) -> None:
        """Count an apology."""
        self.apologies.labels(answer).inc()

    # -- the scrape ---------------------------------------------------------------------------

    def exposition(self) -> bytes:
        """Everything, in Prometheus' text format: every worker's counts, the rows' states."""
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        registry.register(self.collector)
        return generate_latest(registry)


class OperationsCollector(Collector):
    """The back office's state, read from the database at each scrape."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    def describe(self) -> Iterable[Metric]:
        """The families this collector yields (for the registry's duplicate check)."""
        return list(_Families())

    def collect(self) -> Iterator[Metric]:
        """Read the rows; a database that does not answer is ``ivr_database_up 0``, the
        rest of the scrape still served."""
        families = _Families()
        now = self.clock()
        try:
            state = operations_state(self.db, now)
        except Exception:
            log.exception("metrics: the database could not be read")
            families.up.add_metric([], 0)
            yield families.up
            return
        families.up.add_metric([], 1)
        for status, count in state.callbacks.items():
            families.callbacks.add_metric([status], count)
        families.due.add_metric([], state.callbacks_due)
        for status, count in state.voicemails.items():
            families.voicemails.add_metric([status], count)
        for beat in state.dispatchers:
            families.last_pass.add_metric([beat.worker], beat.last_pass_seconds)
            since = (now - beat.last_pass_at).total_seconds()
            families.since_pass.add_metric([beat.worker], max(since, 0.0))
            families.passes.add_metric([beat.worker], beat.passes)
        yield from families


class _Families:
    """The families ``OperationsCollector`` fills, empty."""

    def __init__(self) -> None:
        self.up = GaugeMetricFamily(
            "ivr_database_up", "1 when this scrape could read the database, else 0"
        )
        self.callbacks = GaugeMetricFamily(
            "ivr_callbacks", "Callback bookings by status", labels=["status"]
        )
        self.due = GaugeMetricFamily(
            "ivr_callbacks_due", "Bookings whose attempt is due now (booked or retry)"
        )
        self.voicemails = GaugeMetricFamily(
            "ivr_voicemails",
            "Voicemails by status: pending (download not done yet), stored, absent, failed",
            labels=["status"],
        )
        self.last_pass = GaugeMetricFamily(
            "ivr_dispatcher_last_pass_duration_seconds",
            "How long each ivr worker's last dispatcher pass took",
            labels=["worker"],
        )
        self.since_pass = GaugeMetricFamily(
            "ivr_dispatcher_seconds_since_last_pass",
            "Seconds since each ivr worker last finished a pass (grows once it stops)",
            labels=["worker"],
        )
        self.passes = CounterMetricFamily(
            "ivr_dispatcher_passes",
            "Passes each ivr worker has made since it started",
            labels=["worker"],
        )

    def __iter__(self) -> Iterator[Metric]:
        yield from (
            self.up,
            self.callbacks,
            self.due,
            self.voicemails,
            self.last_pass,
            self.since_pass,
            self.passes,
        )

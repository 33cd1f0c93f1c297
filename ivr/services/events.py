"""What the call services report for operations: calls started and ended, turns, apologies.

The services only say what happened, through ``CallEvents``; what is done with it (counted
for ``/metrics``, ``ivr.web.metrics``) is the web layer's business, so nothing here or in the
engine knows of Prometheus. ``NO_EVENTS`` is the default: a service built without a reporter
(the worker, the admin commands, most tests) reports to nothing.

Labels stay few and never personal: a line is one of ours in E.164 or ``unknown`` (never the
caller's number, nor a number nobody serves), a direction is ``inbound`` or ``outbound``.
"""

from __future__ import annotations

from typing import Protocol

from ivr.domain.phones import to_e164
from ivr.flows.registry import FlowSet

UNKNOWN_LINE = "unknown"


class CallEvents(Protocol):
    """Where the call service and the fallback report what happened, once each."""

    def call_started(self, line: str, direction: str) -> None:
        """A call's first webhook was answered (its row committed)."""

    def call_ended(self, line: str, direction: str, status: str) -> None:
        """Twilio said a call ended (``completed``, ``busy``, …); said once per call."""

    def turn(self, flow: str) -> None:
        """A webhook moved a call on by one turn (the first answer included)."""

    def apology(self, answer: str) -> None:
        """A webhook failed inside and the caller got the fallback ``answer`` instead
        (``operator``, ``voicemail`` or ``queue``)."""


class NoEvents:
    """Reports to nothing."""

    def call_started(self, line: str, direction: str) -> None:
        """Nothing."""

    def call_ended(self, line: str, direction: str, status: str) -> None:
        """Nothing."""

    def turn(self, flow: str) -> None:
        """Nothing."""

    def apology(self, answer: str) -> None:
        """Nothing."""


NO_EVENTS: CallEvents = NoEvents()


def direction_label(direction: str) -> str:
    """``inbound``, or ``outbound`` for Twilio's ``outbound-api`` and ``outbound-dial``."""
    return "outbound" if direction.startswith("outbound") else "inbound"


def line_label(flows: FlowSet, ours: str) -> str:
    """Our side of a call as a label: a line a flow serves (E.164), else ``unknown``."""
    if ours in flows.by_line:
        return ours  # as Twilio sends it, E.164: no need to parse it again
    e164 = to_e164(ours) or ours
    return e164 if e164 in flows.by_line else UNKNOWN_LINE

"""The labels the services report with: our lines only, two directions."""

from __future__ import annotations

from ivr.flows.registry import FlowSet
from ivr.services.events import NO_EVENTS, direction_label, line_label

FLOWS = FlowSet(flows={}, by_line={"+78005553535": "hotline"})


def test_a_line_we_serve_is_named_in_e164_whatever_its_form() -> None:
    assert line_label(FLOWS, "+78005553535") == "+78005553535"
    assert line_label(FLOWS, "8 800 555-35-35") == "+78005553535"


def test_any_other_number_is_unknown() -> None:
    assert line_label(FLOWS, "+79161234567") == "unknown"
    assert line_label(FLOWS, "") == "unknown"
    assert line_label(FLOWS, "anonymous") == "unknown"


def test_twilios_directions_are_two() -> None:
    assert direction_label("inbound") == "inbound"
    assert direction_label("outbound-api") == "outbound"
    assert direction_label("outbound-dial") == "outbound"


def test_reporting_to_nothing_does_nothing() -> None:
    NO_EVENTS.call_started("+78005553535", "inbound")
    NO_EVENTS.call_ended("+78005553535", "inbound", "completed")
    NO_EVENTS.turn("hotline")
    NO_EVENTS.apology("operator")

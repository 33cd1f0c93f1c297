"""Every number of DOMAIN.md's table is served, in every common way of writing it."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from ivr.store.models import Call
from tests.lines.conftest import LINES, PhoneFactory


def forms(number: str) -> list[str]:
    """``+7 495 777-10-00`` → the ways people and exchanges write the same number."""
    ten = re.sub(r"\D", "", number)[-10:]
    code, a, b, c = ten[:3], ten[3:6], ten[6:8], ten[8:]
    return [
        number,
        f"+7{ten}",
        f"7{ten}",
        f"8{ten}",
        f"8 {code} {a}-{b}-{c}",
        f"8 {code} {a} {b} {c}",
        f"+7 {code} {a} {b} {c}",
        f"+7 ({code}) {a}-{b}-{c}",
        f"8 ({code}) {a}-{b}-{c}",
    ]


def test_the_lines_served_are_exactly_the_numbers_of_domain_md(app: Flask) -> None:
    flows = app.extensions["ivr"].registry.current()
    expected = {"+7" + re.sub(r"\D", "", number)[-10:]: flow for number, flow in LINES.values()}
    assert flows.by_line == expected


@pytest.mark.parametrize("line", sorted(LINES))
def test_a_number_in_any_common_form_reaches_its_flow(app: Flask, line: str) -> None:
    number, flow = LINES[line]
    flows = app.extensions["ivr"].registry.current()
    for written in forms(number):
        found = flows.for_line(written)
        assert found is not None, written
        assert found.name == flow, written


@pytest.mark.parametrize("line", sorted(LINES))
def test_dialled_as_8_with_spaces_the_call_runs_its_flow(
    app: Flask, phone: PhoneFactory, line: str
) -> None:
    number, flow = LINES[line]
    ten = re.sub(r"\D", "", number)[-10:]
    call = phone(f"8 {ten[:3]} {ten[3:6]} {ten[6:8]} {ten[8:]}")
    body = call.dial()
    assert "Госуслуг" in body
    with app.extensions["ivr"].db.sessions() as session:
        row = session.get(Call, call.params["CallSid"])
        assert row is not None
        assert row.flow == flow
        assert row.status != "unknown-line"

"""The call log: filters by line, day and outcome; a call's path, masked inputs, version."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from tests.conftest import Clock, TwilioWebhooks, call_params
from tests.web.console.conftest import Console


def _call(app: Flask, sid: str, *presses: str, to: str = "+78005553535", **fields: str) -> None:
    webhooks = TwilioWebhooks(app.test_client())
    params = call_params(sid, To=to, **fields)
    assert webhooks.post("/voice/incoming", params).status_code == 200
    for turn, keys in enumerate(presses, start=1):
        webhooks.post(f"/voice/step?turn={turn}", {**params, "Digits": keys})
    webhooks.post("/voice/status", {**params, "CallStatus": "completed", "CallDuration": "42"})


SID_QUEUE = "CA" + "a" * 32
SID_STATUS = "CA" + "b" * 32
SID_ABROAD = "CA" + "c" * 32


def test_calls_with_their_outcomes_and_filters(
    app: Flask, supervisor: Console, clock: Clock
) -> None:
    _call(app, SID_QUEUE, "1", "2")  # technical problems → the tech queue
    clock.moment += timedelta(minutes=1)
    _call(app, SID_STATUS, "4", "12345678#")
    clock.moment += timedelta(days=1)
    _call(app, SID_ABROAD, to="+74957771000")
    page = supervisor.get("/console/calls/").get_data(as_text=True)
    assert page.index(SID_ABROAD) < page.index(SID_STATUS) < page.index(SID_QUEUE)
    assert "к оператору" in page and "узнал статус обращения" in page
    by_line = supervisor.get("/console/calls/?line=%2B74957771000").get_data(as_text=True)
    assert SID_ABROAD in by_line and SID_QUEUE not in by_line
    by_day = supervisor.get("/console/calls/?day=2026-11-25").get_data(as_text=True)
    assert SID_QUEUE in by_day and SID_STATUS in by_day and SID_ABROAD not in by_day
    by_outcome = supervisor.get("/console/calls/?outcome=operator").get_data(as_text=True)
    assert SID_QUEUE in by_outcome and SID_STATUS not in by_outcome
    # The whole number is for supervisors.
    assert "+7 916 123-45-67" in page


def test_one_call_path_inputs_masked_and_flow_version(app: Flask, supervisor: Console) -> None:
    _call(app, SID_STATUS, "4", "12345678#")
    page = supervisor.get(f"/console/calls/{SID_STATUS}").get_data(as_text=True)
    path = page.split('class="path"', 1)[1].split("</ol>", 1)[0]
    assert path.index("greeting") < path.index("main_menu") < path.index("status_check")
    assert "статус обращения" in path
    # The request number was masked when it was stored; the page shows it as stored.
    assert "<td>нажал</td>\n      <td>********#</td>" in page
    assert "12345678" not in page
    assert "hotline @ " in page
    assert "0:42" not in page and "42 с" in page


def test_an_unknown_call(supervisor: Console) -> None:
    assert supervisor.get("/console/calls/CA" + "9" * 32).status_code == 404

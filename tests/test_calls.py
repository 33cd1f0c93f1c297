"""The turn machinery of ``ivr.calls`` through signed webhooks: a turn that fails inside
changes nothing, and the call goes on from where it was."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from ivr.store.models import Call
from tests.conftest import TwilioWebhooks, call_params


def test_a_turn_that_fails_inside_is_rolled_back_and_its_retry_moves_the_call_on(
    twilio: TwilioWebhooks, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    twilio.post("/voice/incoming", call_params())
    calls = app.extensions["ivr"].calls

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("the renderer broke")

    with monkeypatch.context() as patch:
        patch.setattr(calls.renderer, "render", broken)
        failed = twilio.post("/voice/step?turn=1", call_params(Digits="1"))
    assert "техническая неполадка" in failed.get_data(as_text=True)
    with app.extensions["ivr"].db.sessions() as session:
        call = session.get(Call, call_params()["CallSid"])
        assert call is not None
        assert (call.turn, call.inputs) == (1, [])

    retried = twilio.post("/voice/step?turn=1", call_params(Digits="1")).get_data(as_text=True)
    assert "Технические проблемы." in retried
    assert 'action="/voice/step?turn=2"' in retried
    with app.extensions["ivr"].db.sessions() as session:
        call = session.get(Call, call_params()["CallSid"])
        assert call is not None
        assert (call.turn, [entry["value"] for entry in call.inputs]) == (2, ["1"])

"""The turn machinery of ``ivr.services.calls`` through signed webhooks: a turn that fails inside
changes nothing, and the call goes on from where it was."""

from __future__ import annotations

import re
import threading
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
    assert 'action="https://ivr.example.test/voice/step?turn=2"' in retried
    with app.extensions["ivr"].db.sessions() as session:
        call = session.get(Call, call_params()["CallSid"])
        assert call is not None
        assert (call.turn, [entry["value"] for entry in call.inputs]) == (2, ["1"])


def test_two_webhooks_for_one_turn_worked_out_at_once_are_stored_once_and_answered_alike(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two webhooks for the same turn (the key pressed, and the timeout redirect) both read the
    call before either stores its turn. The first to store wins; the other stores nothing and
    answers with the winner's TwiML, so Twilio and the stored call agree."""
    TwilioWebhooks(app.test_client()).post("/voice/incoming", call_params())
    renderer = app.extensions["ivr"].calls.renderer
    render = renderer.render
    both_read = threading.Barrier(2, timeout=10)

    def render_when_both_have_read(*args: Any, **kwargs: Any) -> str:
        both_read.wait()
        return render(*args, **kwargs)

    monkeypatch.setattr(renderer, "render", render_when_both_have_read)
    answers: list[str] = []

    def deliver(path: str, **fields: str) -> None:
        response = TwilioWebhooks(app.test_client()).post(path, call_params(**fields))
        answers.append(response.get_data(as_text=True))

    deliveries = [
        threading.Thread(target=deliver, args=("/voice/step?turn=1",), kwargs={"Digits": "1"}),
        threading.Thread(target=deliver, args=("/voice/step?turn=1&ev=timeout",)),
    ]
    for delivery in deliveries:
        delivery.start()
    for delivery in deliveries:
        delivery.join()

    assert len(answers) == 2 and answers[0] == answers[1]
    with app.extensions["ivr"].db.sessions() as session:
        call = session.get(Call, call_params()["CallSid"])
        assert call is not None
        assert call.turn == 2
        assert len(call.inputs) == 1
        assert call.last_twiml == answers[0]


def test_a_spoken_snils_is_masked_in_the_call_log_and_in_the_logs(
    twilio: TwilioWebhooks, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """Speech recognition writes a dictated СНИЛС with commas; it is masked all the same."""
    twilio.post("/voice/incoming", call_params())
    spoken = "мой снилс 160, 519, 740, 33"
    with caplog.at_level("DEBUG"):
        twilio.post("/voice/step?turn=1", call_params(SpeechResult=spoken, Confidence="0.9"))
    with app.extensions["ivr"].db.sessions() as session:
        call = session.get(Call, call_params()["CallSid"])
        assert call is not None
        assert [entry["value"] for entry in call.inputs] == ["мой снилс ***, ***, ***, 33"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    # As numbers of their own: a flow version's hex hash may hold the same digits.
    assert re.findall(r"(?<![0-9a-f])(?:160|519|740)(?![0-9a-f])", logged) == []

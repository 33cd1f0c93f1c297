"""The text alternative sent without asking: what the caller hears once ``send_text`` says
whether the SMS went, and why not (a landline is told something else than a failure).
``send_text`` itself: tests/services/test_send_text.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from ivr.domain.schedule import MOSCOW
from ivr.engine.interpreter import advance, new_state
from ivr.engine.service_handlers import NO_NUMBER, NO_SENDER, NOT_MOBILE
from ivr.engine.state import CallState, Event
from ivr.engine.steps import ActionRequest, Enqueue, Pause, Say
from ivr.engine.timing import flow_timing
from ivr.flows.model import Flow
from ivr.flows.service_nodes import TextAlternativeNode

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW)

# Ten characters each but the long not_sent: one second each at 10 characters a second.
PROMPTS = {
    "offer": "Нажмите 1." * 5,
    "sms": "Чат: gosuslugi.ru",
    "sent": "Отправили.",
    "failed": "Не ушло, напишите нам в чат.",
    "address": "Адрес чата",
    "again": "Повторяю..",
    "notice": "Записываем",
    "wait": "Ждите.....",
}


def _flow(**text: Any) -> Flow:
    node = {
        "kind": "text_alternative",
        "ask": False,
        "say": "offer",
        "sms": "sms",
        "sent": "sent",
        "not_sent": "failed",
        "next": "notice",
        **text,
    }
    return Flow.model_validate(
        {
            "name": "texts",
            "languages": ["ru"],
            "start": "text",
            "profiles": {"slow": {"rate": "50%", "pause": 1}},
            "profile": "slow",
            "nodes": {
                "text": node,
                "notice": {"kind": "prompt", "say": "notice", "next": "person"},
                "person": {"kind": "queue", "queue": "tty", "wait": "wait"},
            },
            "prompts": {"ru": PROMPTS},
        }
    )


LANDLINE = {"landline": "address", "landline_again": "again", "landline_repeat": 1}


def _said(steps: list[Any]) -> list[str | int]:
    return [
        s.text if isinstance(s, Say) else s.seconds for s in steps if isinstance(s, Say | Pause)
    ]


def _after(flow: Flow, result: dict[str, Any]) -> tuple[list[Any], CallState]:
    first = advance(flow, new_state(flow), Event.start(), NOW)
    assert first.action == ActionRequest("send_text", {"text": "Чат: gosuslugi.ru"})
    # Nothing is said before the text goes: not even the offer.
    assert first.steps == []
    turn = advance(flow, first.state, Event("action", data=result), NOW)
    return turn.steps, turn.state


def test_a_text_that_went_is_said_then_the_flow_goes_on() -> None:
    steps, state = _after(_flow(**LANDLINE), {"sent": True})
    assert _said(steps) == ["Отправили.", "Записываем"]
    assert isinstance(steps[-1], Enqueue)
    assert state.path == ["text", "notice", "person"]


def test_a_landline_hears_the_landline_prompts_and_their_repeat_slowly() -> None:
    steps, _ = _after(_flow(**LANDLINE), {"sent": False, "reason": NOT_MOBILE})
    assert _said(steps) == ["Адрес чата", 1, "Повторяю..", "Записываем"]
    assert {s.rate for s in steps if isinstance(s, Say)} == {"50%"}


def test_without_landline_again_the_landline_prompts_themselves_are_repeated() -> None:
    flow = _flow(landline="address", landline_repeat=2)
    steps, _ = _after(flow, {"sent": False, "reason": NOT_MOBILE})
    assert _said(steps) == ["Адрес чата", 1, "Адрес чата", 1, "Адрес чата", "Записываем"]


@pytest.mark.parametrize("reason", [NO_SENDER, NO_NUMBER, None])
def test_a_text_that_could_not_go_to_a_mobile_says_not_sent(reason: str | None) -> None:
    steps, _ = _after(_flow(**LANDLINE), {"sent": False, "reason": reason})
    assert _said(steps) == ["Не ушло, напишите нам в чат.", "Записываем"]


def test_a_node_without_landline_prompts_says_not_sent_to_a_landline() -> None:
    steps, _ = _after(_flow(), {"sent": False, "reason": NOT_MOBILE})
    assert _said(steps)[0] == "Не ушло, напишите нам в чат."


def test_a_repeat_needs_something_to_repeat() -> None:
    with pytest.raises(ValidationError, match="landline"):
        TextAlternativeNode.model_validate({"landline_repeat": 1, "next": "x"})


def test_the_timing_counts_what_a_text_sent_without_asking_says_not_its_offer() -> None:
    # The longest of sent (1 s), not_sent (2.8 s) and the landline (2 s), at 50 %: 5.6 s;
    # the notice 2 s. The 5 s offer is never said.
    timing = flow_timing(_flow(**LANDLINE), chars_per_second=10)
    assert timing.first_choice is None
    assert timing.person_speech == pytest.approx(7.6)

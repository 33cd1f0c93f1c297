"""``send_text``: the SMS goes to a mobile number once the turn is committed; when it cannot
go, the result says why (the engine tells a landline something else than a failure)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from ivr.engine.service_handlers import NO_NUMBER, NO_SENDER, NOT_MOBILE
from ivr.engine.steps import ActionRequest
from ivr.services.actions.messages import SendText


def _send(caller: str, enabled: bool = True) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    sent: list[tuple[str, str]] = []
    messenger: Any = SimpleNamespace(
        enabled=enabled, send=lambda to, body: sent.append((to, body)) or True
    )
    ctx: Any = SimpleNamespace(state=SimpleNamespace(vars={"caller": caller}), after_commit=[])
    result = dict(SendText(messenger)(ActionRequest("send_text", {"text": "Чат"}), ctx))
    for job in ctx.after_commit:
        job()
    return result, sent


def test_send_text_goes_to_a_mobile_number_after_the_commit() -> None:
    assert _send("+79161234567") == ({"sent": True}, [("+79161234567", "Чат")])


@pytest.mark.parametrize(
    ("caller", "enabled", "reason"),
    [
        ("+74951234567", True, NOT_MOBILE),
        # A landline is a landline whether or not a sender is configured.
        ("+74951234567", False, NOT_MOBILE),
        ("+79161234567", False, NO_SENDER),
        ("", True, NO_NUMBER),
        ("anonymous", True, NO_NUMBER),
    ],
)
def test_send_text_says_why_it_sent_nothing(caller: str, enabled: bool, reason: str) -> None:
    assert _send(caller, enabled) == ({"sent": False, "reason": reason}, [])

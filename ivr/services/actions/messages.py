"""``send_text``: the text alternative, sent by SMS to the caller's mobile number."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivr.domain.phones import is_mobile, to_e164
from ivr.engine.service_handlers import NO_NUMBER, NO_SENDER, NOT_MOBILE
from ivr.engine.steps import ActionRequest
from ivr.services.calls import ActionContext
from ivr.telephony.twilio_api import Messenger


class SendText:
    """Sends the engine's text to the caller when it is a mobile number and SMS works; when
    not, its result says why (``reason``: not a mobile number, no number, no sender)."""

    def __init__(self, messenger: Messenger) -> None:
        self.messenger = messenger

    def __call__(self, action: ActionRequest, ctx: ActionContext) -> Mapping[str, Any]:
        phone = to_e164(ctx.state.vars.get("caller", "")) or ""
        # A landline first: no SMS will ever go there, whether or not a sender is set up.
        if not phone:
            return {"sent": False, "reason": NO_NUMBER}
        if not is_mobile(phone):
            return {"sent": False, "reason": NOT_MOBILE}
        if not self.messenger.enabled:
            return {"sent": False, "reason": NO_SENDER}
        text = str(action.args["text"])
        # Sent once the turn is committed; a failure then is logged, not told.
        ctx.after_commit.append(lambda: self.messenger.send(phone, text))
        return {"sent": True}

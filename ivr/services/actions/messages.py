"""``send_text``: the text alternative, sent by SMS to the caller's mobile number."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivr.domain.phones import is_mobile, to_e164
from ivr.engine.steps import ActionRequest
from ivr.services.calls import ActionContext
from ivr.telephony.twilio_api import Messenger


class SendText:
    """Sends the engine's text to the caller when it is a mobile number and SMS works."""

    def __init__(self, messenger: Messenger) -> None:
        self.messenger = messenger

    def __call__(self, action: ActionRequest, ctx: ActionContext) -> Mapping[str, Any]:
        phone = to_e164(ctx.state.vars.get("caller", "")) or ""
        if not phone or not is_mobile(phone) or not self.messenger.enabled:
            return {"sent": False, "reason": "no mobile number or no SMS sender"}
        text = str(action.args["text"])
        # Sent once the turn is committed; a failure then is logged, not told.
        ctx.after_commit.append(lambda: self.messenger.send(phone, text))
        return {"sent": True}

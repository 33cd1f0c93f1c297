"""``save_voicemail``: the caller finished a message; register it (once) and text its number."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ivr.domain.phones import is_mobile, to_e164
from ivr.engine.steps import ActionRequest
from ivr.services.calls import ActionContext
from ivr.services.voicemails import ensure_voicemail
from ivr.telephony.recordings import is_recording_sid
from ivr.telephony.twilio_api import Messenger

log = logging.getLogger(__name__)


class SaveVoicemail:
    """Creates the voicemail and its request; sends the number by SMS when configured."""

    def __init__(self, messenger: Messenger) -> None:
        self.messenger = messenger

    def __call__(self, action: ActionRequest, ctx: ActionContext) -> Mapping[str, Any]:
        sid = str(action.args["recording_sid"])
        if not is_recording_sid(sid):
            raise ValueError("malformed RecordingSid in the Record callback")
        voicemail, created = ensure_voicemail(
            ctx.session, sid, ctx.call, int(action.args.get("duration", 0)), ctx.now
        )
        template = str(action.args.get("sms", ""))
        caller = to_e164(ctx.call.caller) or ""
        # Only a mobile number can take a text; the caller is told one is coming.
        sms = bool(template) and bool(caller) and self.messenger.enabled and is_mobile(caller)
        if created and sms:
            text = template.replace("{request_digits}", voicemail.request_number)
            # After the commit: never text a number whose voicemail might roll back.
            ctx.after_commit.append(lambda: self.messenger.send(caller, text))
        return {"request_number": voicemail.request_number, "sms": sms}

"""Side effects the engine asks for by name, run by the web layer: ``default_actions(...)``
builds the handler table (what stores, inside the call's transaction; what is slow, before it)."""

from __future__ import annotations

from ivr.services.actions.callbacks import BookCallback, cancel_callback, find_callback_slot
from ivr.services.actions.messages import SendText
from ivr.services.actions.requests import LookupRequest, escalate_request
from ivr.services.actions.speech import RecognizeNumber
from ivr.services.actions.voicemail import SaveVoicemail
from ivr.services.calls import ActionTable
from ivr.speech.recognizer import Recognizer
from ivr.telephony.recordings import RecordingFetcher
from ivr.telephony.twilio_api import Messenger


def default_actions(
    messenger: Messenger, fetcher: RecordingFetcher, recognizer: Recognizer | None
) -> ActionTable:
    """The handler of every action the shipped node kinds use."""
    return ActionTable(
        in_transaction={
            "save_voicemail": SaveVoicemail(messenger),
            "find_callback_slot": find_callback_slot,
            "book_callback": BookCallback(messenger),
            "cancel_callback": cancel_callback,
            "lookup_request": LookupRequest(),
            "escalate_request": escalate_request,
            "send_text": SendText(messenger),
        },
        # Fetching a recording and decoding it take up to seconds: never with a lock held.
        slow={"recognize_number": RecognizeNumber(fetcher, recognizer)},
        # These store nothing a caller left (a text goes out after the commit).
        read_only=frozenset({"lookup_request", "find_callback_slot", "send_text"}),
    )

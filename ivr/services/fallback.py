"""What a caller hears when a webhook fails inside: TwiML valid where it is used, and never
a queue nobody staffs.

- A call's own turn (``/voice/incoming``, ``/voice/step``) while its line is open: an
  apology and the fallback queue, where a person answers.
- The same while the line is closed, or when even that cannot be told: an apology, then what
  the line offers after hours without needing the flow: a voice message, recorded at once
  and saved by whichever of its two callbacks comes first (the record action here, or the
  recording status callback), and the other channels.
- The wait music of a queue (``/voice/queue/wait``, ``/voice/queue/key``): the caller is in
  a queue already, where ``<Enqueue>`` is not allowed; a word of patience and a pause, and
  the wait goes on.

Nothing here runs the flow: it is what is left when the flow, or the database, has failed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from twilio.twiml.voice_response import VoiceResponse

from ivr.config import Settings
from ivr.domain.schedule import is_open
from ivr.domain.spoken import digits_in_groups
from ivr.flows.registry import FlowRegistry
from ivr.services.events import NO_EVENTS, CallEvents
from ivr.services.voicemails import ensure_voicemail
from ivr.store.call_records import CallRecord, read_call
from ivr.store.db import Database
from ivr.telephony.carrier_fields import whole_seconds
from ivr.telephony.recordings import is_recording_sid
from ivr.telephony.twiml import RECORDING_EVENTS

log = logging.getLogger(__name__)

APOLOGY_TEXT = (
    "Извините, у нас техническая неполадка. Соединяю вас со специалистом, "
    "пожалуйста, оставайтесь на линии."
)
CLOSED_APOLOGY_TEXT = (
    "Извините, у нас техническая неполадка, а специалисты сейчас не работают. "
    "Вы можете оставить голосовое сообщение: расскажите о вашем вопросе после сигнала "
    "и нажмите решётку. Мы перезвоним в рабочее время."
)
CHANNELS_TEXT = (
    "Написать нам можно в чате на портале Госуслуги или в мобильном приложении, "
    "чат работает круглосуточно. Спасибо за звонок. До свидания!"
)
SAVED_TEXT = "Спасибо, ваше сообщение сохранено. Номер обращения: {number}."
NOT_RECORDED_TEXT = "Сообщение не записалось."
QUEUE_TEXT = "Пожалуйста, оставайтесь на линии: вам обязательно ответят."
RECORDED_ROUTE = "/voice/fallback/recorded"
MAX_MESSAGE_SECONDS = 180


class Fallback:
    """Failure answers for the voice webhooks, by route."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        registry: FlowRegistry,
        events: CallEvents = NO_EVENTS,
    ) -> None:
        self.settings = settings
        self.db = db
        self.registry = registry
        # Told of every apology, by the answer it gave.
        self.events = events
        self.base = settings.public_url.rstrip("/")

    def _say(self, response: VoiceResponse, text: str) -> None:
        response.say(text, voice=self.settings.voice_for("ru"), language="ru-RU")

    def in_call(self, params: Mapping[str, str], now: datetime) -> str:
        """A call's turn failed: a person if the line is open, else the after-hours options."""
        response = VoiceResponse()
        if self._staffed(params, now):
            self._say(response, APOLOGY_TEXT)
            response.enqueue(self.settings.fallback_queue)
            self.events.apology("operator")
            return str(response)
        self.events.apology("voicemail")
        self._say(response, CLOSED_APOLOGY_TEXT)
        response.record(
            action=self.base + RECORDED_ROUTE,
            method="POST",
            max_length=MAX_MESSAGE_SECONDS,
            timeout=5,
            finish_on_key="#",
            play_beep=True,
            recording_status_callback=self.base + "/voice/recording?purpose=voicemail&min=1",
            recording_status_callback_method="POST",
            recording_status_callback_event=RECORDING_EVENTS,
        )
        # Twilio goes on here when the caller said nothing at the beep.
        self._say(response, NOT_RECORDED_TEXT)
        self._say(response, CHANNELS_TEXT)
        response.hangup()
        return str(response)

    def in_queue(self) -> str:
        """The wait music failed: the caller stays in the queue, told to hold on."""
        response = VoiceResponse()
        self._say(response, QUEUE_TEXT)
        response.pause(length=20)
        self.events.apology("queue")
        return str(response)

    def recorded(self, params: Mapping[str, str], now: datetime) -> str:
        """The action of the message recorded after a failure: save it, tell its number."""
        response = VoiceResponse()
        sid = params.get("RecordingSid", "")
        duration = whole_seconds(params.get("RecordingDuration", "0")) or 0
        if not is_recording_sid(sid) or duration < 1:
            self._say(response, NOT_RECORDED_TEXT)
            self._say(response, CHANNELS_TEXT)
            response.hangup()
            return str(response)
        try:
            with self.db.transaction() as session:
                # A first turn that failed stored no call: the webhook still tells whose
                # message it is, for the callback the apology promised.
                call = read_call(session, params.get("CallSid", "")) or _unstored_call(params)
                voicemail, _ = ensure_voicemail(session, sid, call, duration, now)
                number = voicemail.request_number
        except Exception:
            # The recording status callback will still save it; no number can be promised.
            log.exception("call %s: the fallback message could not be saved now", _sid(params))
            self._say(response, "Спасибо. Мы прослушаем ваше сообщение в рабочее время.")
        else:
            self._say(response, SAVED_TEXT.format(number=digits_in_groups(number, "ru")))
        self._say(response, CHANNELS_TEXT)
        response.hangup()
        return str(response)

    def _staffed(self, params: Mapping[str, str], now: datetime) -> bool:
        """Whether a person answers the fallback queue for this call now."""
        if params.get("Direction", "").startswith("outbound"):
            # A callback the dispatcher placed: it dials only while specialists work.
            return True
        try:
            flow = self.registry.current().for_line(params.get("To", ""))
        except Exception:
            log.exception("call %s: the flows cannot tell the line's hours", _sid(params))
            return False
        if flow is None:
            return False
        schedule = flow.runtime_schedule
        return schedule is None or is_open(schedule, now)


def _unstored_call(params: Mapping[str, str]) -> CallRecord:
    """The call as its webhook's fields tell it, cut to the columns it is stored in."""
    return CallRecord(
        sid=params.get("CallSid", "")[:64],
        caller=params.get("From", "")[:32],
        line=params.get("To", "")[:32],
        flow_version="",
        turn=0,
        state={},
        inputs=[],
    )


def _sid(params: Mapping[str, str]) -> str:
    return params.get("CallSid", "?")

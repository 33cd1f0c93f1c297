"""The call itself: the harness plays Twilio's part for one inbound call.

``CallHarness.place(spec)`` POSTs the voice webhook, then does what Twilio does with each
TwiML verb in order: speaks ``<Say>``, answers ``<Gather>``/``<Record>`` with the caller's next
input (or falls through to the next verb when the caller is silent), follows ``<Redirect>``,
plays the ``waitUrl`` documents of ``<Enqueue>``, reports ``<Dial>``, stops at ``<Hangup>``,
and finally sends the status callback. Every request carries the call's form fields and is
signed with ``X-Twilio-Signature`` over the full URL and the POST parameters, as Twilio signs
them.

In a queue the harness requests the ``waitUrl`` ``queue_waits`` times, each with the queue's
parameters, and plays what it answers with the verbs Twilio allows there (``WAIT_VERBS``): a
``<Gather>`` posts the caller's keys to its action (only a press scripted for the wait, see
``ivr.harness.inputs``), and the action's answer is played in the queue as well, so a
``<Leave>`` in it takes the caller out (the ``<Enqueue>`` action gets ``QueueResult=leave``);
any other verb there is reported and skipped. A wait ends when its documents run out of
verbs, and Twilio then asks the ``waitUrl`` again.

Times are estimated, not waited for: speech at a fixed rate, pauses and timeouts at their
length. With ``at`` set, the ``X-IVR-Clock`` header tells a development server the moment of
each request (the call's start plus the time spent so far); production servers ignore it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from twilio.request_validator import RequestValidator

from ivr.domain.schedule import MOSCOW
from ivr.harness import audio
from ivr.harness import inputs as caller_inputs
from ivr.harness.inputs import (
    Ask,
    CallerInput,
    HangUp,
    InputSource,
    Press,
    ScriptedInputs,
    Silence,
    Speak,
    SpeakFile,
    Talk,
)
from ivr.harness.protocol import (
    API_VERSION,
    CLOCK_HEADER,
    DEFAULT_ACCOUNT_SID,
    DEFAULT_FROM,
    INBOUND,
    INCOMING_PATH,
    SIGNATURE_HEADER,
    STATUS_PATH,
)
from ivr.harness.recordings import RecordingHost
from ivr.harness.transport import HttpReply, Transport, TransportError, with_query
from ivr.harness.twiml import TwimlError, Verb, is_twiml_type, parse_twiml

# Estimates for the call's clock (nothing is actually waited for).
SPEECH_CHARS_PER_SECOND = 14
PLAY_SECONDS = 5
ANSWER_SECONDS = 2
BRIDGED_SECONDS = 60
DEFAULT_MAX_REQUESTS = 100
# The verbs played from a queue's waitUrl. Twilio's blog "Queue: The Gathering" (2013) added
# <Gather>; the whole list is the one Twilio-compatible carriers document for the same verb.
# No documentation found allows <Sms> there, so the harness treats it as not allowed.
WAIT_VERBS = ("Say", "Play", "Pause", "Gather", "Redirect", "Leave", "Hangup")

OutcomeKind = Literal[
    "hangup", "queue", "dial", "caller-hangup", "end-of-twiml", "rejected", "refused", "error"
]
LineKind = Literal["ivr", "queue", "caller", "route", "note", "end"]


def _digest(*parts: object) -> str:
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def moscow(moment: datetime) -> datetime:
    """A naive time read as Moscow time; an aware one converted to it."""
    return moment.replace(tzinfo=MOSCOW) if moment.tzinfo is None else moment.astimezone(MOSCOW)


def parse_moment(text: str) -> datetime:
    """``2026-12-31T21:30`` (or with a space, seconds, an offset) as a Moscow time."""
    try:
        return moscow(datetime.fromisoformat(text.strip()))
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a time like 2026-12-31T21:30") from exc


@dataclass(frozen=True)
class CallSpec:
    """One call to place: who calls which number when, and what the caller does."""

    to: str
    caller: str = DEFAULT_FROM
    at: datetime | None = None
    inputs: tuple[CallerInput, ...] = ()
    sid: str | None = None
    # Makes the derived CallSid differ between calls with the same inputs (scenario names).
    seed: str = ""
    # Sent with the <Enqueue> action when set; None: the caller stays in the queue.
    queue_result: str | None = None
    # Sent with the <Dial> action when set; None: the caller talks to the dialled number.
    dial_result: str | None = None
    # How many times the queue's waitUrl is requested (each with a later QueueTime).
    queue_waits: int = 2
    confidence: float = 0.92
    # Sign with a wrong token: the server must refuse every request.
    bad_signature: bool = False
    # ``outbound-api`` for a call the server asked Twilio to place (a booked callback).
    direction: str = INBOUND
    # The voice URL's path and query when not the harness's default (/voice/incoming).
    voice_path: str | None = None

    def call_sid(self) -> str:
        """``sid``, or one derived from everything else: the same call, the same CallSid."""
        if self.sid:
            return self.sid
        digest = _digest(
            self.seed,
            self.caller,
            self.to,
            self.at.isoformat() if self.at else "",
            [caller_inputs.to_json(item) for item in self.inputs],
            self.queue_result,
            self.dial_result,
            self.direction,
            self.voice_path,
        )
        return "CA" + digest[:32]


@dataclass(frozen=True)
class Outcome:
    """How the call ended."""

    kind: OutcomeKind
    target: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        """False when the server refused or failed the call."""
        return self.kind not in ("refused", "error")

    def label(self) -> str:
        """``hangup``, ``queue tech``, ``dial +7…``, ``refused: …``."""
        if self.kind in ("queue", "dial"):
            return f"{self.kind} {self.target}"
        if self.detail and self.kind in ("refused", "error", "end-of-twiml"):
            return f"{self.kind}: {self.detail}"
        return self.kind

    def to_json(self) -> dict[str, str]:
        """Plain data for the JSON transcript."""
        return {"kind": self.kind, "target": self.target, "detail": self.detail}


@dataclass(frozen=True)
class Line:
    """One line of the readable transcript."""

    who: LineKind
    text: str

    def render(self) -> str:
        """``IVR: …``, ``CALLER presses 1``, ``→ queue tech``, ``(…)``, ``CALL ENDED: …``."""
        if self.who == "ivr":
            return f"IVR: {self.text}"
        if self.who == "queue":
            return f"IVR (queue): {self.text}"
        if self.who == "caller":
            return f"CALLER {self.text}"
        if self.who == "route":
            return f"→ {self.text}"
        if self.who == "end":
            return f"CALL ENDED: {self.text}"
        return f"({self.text})"


@dataclass
class Exchange:
    """One request the harness sent and what came back."""

    kind: str
    method: str
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    status: int | None = None
    verbs: list[Verb] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class RecordingMade:
    """A recording the caller left."""

    sid: str
    duration: int
    source: str


@dataclass
class CallResult:
    """Everything about a placed call: requests, what was heard, how it ended."""

    spec: CallSpec
    sid: str
    base_url: str
    exchanges: list[Exchange]
    lines: list[Line]
    outcome: Outcome
    duration: int
    queues: list[str]
    dialled: list[str]
    recordings: list[RecordingMade]
    recordings_base: str | None = None
    recordings_fetched: dict[str, int] = field(default_factory=dict)
    # The server's own record of the call (flow, path, inputs), when it can be read.
    call_log: dict[str, Any] | None = None

    def heard(self) -> list[str]:
        """What the IVR said to the caller, in order (queue announcements included)."""
        return [line.text for line in self.lines if line.who in ("ivr", "queue")]

    def transcript(self) -> list[str]:
        """The readable transcript, one string per line."""
        return [line.render() for line in self.lines]

    def _shown_url(self, url: str) -> str:
        base = self.base_url.rstrip("/")
        if url.startswith(base + "/"):
            return url[len(base) :]
        return url

    def _stable(self, value: str) -> str:
        if self.recordings_base and value.startswith(self.recordings_base):
            return "{recordings}" + value[len(self.recordings_base) :]
        return value

    def to_json(self) -> dict[str, Any]:
        """The machine-readable transcript (``ivr call --json``)."""
        spec = self.spec
        return {
            "call": {
                "sid": self.sid,
                "from": spec.caller,
                "to": spec.to,
                "at": spec.at.isoformat() if spec.at else None,
                "base_url": self.base_url,
                "inputs": [caller_inputs.to_json(item) for item in spec.inputs],
                "queue_result": spec.queue_result,
                "dial_result": spec.dial_result,
                "direction": spec.direction,
            },
            "turns": [
                {
                    "kind": ex.kind,
                    "request": {
                        "method": ex.method,
                        "path": self._shown_url(ex.url),
                        "params": {k: self._stable(v) for k, v in ex.params.items()},
                        "headers": ex.headers,
                    },
                    "response": {
                        "status": ex.status,
                        "verbs": [verb.to_json() for verb in ex.verbs],
                        "error": ex.error,
                    },
                }
                for ex in self.exchanges
            ],
            "transcript": self.transcript(),
            "heard": self.heard(),
            "outcome": {**self.outcome.to_json(), "label": self.outcome.label()},
            "duration": self.duration,
            "queues": self.queues,
            "dialled": self.dialled,
            "recordings": [
                {
                    "sid": rec.sid,
                    "duration": rec.duration,
                    "source": rec.source,
                    "fetched": self.recordings_fetched.get(rec.sid, 0),
                }
                for rec in self.recordings
            ],
            "call_log": self.call_log,
        }

    def to_json_text(self) -> str:
        """``to_json`` as stable text: sorted keys, UTF-8, indented."""
        return json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True, indent=2)


class _Ended(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.label())
        self.outcome = outcome


@dataclass
class _Document:
    url: str
    verbs: list[Verb]


def _int(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default


def collect_digits(keys: str, num_digits: int | None, finish_on_key: str) -> tuple[str, str]:
    """The ``Digits`` Twilio sends for keys pressed at a ``<Gather>``, and the keys it drops.

    ``finishOnKey`` ends the input only after some digits and is not included; ``numDigits``
    ends it as soon as that many keys are in.
    """
    digits = ""
    for index, key in enumerate(keys):
        if finish_on_key and key == finish_on_key:
            if digits:
                return digits, keys[index + 1 :]
            continue
        digits += key
        if num_digits and len(digits) >= num_digits:
            return digits, keys[index + 1 :]
    return digits, ""


class CallHarness:
    """Plays Twilio's part for calls to one server."""

    def __init__(
        self,
        transport: Transport,
        base_url: str,
        auth_token: str,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        recordings: Callable[[], RecordingHost] | None = None,
        call_log: Callable[[str], dict[str, Any] | None] | None = None,
        incoming_path: str = INCOMING_PATH,
        status_path: str | None = STATUS_PATH,
        max_requests: int = DEFAULT_MAX_REQUESTS,
    ) -> None:
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.auth_token = auth_token
        self.account_sid = account_sid or DEFAULT_ACCOUNT_SID
        self.recordings = recordings
        self.call_log = call_log
        self.incoming_path = incoming_path
        self.status_path = status_path
        self.max_requests = max_requests

    def place(
        self,
        spec: CallSpec,
        inputs: InputSource | None = None,
        on_line: Callable[[Line], None] | None = None,
    ) -> CallResult:
        """Place one call from start to end."""
        run = _CallRun(self, spec, inputs or ScriptedInputs(spec.inputs), on_line)
        result = run.run()
        if self.call_log is not None and result.outcome.kind != "refused":
            result.call_log = self.call_log(result.sid)
        return result


class _CallRun:
    """One call in progress."""

    def __init__(
        self,
        harness: CallHarness,
        spec: CallSpec,
        inputs: InputSource,
        on_line: Callable[[Line], None] | None,
    ) -> None:
        self.h = harness
        self.spec = spec
        self.inputs = inputs
        self.on_line = on_line
        self.sid = spec.call_sid()
        token = harness.auth_token + ("-wrong" if spec.bad_signature else "")
        self.validator = RequestValidator(token)
        self.exchanges: list[Exchange] = []
        self.lines: list[Line] = []
        self.elapsed = 0
        self.answered = False
        self.requests = 0
        self.queues: list[str] = []
        self.dialled: list[str] = []
        self.recordings: list[RecordingMade] = []
        self.host: RecordingHost | None = None
        # An input kept for the next verb (speech meant for the <Record> after a <Gather>).
        self.pending: CallerInput | None = None
        self._absent = 0

    # -- the call -------------------------------------------------------------------------

    def run(self) -> CallResult:
        path = self.spec.voice_path or self.h.incoming_path
        url = urljoin(self.h.base_url + "/", path.lstrip("/"))
        # Twilio asks for an inbound call's TwiML while it rings, an outbound one's on answer.
        first = "ringing" if self.spec.direction == INBOUND else "in-progress"
        try:
            document = self._fetch("incoming", "POST", url, {}, status=first)
            self.answered = True
            self._execute(document)
            outcome = Outcome("end-of-twiml", detail="no more verbs: Twilio hangs up")
        except _Ended as ended:
            outcome = ended.outcome
        if self.answered and outcome.kind != "refused":
            self._status_callback()
        self._say("end", outcome.label())
        fetched = {}
        if self.host is not None:
            fetched = {rec.sid: self.host.fetched(rec.sid) for rec in self.recordings}
        return CallResult(
            spec=self.spec,
            sid=self.sid,
            base_url=self.h.base_url,
            exchanges=self.exchanges,
            lines=self.lines,
            outcome=outcome,
            duration=self.elapsed,
            queues=self.queues,
            dialled=self.dialled,
            recordings=self.recordings,
            recordings_base=self.host.base_url if self.host is not None else None,
            recordings_fetched=fetched,
        )

    def _execute(self, document: _Document) -> None:
        while True:
            following: _Document | None = None
            for index, verb in enumerate(document.verbs):
                after = document.verbs[index + 1] if index + 1 < len(document.verbs) else None
                following = self._verb(document.url, verb, after)
                if following is not None:
                    break
            if following is None:
                return
            document = following

    def _verb(self, doc_url: str, verb: Verb, after: Verb | None) -> _Document | None:
        """Perform one verb; a new document when Twilio moves to another URL."""
        if verb.name in ("Say", "Play", "Pause"):
            self._speak(verb, "ivr")
            return None
        if verb.name == "Gather":
            return self._gather(doc_url, verb, after)
        if verb.name == "Record":
            return self._record(doc_url, verb)
        if verb.name == "Redirect":
            target = urljoin(doc_url, verb.text)
            return self._fetch("redirect", verb.attr("method", "POST").upper(), target, {})
        if verb.name == "Enqueue":
            return self._enqueue(doc_url, verb)
        if verb.name == "Dial":
            return self._dial(doc_url, verb)
        if verb.name == "Hangup":
            raise _Ended(Outcome("hangup"))
        if verb.name == "Reject":
            raise _Ended(Outcome("rejected", detail=verb.attr("reason", "rejected")))
        if verb.name == "Leave":
            self._say("note", "<Leave> outside a queue: Twilio ignores it")
            return None
        raise _Ended(Outcome("error", detail=f"the harness does not perform <{verb.name}>"))

    # -- verbs ------------------------------------------------------------------------------

    def _speak(self, verb: Verb, who: LineKind) -> None:
        loops = max(1, _int(verb.attr("loop", "1"), 1))
        if verb.name == "Say":
            text = verb.spoken()
            self._say(who, text)
            self.elapsed += loops * max(1, math.ceil(len(text) / SPEECH_CHARS_PER_SECOND))
        elif verb.name == "Play":
            self._say(who, f"[audio {verb.text}]")
            self.elapsed += loops * PLAY_SECONDS
        elif verb.name == "Pause":
            self.elapsed += max(0, _int(verb.attr("length", "1"), 1))

    def _next_input(self, ask: Ask) -> CallerInput:
        if self.pending is not None:
            item, self.pending = self.pending, None
            return item
        item = self.inputs.next_input(ask)
        if isinstance(item, Press) and item.in_queue and not ask.in_queue:
            # The script meant this press for a queue's wait music; taking it here would send
            # the key to the wrong menu and hide that the queue never offered it.
            raise _Ended(
                Outcome(
                    "error",
                    detail=f"the next input is {{wait_press: {item.keys}}}, but this "
                    f"<{ask.verb}> is not in a queue's wait music (did the queue offer a "
                    "<Gather> within queue_waits?)",
                )
            )
        return item

    def _gather(
        self, doc_url: str, verb: Verb, after: Verb | None, *, in_queue: bool = False
    ) -> _Document | None:
        """Listen for the caller's input; the action's document when Twilio posts it."""
        who: LineKind = "queue" if in_queue else "ivr"
        modes = set(verb.attr("input", "dtmf").split())
        dtmf, speech = "dtmf" in modes, "speech" in modes
        timeout = _int(verb.attr("timeout", "5"), 5)
        for child in verb.children:
            if child.name in ("Say", "Play", "Pause"):
                self._speak(child, who)
        item = self._next_input(Ask("Gather", dtmf, speech, timeout, in_queue))
        params: dict[str, str] = {}
        if (
            isinstance(item, Speak | SpeakFile | Talk)
            and not speech
            and after is not None
            and after.name == "Record"
        ):
            # Words at a keys-only <Gather> that a <Record> follows: the caller waits out the
            # <Gather> and speaks after the beep.
            self.pending = item
            item = Silence()
            self._say("caller", "waits for the beep to speak")
            self.elapsed += timeout
            return None
        if isinstance(item, HangUp):
            self._say("caller", "hangs up")
            raise _Ended(Outcome("caller-hangup"))
        if isinstance(item, Press):
            self._say("caller", f"presses {item.keys}")
            if dtmf:
                num_digits = _int(verb.attr("numDigits", "0"), 0) or None
                finish = verb.attr("finishOnKey", "#")
                digits, _ = collect_digits(item.keys, num_digits, finish)
                if digits:
                    params["Digits"] = digits
                typed = item.keys[:-1] if finish and item.keys.endswith(finish) else item.keys
                if digits != typed:
                    self._say("note", f"Twilio sends Digits={digits or '(none)'}")
            else:
                self._say("note", "not heard: this <Gather> listens for speech only")
        elif isinstance(item, Speak):
            self._say("caller", f"says «{item.text}»")
            if speech:
                params["SpeechResult"] = item.text
                params["Confidence"] = f"{self.spec.confidence:g}"
            else:
                self._say("note", "not heard: this <Gather> listens for keys only")
        elif isinstance(item, SpeakFile | Talk):
            if isinstance(item, SpeakFile):
                option = "--say-file"
                self._say("caller", f"says the audio of {item.path.name}")
            else:
                option = "--talk"
                self._say("caller", f"talks for {item.seconds} s")
            if speech:
                raise _Ended(
                    Outcome(
                        "error",
                        detail=f"{option} at a speech <Gather>: the harness cannot recognise "
                        "audio as Twilio does; use --say TEXT",
                    )
                )
            self._say("note", "not heard: this <Gather> listens for keys only")
        else:
            self._say("caller", "is silent")
        self.elapsed += ANSWER_SECONDS if params else timeout
        if not params and verb.attr("actionOnEmptyResult", "false").lower() != "true":
            return None  # Twilio moves on to the verb after the <Gather>.
        target = urljoin(doc_url, verb.attr("action")) if verb.attr("action") else doc_url
        kind = "queue-gather" if in_queue else "gather"
        return self._fetch(kind, verb.attr("method", "POST").upper(), target, params)

    def _record(self, doc_url: str, verb: Verb) -> _Document | None:
        timeout = _int(verb.attr("timeout", "5"), 5)
        max_length = _int(verb.attr("maxLength", "3600"), 3600) or 3600
        if verb.attr("playBeep", "true").lower() != "false":
            self._say("note", "beep")
        item = self._next_input(Ask("Record", False, True, timeout))
        events = set(
            verb.attr("recordingStatusCallbackEvent", "completed").replace(",", " ").split()
        )
        if isinstance(item, HangUp):
            self._say("caller", "hangs up")
            raise _Ended(Outcome("caller-hangup"))
        if isinstance(item, Silence | Press):
            said = f"presses {item.keys}" if isinstance(item, Press) else "is silent"
            self._say("caller", said)
            self._say("note", "an empty recording: Twilio moves on to the next verb")
            self.elapsed += timeout
            if "absent" in events:
                # Twilio creates the recording resource and reports it absent (error 16102).
                self._absent += 1
                absent_sid = "RE" + _digest(self.sid, "absent", self._absent)[:32]
                self._recording_status(verb, doc_url, absent_sid, 0, "absent")
            return None
        try:
            if isinstance(item, Speak):
                wav, source = audio.synthesise(item.text), f"say: {item.text}"
                self._say("caller", f"says «{item.text}» (recorded)")
            elif isinstance(item, Talk):
                wav, source = audio.talking(item.seconds), f"talk: {item.seconds} s"
                self._say("caller", f"talks for {item.seconds} s (recorded)")
            else:
                wav, source = audio.read_wav(item.path), f"file: {item.path.name}"
                self._say("caller", f"says the audio of {item.path.name} (recorded)")
        except audio.AudioError as exc:
            raise _Ended(Outcome("error", detail=str(exc))) from exc
        if audio.duration(wav) > max_length:
            wav = audio.truncate(wav, max_length)
            self._say("note", f"the recording stops at maxLength={max_length} s")
        host = self._recording_host()
        index = len(self.recordings) + 1
        recording_sid = "RE" + _digest(self.sid, "recording", index)[:32]
        stored = host.add(recording_sid, self.sid, wav)
        self.recordings.append(RecordingMade(recording_sid, stored.duration, source))
        if "in-progress" in events:
            self._recording_status(verb, doc_url, recording_sid, 0, "in-progress")
        self.elapsed += stored.duration + timeout
        params = {
            "RecordingUrl": host.url(recording_sid),
            "RecordingSid": recording_sid,
            "RecordingDuration": str(stored.duration),
        }
        target = urljoin(doc_url, verb.attr("action")) if verb.attr("action") else doc_url
        document = self._fetch("record", verb.attr("method", "POST").upper(), target, params)
        if "completed" in events:
            self._recording_status(verb, doc_url, recording_sid, stored.duration, "completed")
        return document

    def _recording_status(
        self, verb: Verb, doc_url: str, recording_sid: str, duration: int, status: str
    ) -> None:
        callback = verb.attr("recordingStatusCallback")
        if not callback:
            return
        params = {
            "AccountSid": self.h.account_sid,
            "CallSid": self.sid,
            "RecordingSid": recording_sid,
            "RecordingUrl": self._recording_host().url(recording_sid),
            "RecordingStatus": status,
            "RecordingDuration": str(duration),
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
            "RecordingStartTime": format_datetime(self._now(), usegmt=False),
        }
        if status == "absent":
            params["ErrorCode"] = "16102"
        self._callback(
            "recording-status",
            verb.attr("recordingStatusCallbackMethod", "POST").upper(),
            urljoin(doc_url, callback),
            params,
        )

    def _enqueue(self, doc_url: str, verb: Verb) -> _Document | None:
        name = verb.text
        queue_sid = "QU" + _digest(self.h.account_sid, "queue", name)[:32]
        self.queues.append(name)
        self._say("route", f"queue {name}")
        queue_time, left = 0, False
        wait_url = verb.attr("waitUrl")
        if wait_url:
            method = verb.attr("waitUrlMethod", "POST").upper()
            for _ in range(max(0, self.spec.queue_waits)):
                params = {
                    "QueueSid": queue_sid,
                    "QueuePosition": "1",
                    "QueueTime": str(queue_time),
                    "AvgQueueTime": "0",
                    "CurrentQueueSize": "1",
                    "MaxQueueSize": "100",
                }
                started = self.elapsed
                document = self._fetch("queue-wait", method, urljoin(doc_url, wait_url), params)
                left = self._wait_music(document)
                queue_time += max(1, self.elapsed - started)
                if left:
                    break
        else:
            self._say("note", "Twilio's hold music")
        result = "leave" if left else self.spec.queue_result
        if result is None:
            raise _Ended(Outcome("queue", target=name))
        self._say("caller", f"leaves the queue: QueueResult={result}")
        if result == "bridged":
            self.elapsed += BRIDGED_SECONDS
        if not verb.attr("action"):
            return None
        params = {"QueueResult": result, "QueueSid": queue_sid, "QueueTime": str(queue_time)}
        return self._fetch(
            "enqueue-action",
            verb.attr("method", "POST").upper(),
            urljoin(doc_url, verb.attr("action")),
            params,
        )

    def _wait_music(self, document: _Document) -> bool:
        """Play one wait: a waitUrl document, and the documents it leads to.

        True when the caller leaves the queue (``<Leave>``). A ``<Gather>``'s action and a
        ``<Redirect>`` answer documents that are played in the queue too, with the same verbs
        allowed; the wait is over when a document runs out of verbs.
        """
        current: _Document | None = document
        while current is not None:
            following: _Document | None = None
            for verb in current.verbs:
                if verb.name in ("Say", "Play", "Pause"):
                    self._speak(verb, "queue")
                elif verb.name == "Gather":
                    following = self._gather(current.url, verb, None, in_queue=True)
                elif verb.name == "Redirect":
                    target = urljoin(current.url, verb.text)
                    method = verb.attr("method", "POST").upper()
                    following = self._fetch("queue-wait", method, target, {})
                elif verb.name == "Leave":
                    return True
                elif verb.name == "Hangup":
                    raise _Ended(Outcome("hangup"))
                else:
                    # What Twilio does with such a verb is not documented: the harness plays
                    # nothing for it and says so, so a server that sends one is noticed.
                    self._say(
                        "note",
                        f"warning: <{verb.name}> is not allowed in a queue's waitUrl "
                        f"(only {', '.join(f'<{name}>' for name in WAIT_VERBS)}): skipped",
                    )
                if following is not None:
                    break
            current = following
        return False

    def _dial(self, doc_url: str, verb: Verb) -> _Document | None:
        number = verb.text or next(
            (child.text for child in verb.children if child.name != "#text"), ""
        )
        self.dialled.append(number)
        self._say("route", f"dial {number}")
        result = self.spec.dial_result
        if result is None:
            raise _Ended(Outcome("dial", target=number))
        self._say("caller", f"the dialled call ends: DialCallStatus={result}")
        talked = BRIDGED_SECONDS if result in ("completed", "answered") else 0
        self.elapsed += talked or _int(verb.attr("timeout", "30"), 30)
        if not verb.attr("action"):
            return None
        params = {
            "DialCallStatus": result,
            "DialCallSid": "CA" + _digest(self.sid, "dial", len(self.dialled))[:32],
            "DialCallDuration": str(talked),
        }
        return self._fetch(
            "dial-action",
            verb.attr("method", "POST").upper(),
            urljoin(doc_url, verb.attr("action")),
            params,
        )

    # -- requests ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        start = self.spec.at if self.spec.at is not None else datetime.now(MOSCOW)
        return start + timedelta(seconds=self.elapsed)

    def _recording_host(self) -> RecordingHost:
        if self.host is None:
            if self.h.recordings is None:
                raise _Ended(Outcome("error", detail="no recording host to serve the recording"))
            self.host = self.h.recordings()
        return self.host

    def _call_params(self, status: str) -> dict[str, str]:
        spec = self.spec
        return {
            "AccountSid": self.h.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": self.sid,
            "CallStatus": status,
            "Called": spec.to,
            "Caller": spec.caller,
            "Direction": spec.direction,
            "From": spec.caller,
            "To": spec.to,
        }

    def _send(
        self, kind: str, method: str, url: str, params: dict[str, str]
    ) -> tuple[Exchange, HttpReply | None]:
        self.requests += 1
        if self.requests > self.h.max_requests:
            raise _Ended(
                Outcome(
                    "error",
                    detail=f"the call did not end after {self.h.max_requests} requests "
                    "(does the flow loop?)",
                )
            )
        signed_url = with_query(url, params) if method == "GET" else url
        signature = self.validator.compute_signature(signed_url, {} if method == "GET" else params)
        headers: dict[str, str] = {}
        if self.spec.at is not None:
            headers[CLOCK_HEADER] = self._now().isoformat()
        exchange = Exchange(kind, method, url, params, dict(headers))
        self.exchanges.append(exchange)
        try:
            reply = self.h.transport.send(
                method, url, params, {**headers, SIGNATURE_HEADER: signature}
            )
        except TransportError as exc:
            exchange.error = str(exc)
            return exchange, None
        exchange.status = reply.status
        return exchange, reply

    def _fetch(
        self,
        kind: str,
        method: str,
        url: str,
        extra: dict[str, str],
        status: str = "in-progress",
    ) -> _Document:
        """Request TwiML; any failure ends the call as Twilio would end it."""
        params = {**self._call_params(status), **extra}
        exchange, reply = self._send(kind, method, url, params)
        shown = url[len(self.h.base_url) :] if url.startswith(self.h.base_url) else url
        if reply is None:
            raise _Ended(Outcome("error", detail=exchange.error or "unreachable"))
        if reply.status == 403:
            exchange.error = reply.body.strip()
            raise _Ended(
                Outcome(
                    "refused",
                    detail=f"HTTP 403 from {shown}: the server refused the X-Twilio-Signature "
                    "(is TWILIO_AUTH_TOKEN the server's token, and IVR_PUBLIC_URL the URL the "
                    f"harness calls, {self.h.base_url}?)",
                )
            )
        if reply.status != 200:
            exchange.error = reply.body.strip()[:500]
            raise _Ended(
                Outcome(
                    "error",
                    detail=f"HTTP {reply.status} from {shown}: Twilio would request the "
                    "number's fallback URL or say that an application error occurred",
                )
            )
        if not is_twiml_type(reply.content_type):
            exchange.error = f"content type {reply.content_type!r}"
            raise _Ended(
                Outcome(
                    "error",
                    detail=f"{shown} answered {reply.content_type or 'no content type'}, not TwiML",
                )
            )
        try:
            verbs = parse_twiml(reply.body)
        except TwimlError as exc:
            exchange.error = str(exc)
            raise _Ended(
                Outcome("error", detail=f"invalid TwiML from {shown} (Twilio error 12100): {exc}")
            ) from exc
        exchange.verbs = verbs
        return _Document(url, verbs)

    def _callback(self, kind: str, method: str, url: str, params: dict[str, str]) -> None:
        """A request whose answer Twilio does not act on (status callbacks)."""
        try:
            exchange, reply = self._send(kind, method, url, params)
        except _Ended:
            return
        if reply is None or reply.status >= 400:
            if reply is not None:
                exchange.error = reply.body.strip()[:500]
            got = f"HTTP {reply.status}" if reply is not None else exchange.error
            self._say("note", f"warning: the {kind} callback got {got}")

    def _status_callback(self) -> None:
        if not self.h.status_path:
            return
        url = urljoin(self.h.base_url + "/", self.h.status_path.lstrip("/"))
        if urlsplit(self.h.status_path).scheme:
            url = self.h.status_path
        params = {**self._call_params("completed"), "CallDuration": str(self.elapsed)}
        self._callback("status-callback", "POST", url, params)

    def _say(self, who: LineKind, text: str) -> None:
        line = Line(who, text)
        self.lines.append(line)
        if self.on_line is not None:
            self.on_line(line)

"""Twilio's side of the protocol, checked against a small fake webhook server.

The fake server answers fixed TwiML per path, checks every signature as the real server does,
and remembers each request, so each test sees exactly what the harness sent.
"""

from __future__ import annotations

import base64
import io
import urllib.request
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from ivr.harness import audio
from ivr.harness.inputs import HangUp, Press, Silence, Speak, SpeakFile, Talk
from ivr.harness.local import LazyRecordingHost
from ivr.harness.simulator import CallHarness, CallResult, CallSpec, collect_digits
from ivr.harness.transport import AppTransport

BASE = "https://fake.example.test"
TOKEN = "fake-token"
ACCOUNT = "AC" + "2" * 32
HEAD = '<?xml version="1.0" encoding="UTF-8"?><Response>'


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]


@dataclass
class FakeServer:
    """A webhook server answering ``docs[path]`` (path without the query) as TwiML."""

    docs: dict[str, str]
    seen: list[Seen] = field(default_factory=list)
    fetched: list[bytes] = field(default_factory=list)

    def app(self) -> Flask:
        app = Flask("fake")
        validator = RequestValidator(TOKEN)

        @app.route("/<path:path>", methods=["GET", "POST"])
        def any_path(path: str) -> Response:
            params = request.form.to_dict() if request.method == "POST" else {}
            if not validator.validate(
                request.url, params, request.headers.get("X-Twilio-Signature", "")
            ):
                return Response("bad signature", status=403)
            self.seen.append(
                Seen(request.method, request.full_path.rstrip("?"), {**params, **request.args})
            )
            if "RecordingUrl" in params and "RecordingStatus" not in params:
                self.fetched.append(_fetch(params["RecordingUrl"] + ".wav"))
            body = self.docs.get("/" + path)
            if body is None:
                return Response("", status=204)
            if body.startswith("HTTP "):
                return Response("boom", status=int(body.split()[1]))
            return Response(body, mimetype="text/xml")

        return app


def _fetch(url: str) -> bytes:
    req = urllib.request.Request(url)
    token = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(req, timeout=5) as response:
        data: bytes = response.read()
        return data


@pytest.fixture
def recordings() -> Iterator[LazyRecordingHost]:
    host = LazyRecordingHost(ACCOUNT, TOKEN)
    yield host
    host.close()


def place(
    docs: dict[str, str],
    recordings: LazyRecordingHost | None = None,
    **spec: object,
) -> tuple[CallResult, FakeServer]:
    server = FakeServer(docs)
    harness = CallHarness(
        AppTransport(server.app(), BASE),
        BASE,
        TOKEN,
        account_sid=ACCOUNT,
        recordings=recordings,
        status_path="/status",
    )
    spec.setdefault("to", "+78005553535")
    return harness.place(CallSpec(**spec)), server  # type: ignore[arg-type]


def test_silence_at_gather_falls_through_to_the_next_verb() -> None:
    docs = {
        "/voice/incoming": HEAD + '<Gather action="/next" numDigits="1"><Say>Press</Say></Gather>'
        "<Say>Nothing pressed</Say><Hangup/></Response>",
    }
    result, server = place(docs, inputs=(Silence(),))

    assert result.transcript() == [
        "IVR: Press",
        "CALLER is silent",
        "IVR: Nothing pressed",
        "CALL ENDED: hangup",
    ]
    assert [s.path for s in server.seen] == ["/voice/incoming", "/status"]


def test_keys_go_to_the_action_resolved_against_the_current_url() -> None:
    docs = {
        "/voice/incoming": HEAD + '<Redirect method="POST">menu/start?x=1</Redirect></Response>',
        "/voice/menu/start": HEAD + '<Gather action="choose" numDigits="2"><Say>Two keys</Say>'
        "</Gather></Response>",
        "/voice/menu/choose": HEAD + "<Say>Chosen</Say></Response>",
    }
    result, server = place(docs, inputs=(Press("123"),))

    assert [s.path for s in server.seen] == [
        "/voice/incoming",
        "/voice/menu/start?x=1",
        "/voice/menu/choose",
        "/status",
    ]
    assert server.seen[2].params["Digits"] == "12"
    assert "(Twilio sends Digits=12)" in result.transcript()
    # No verb after the last document: Twilio hangs up.
    assert result.outcome.kind == "end-of-twiml"


def test_without_an_action_the_gather_posts_to_its_own_document() -> None:
    docs = {"/voice/incoming": HEAD + "<Gather><Say>Again</Say></Gather></Response>"}
    _, server = place(docs, inputs=(Press("5#"),), sid="CA" + "9" * 32)

    assert [s.path for s in server.seen][:2] == ["/voice/incoming", "/voice/incoming"]
    assert server.seen[1].params["Digits"] == "5"
    assert server.seen[1].params["CallSid"] == "CA" + "9" * 32


def test_digits_rules() -> None:
    assert collect_digits("123456#", None, "#") == ("123456", "")
    assert collect_digits("123456#", 1, "#") == ("1", "23456#")
    assert collect_digits("#12#9", None, "#") == ("12", "9")
    assert collect_digits("#", None, "#") == ("", "")
    assert collect_digits("12*", None, "") == ("12*", "")


def test_empty_result_is_posted_when_asked() -> None:
    docs = {
        "/voice/incoming": HEAD
        + '<Gather action="/next" actionOnEmptyResult="true"><Say>Hm</Say></Gather></Response>',
        "/next": HEAD + "<Hangup/></Response>",
    }
    result, server = place(docs)

    assert server.seen[1].path == "/next"
    assert "Digits" not in server.seen[1].params
    assert result.outcome.kind == "hangup"


def test_speech_only_gather_does_not_hear_keys_and_keys_only_does_not_hear_words() -> None:
    docs = {
        "/voice/incoming": HEAD + '<Gather input="speech" action="/a"><Say>Say it</Say></Gather>'
        '<Gather input="dtmf" action="/a"><Say>Press it</Say></Gather><Hangup/></Response>',
    }
    result, server = place(docs, inputs=(Press("1"), Speak("один")))

    assert "(not heard: this <Gather> listens for speech only)" in result.transcript()
    assert "(not heard: this <Gather> listens for keys only)" in result.transcript()
    assert [s.path for s in server.seen] == ["/voice/incoming", "/status"]


def test_get_method_sends_the_params_in_the_signed_query() -> None:
    docs = {
        "/voice/incoming": HEAD + '<Gather action="/g" method="GET"/></Response>',
        "/g": HEAD + "<Hangup/></Response>",
    }
    result, server = place(docs, inputs=(Press("7"),))

    assert server.seen[1].method == "GET"
    assert server.seen[1].params["Digits"] == "7"
    assert server.seen[1].params["CallSid"] == result.sid
    assert result.outcome.kind == "hangup"


def test_record_posts_the_recording_serves_it_and_reports_its_status(
    recordings: LazyRecordingHost, tmp_path: Path
) -> None:
    # A 16 kHz stereo file: the recording is what Twilio keeps, 8 kHz mono 16-bit.
    source = tmp_path / "hello.wav"
    with wave.open(str(source), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x10\x00\x20\x00" * 16000 * 2)
    docs = {
        "/voice/incoming": HEAD + '<Record action="/saved" maxLength="60" '
        'recordingStatusCallback="/rec?purpose=voicemail" '
        'recordingStatusCallbackEvent="completed absent"/></Response>',
        "/saved": HEAD + "<Say>Saved</Say><Hangup/></Response>",
    }
    result, server = place(docs, recordings, inputs=(SpeakFile(source),))

    action, status = server.seen[1], server.seen[2]
    assert action.path == "/saved"
    sid = action.params["RecordingSid"]
    assert sid.startswith("RE") and len(sid) == 34
    assert action.params["RecordingDuration"] == "2"
    assert action.params["RecordingUrl"].endswith(
        f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}"
    )
    assert status.path == "/rec?purpose=voicemail"
    assert status.params["RecordingStatus"] == "completed"
    assert status.params["RecordingSid"] == sid
    with wave.open(io.BytesIO(server.fetched[0])) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() == 16000
    assert result.recordings_fetched == {sid: 1}
    assert result.transcript()[-2:] == ["IVR: Saved", "CALL ENDED: hangup"]
    # The JSON hides the host's port, which differs between runs.
    assert result.to_json()["turns"][1]["request"]["params"]["RecordingUrl"].startswith(
        "{recordings}/2010-04-01/"
    )


def test_silence_at_record_is_an_empty_recording(recordings: LazyRecordingHost) -> None:
    docs = {
        "/voice/incoming": HEAD + '<Record action="/saved" recordingStatusCallback="/rec" '
        'recordingStatusCallbackEvent="completed absent"/><Say>Nothing recorded</Say>'
        "</Response>",
    }
    result, server = place(docs, recordings)

    assert [s.path for s in server.seen] == ["/voice/incoming", "/rec", "/status"]
    assert server.seen[1].params["RecordingStatus"] == "absent"
    assert "IVR: Nothing recorded" in result.transcript()
    assert result.recordings == []


def test_words_at_a_keys_gather_before_a_record_are_said_after_the_beep(
    recordings: LazyRecordingHost,
) -> None:
    if audio.synthesiser() is None:
        pytest.skip("espeak-ng is not installed")
    docs = {
        "/voice/incoming": HEAD + '<Gather action="/keys" finishOnKey="#"><Say>Keys or voice'
        '</Say></Gather><Record action="/spoken" timeout="3"/></Response>',
        "/spoken": HEAD + "<Hangup/></Response>",
    }
    result, server = place(docs, recordings, inputs=(Speak("один два три"),))

    assert server.seen[1].path == "/spoken"
    assert int(server.seen[1].params["RecordingDuration"]) >= 1
    assert "CALLER says «один два три» (recorded)" in result.transcript()
    with wave.open(io.BytesIO(server.fetched[0])) as wav:
        assert wav.getframerate() == 8000 and wav.getnframes() > 4000


def test_dial_result_goes_to_the_dial_action() -> None:
    docs = {
        "/voice/incoming": HEAD + '<Dial action="/dialled" timeout="20">+74950000000</Dial>'
        "</Response>",
        "/dialled": HEAD + "<Say>Busy, sorry</Say><Hangup/></Response>",
    }
    busy, server = place(docs, dial_result="busy")
    talked, _ = place(docs)

    assert server.seen[1].params["DialCallStatus"] == "busy"
    assert busy.dialled == ["+74950000000"]
    assert busy.transcript()[-2] == "IVR: Busy, sorry"
    assert talked.outcome.label() == "dial +74950000000"


def test_enqueue_wait_leave_and_action() -> None:
    docs = {
        "/voice/incoming": HEAD + '<Enqueue action="/left" waitUrl="/wait">sales</Enqueue>'
        "</Response>",
        "/wait": HEAD + '<Say>Please hold</Say><Pause length="10"/></Response>',
        "/left": HEAD + "<Say>Bye</Say><Hangup/></Response>",
    }
    stayed, server = place(docs, queue_waits=3)
    left, left_server = place(docs, queue_result="queue-full")

    waits = [s for s in server.seen if s.path == "/wait"]
    assert [w.params["QueueTime"] for w in waits] == ["0", "11", "22"]
    assert stayed.outcome.label() == "queue sales"
    assert stayed.heard() == ["Please hold"] * 3
    assert left_server.seen[-2].params["QueueResult"] == "queue-full"
    assert left.outcome.kind == "hangup" and left.queues == ["sales"]


# A queue whose wait music offers a key, as the server's callback offer does.
QUEUED = HEAD + '<Enqueue action="/left" waitUrl="/queue/wait">sales</Enqueue></Response>'
LEFT = HEAD + "<Say>We will call you</Say><Hangup/></Response>"


@pytest.mark.parametrize(
    ("wait_url", "action"),
    [
        ("/queue/wait", "key"),
        ("/queue/wait", "/queue/key"),
        # The server may name its public URL in the TwiML: the same requests, to the same paths.
        (BASE + "/queue/wait", BASE + "/queue/key"),
    ],
)
def test_a_wait_press_at_the_wait_music_gather_can_leave_the_queue(
    wait_url: str, action: str
) -> None:
    docs = {
        "/voice/incoming": HEAD
        + f'<Enqueue action="/left" waitUrl="{wait_url}">sales</Enqueue></Response>',
        "/queue/wait": HEAD + "<Say>Hold on</Say>"
        f'<Gather numDigits="1" action="{action}"><Say>Press 1 for a callback</Say></Gather>'
        '<Pause length="20"/></Response>',
        # The action's answer is played in the queue: <Leave> takes the caller out at once.
        "/queue/key": HEAD + "<Say>Leaving the queue</Say><Leave/><Say>Never said</Say></Response>",
        "/left": LEFT,
    }
    result, server = place(docs, inputs=(Press("1", in_queue=True),), queue_waits=3)

    assert result.transcript() == [
        "→ queue sales",
        "IVR (queue): Hold on",
        "IVR (queue): Press 1 for a callback",
        "CALLER presses 1",
        "IVR (queue): Leaving the queue",
        "CALLER leaves the queue: QueueResult=leave",
        "IVR: We will call you",
        "CALL ENDED: hangup",
    ]
    assert [s.path for s in server.seen] == [
        "/voice/incoming",
        "/queue/wait",
        "/queue/key",
        "/left",
        "/status",
    ]
    key, left = server.seen[2].params, server.seen[3].params
    assert key["Digits"] == "1" and "QueueResult" not in key
    assert left["QueueResult"] == "leave"
    # In the queue: «Hold on» 1 s, the offer 2 s, the key 2 s, «Leaving the queue» 2 s.
    assert left["QueueSid"].startswith("QU") and left["QueueTime"] == "7"
    assert [ex.kind for ex in result.exchanges][1:4] == [
        "queue-wait",
        "queue-gather",
        "enqueue-action",
    ]


def test_a_wait_gather_reached_through_a_redirect_resolves_against_its_own_document() -> None:
    docs = {
        "/voice/incoming": QUEUED,
        "/queue/wait": HEAD + "<Redirect>offer/today</Redirect></Response>",
        "/queue/offer/today": HEAD + '<Gather action="key"><Say>Press 1</Say></Gather></Response>',
        "/queue/offer/key": HEAD + "<Leave/></Response>",
        "/left": LEFT,
    }
    result, server = place(docs, inputs=(Press("1", in_queue=True),))

    assert [s.path for s in server.seen][1:4] == [
        "/queue/wait",
        "/queue/offer/today",
        "/queue/offer/key",
    ]
    assert server.seen[4].params["QueueResult"] == "leave"
    assert result.outcome.kind == "hangup"


def test_silence_at_a_wait_gather_goes_on_waiting() -> None:
    docs = {
        "/voice/incoming": QUEUED,
        "/queue/wait": HEAD + '<Gather numDigits="1" timeout="7" action="key">'
        "<Say>Press 1</Say></Gather></Response>",
        "/queue/key": HEAD + "<Leave/></Response>",
    }
    result, server = place(docs, queue_waits=3)

    # Each wait: the offer (1 s), then Gather's 7 s timeout; then the waitUrl again.
    waits = [s for s in server.seen if s.path == "/queue/wait"]
    assert [w.params["QueueTime"] for w in waits] == ["0", "8", "16"]
    assert "/queue/key" not in [s.path for s in server.seen]
    assert result.transcript()[1:] == [
        "IVR (queue): Press 1",
        "CALLER is silent",
        "IVR (queue): Press 1",
        "CALLER is silent",
        "IVR (queue): Press 1",
        "CALLER is silent",
        "CALL ENDED: queue sales",
    ]


def test_keys_for_the_menu_after_the_queue_are_not_taken_by_the_wait_music() -> None:
    docs = {
        "/voice/incoming": QUEUED,
        "/queue/wait": HEAD + '<Gather numDigits="1" action="key"><Say>Press 1</Say></Gather>'
        "</Response>",
        "/queue/key": HEAD + "<Leave/></Response>",
        "/left": HEAD + '<Gather numDigits="1" action="/after"><Say>Menu</Say></Gather></Response>',
        "/after": HEAD + "<Hangup/></Response>",
    }
    result, server = place(docs, inputs=(Press("2"),), queue_result="queue-full")

    paths = [s.path for s in server.seen]
    assert "/queue/key" not in paths
    assert server.seen[paths.index("/after")].params["Digits"] == "2"
    assert result.transcript().count("CALLER is silent") == 2


def test_a_wrong_wait_press_stays_in_the_queue() -> None:
    docs = {
        "/voice/incoming": QUEUED,
        "/queue/wait": HEAD + '<Gather numDigits="1" action="key"><Say>Press 1</Say></Gather>'
        "</Response>",
        # The server answers a key that is not the offer's with more wait music, no <Leave>.
        "/queue/key": HEAD + "<Say>That key does nothing here</Say></Response>",
        "/left": LEFT,
    }
    result, server = place(docs, inputs=(Press("5", in_queue=True),))

    assert [s.path for s in server.seen] == [
        "/voice/incoming",
        "/queue/wait",
        "/queue/key",
        "/queue/wait",
        "/status",
    ]
    assert server.seen[2].params["Digits"] == "5"
    assert "IVR (queue): That key does nothing here" in result.transcript()
    assert result.outcome.label() == "queue sales"


def test_verbs_twilio_does_not_allow_in_the_wait_music_are_noted_and_skipped() -> None:
    docs = {
        "/voice/incoming": QUEUED,
        "/queue/wait": HEAD + "<Say>Hold</Say><Dial>+74950000000</Dial>"
        '<Gather action="key"><Say>Press 1</Say></Gather><Record action="/rec"/>'
        "<Enqueue>other</Enqueue><Sms>hello</Sms></Response>",
    }
    result, server = place(docs, queue_waits=1)

    allowed = "(only <Say>, <Play>, <Pause>, <Gather>, <Redirect>, <Leave>, <Hangup>): skipped"
    assert result.transcript()[1:] == [
        "IVR (queue): Hold",
        f"(warning: <Dial> is not allowed in a queue's waitUrl {allowed})",
        "IVR (queue): Press 1",
        "CALLER is silent",
        f"(warning: <Record> is not allowed in a queue's waitUrl {allowed})",
        f"(warning: <Enqueue> is not allowed in a queue's waitUrl {allowed})",
        f"(warning: <Sms> is not allowed in a queue's waitUrl {allowed})",
        "CALL ENDED: queue sales",
    ]
    assert result.dialled == [] and result.queues == ["sales"] and result.recordings == []
    assert [s.path for s in server.seen] == ["/voice/incoming", "/queue/wait", "/status"]


def test_a_wait_press_that_meets_an_ordinary_gather_is_a_script_error() -> None:
    docs = {"/voice/incoming": HEAD + '<Gather action="/next"><Say>Menu</Say></Gather></Response>'}
    result, server = place(docs, inputs=(Press("1", in_queue=True),))

    assert result.outcome.kind == "error"
    assert "{wait_press: 1}" in result.outcome.detail
    assert "not in a queue's wait music" in result.outcome.detail
    assert "/next" not in [s.path for s in server.seen]


def test_caller_hangup_ends_the_call_and_status_is_sent() -> None:
    docs = {"/voice/incoming": HEAD + "<Gather/></Response>"}
    result, server = place(docs, inputs=(HangUp(),))

    assert result.outcome.kind == "caller-hangup"
    assert server.seen[-1].path == "/status"
    assert server.seen[-1].params["CallStatus"] == "completed"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("HTTP 500", "HTTP 500 from /voice/incoming"),
        (" " + HEAD + "</Response>", "whitespace before"),
        ("<Response><Say>x</Response>", "not well-formed"),
        ("<?xml version='1.0'?><response/>", "<response>, not <Response>"),
        (HEAD + "<Pay/></Response>", "does not perform <Pay>"),
    ],
)
def test_server_errors_and_invalid_twiml_end_the_call_as_errors(body: str, detail: str) -> None:
    result, _ = place({"/voice/incoming": body})

    assert result.outcome.kind == "error"
    assert detail in result.outcome.detail


def test_a_flow_that_never_ends_is_stopped() -> None:
    docs = {"/voice/incoming": HEAD + "<Redirect>/voice/incoming</Redirect></Response>"}
    result, _ = place(docs)

    assert result.outcome.kind == "error"
    assert "did not end after" in result.outcome.detail


def test_recording_host_checks_credentials(recordings: LazyRecordingHost) -> None:
    host = recordings()
    host.add("RE" + "a" * 32, "CA" + "b" * 32, audio.to_telephone_wav(_silence_wav()))
    url = host.url("RE" + "a" * 32)

    with urllib.request.urlopen(url + ".json", timeout=5) as response:
        assert b'"duration": "1"' in response.read()
    wrong = urllib.request.Request(url)
    wrong.add_header("Authorization", "Basic " + base64.b64encode(b"AC:nope").decode())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(wrong, timeout=5)
    assert refused.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(host.url("RE" + "c" * 32), timeout=5)
    assert missing.value.code == 404


def _silence_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 8000)
    return buffer.getvalue()


def test_talk_at_a_keys_gather_before_a_record_is_recorded_after_the_beep(
    recordings: LazyRecordingHost,
) -> None:
    docs = {
        "/voice/incoming": HEAD + '<Gather action="/keys" finishOnKey="#"><Say>Keys or voice'
        '</Say></Gather><Record action="/spoken" timeout="3"/></Response>',
        "/spoken": HEAD + "<Hangup/></Response>",
    }
    result, server = place(docs, recordings, inputs=(Talk(5),))

    assert server.seen[1].path == "/spoken"
    assert server.seen[1].params["RecordingDuration"] == "5"
    assert "CALLER talks for 5 s (recorded)" in result.transcript()


def test_talk_at_a_speech_gather_cannot_be_recognised() -> None:
    docs = {"/voice/incoming": HEAD + '<Gather input="speech" action="/x"/></Response>'}
    result, _ = place(docs, inputs=(Talk(3),))
    assert result.outcome.kind == "error"
    assert "--talk at a speech <Gather>" in (result.outcome.detail or "")

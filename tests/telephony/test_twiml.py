"""The renderer: whole documents, every URL in them absolute on the public URL."""

from __future__ import annotations

import wave
from pathlib import Path

from ivr.engine.steps import Dial, Enqueue, Gather, Pause, Record, Say
from ivr.telephony.twiml import PromptAudio, TwimlRenderer

BASE = "https://ivr.example.org"


def renderer(tmp_path: Path) -> TwimlRenderer:
    audio = tmp_path / "audio" / "ru"
    audio.mkdir(parents=True)
    with wave.open(str(audio / "hello.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 80)
    return TwimlRenderer(lambda lang: "Polly.Tatyana", PromptAudio(tmp_path / "audio"), BASE + "/")


def test_every_url_twilio_is_given_is_absolute(tmp_path: Path) -> None:
    steps = [
        Say("Здравствуйте!", "ru", prompt_id="hello"),
        Gather((Say("Выберите тему.", "ru"),), "ru"),
    ]
    assert renderer(tmp_path).render(steps, 3) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f"<Play>{BASE}/media/prompts/ru/hello.wav</Play>"
        f'<Gather action="{BASE}/voice/step?turn=3" input="dtmf" language="ru-RU" '
        'method="POST" numDigits="1" timeout="6">'
        '<Say language="ru-RU" voice="Polly.Tatyana">Выберите тему.</Say></Gather>'
        f'<Redirect method="POST">{BASE}/voice/step?turn=3&amp;ev=timeout</Redirect>'
        "</Response>"
    )


def test_record_enqueue_dial_and_a_gather_of_its_own_report_to_the_public_url(
    tmp_path: Path,
) -> None:
    render = renderer(tmp_path).render
    assert render([Record(max_length=60, min_length=2)], 4) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Record action="{BASE}/voice/step?turn=4" finishOnKey="#" maxLength="60" '
        'method="POST" playBeep="true" '
        f'recordingStatusCallback="{BASE}/voice/recording?purpose=voicemail&amp;min=2" '
        'recordingStatusCallbackEvent="completed absent" recordingStatusCallbackMethod="POST" '
        'timeout="5" />'
        f'<Redirect method="POST">{BASE}/voice/step?turn=4&amp;ev=timeout</Redirect>'
        "</Response>"
    )
    assert render([Enqueue("tech", "to_tech"), Dial("+74950000000")], 5) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Enqueue action="{BASE}/voice/step?turn=5" method="POST" '
        f'waitUrl="{BASE}/voice/queue/wait" waitUrlMethod="POST">tech</Enqueue>'
        f'<Dial action="{BASE}/voice/step?turn=5" method="POST" timeout="30">+74950000000</Dial>'
        "</Response>"
    )
    wait_offer = Gather((Pause(1),), "ru", action="/voice/queue/key?waited=60")
    assert f'<Gather action="{BASE}/voice/queue/key?waited=60"' in render([wait_offer], 6)

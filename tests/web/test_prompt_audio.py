"""Recorded prompts: a WAV under prompts/audio/<lang>/<id>.wav is played instead of <Say>."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from ivr.web import create_app
from tests.conftest import ROOT, Clock, TwilioWebhooks, call_params, make_settings
from tests.web.test_voicemail import wav_bytes


@pytest.fixture
def audio_app(sqlite_url: str, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", prompts)
    (prompts / "audio" / "ru").mkdir(parents=True, exist_ok=True)
    (prompts / "audio" / "ru" / "welcome.wav").write_bytes(wav_bytes(0.5))
    app = create_app(make_settings(sqlite_url, tmp_path, prompts_dir=prompts), clock=clock)
    yield app
    app.extensions["ivr"].db.dispose()


def test_a_recorded_prompt_is_played_and_served(audio_app: Flask) -> None:
    body = TwilioWebhooks(audio_app.test_client()).post("/voice/incoming", call_params())
    text = body.get_data(as_text=True)
    assert "<Play>https://ivr.example.test/media/prompts/ru/welcome.wav</Play>" in text
    assert "Здравствуйте! Вы позвонили" not in text  # the recording replaces the voice
    assert "Разговор записывается" in text  # prompts without a recording are still said
    served = audio_app.test_client().get("/media/prompts/ru/welcome.wav")
    assert served.status_code == 200
    assert served.data == wav_bytes(0.5)


@pytest.mark.parametrize(
    "path", ["/media/prompts/ru/missing.wav", "/media/prompts/..%2F..%2Fflows/hotline.wav"]
)
def test_nothing_else_is_served(audio_app: Flask, path: str) -> None:
    assert audio_app.test_client().get(path).status_code == 404

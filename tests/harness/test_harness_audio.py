"""The caller's voice as Twilio keeps recordings: 8 kHz mono 16-bit WAV."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest

from ivr.harness import audio


def make_wav(rate: int, channels: int, width: int, seconds: float, hz: float = 440.0) -> bytes:
    frames = bytearray()
    for i in range(int(rate * seconds)):
        value = math.sin(2 * math.pi * hz * i / rate)
        for _ in range(channels):
            if width == 1:
                frames += struct.pack("<B", int(128 + 100 * value))
            else:
                frames += struct.pack("<h", int(10000 * value))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def shape(data: bytes) -> tuple[int, int, int, int]:
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes()


@pytest.mark.parametrize(
    ("rate", "channels", "width"), [(22050, 1, 2), (16000, 2, 2), (44100, 2, 1), (6000, 1, 2)]
)
def test_any_pcm_wav_becomes_telephone_audio(rate: int, channels: int, width: int) -> None:
    converted = audio.to_telephone_wav(make_wav(rate, channels, width, 1.5))

    nchannels, sampwidth, framerate, frames = shape(converted)
    assert (nchannels, sampwidth, framerate) == (1, 2, 8000)
    assert abs(frames - 12000) <= 2
    assert audio.whole_seconds(converted) == 2
    with wave.open(io.BytesIO(converted)) as wav:
        samples = struct.unpack(f"<{frames}h", wav.readframes(frames))
    # Still the tone at its loudness (8-bit 100/128 is 25600 in 16-bit), neither lost nor clipped.
    peak = 25600 if width == 1 else 10000
    assert 0.6 * peak < max(samples) < 1.05 * peak


def test_telephone_audio_is_kept_as_it_is() -> None:
    data = make_wav(8000, 1, 2, 1.0)
    assert audio.to_telephone_wav(data) is data
    assert shape(audio.truncate(data, 0))[3] == 0


def test_not_a_wav_is_explained() -> None:
    with pytest.raises(audio.AudioError, match="not a PCM WAV"):
        audio.to_telephone_wav(b"ID3 not a wav")


def test_speech_is_synthesised_in_russian() -> None:
    if audio.synthesiser() is None:
        pytest.skip("espeak-ng is not installed")
    data = audio.synthesise("один два три")
    channels, width, rate, frames = shape(data)
    assert (channels, width, rate) == (1, 2, 8000)
    assert frames > 4000
    assert audio.synthesise("один два три") == data


def test_without_a_synthesiser_the_message_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audio, "synthesiser", lambda: None)
    with pytest.raises(audio.SpeechUnavailable, match="espeak-ng is not installed"):
        audio.synthesise("один")


def test_talking_is_telephone_audio_of_the_length_asked_with_sound_and_pauses() -> None:
    data = audio.talking(3)
    assert shape(data) == (1, 2, 8000, 24000)
    assert audio.whole_seconds(data) == 3
    with wave.open(io.BytesIO(data)) as wav:
        samples = struct.unpack(f"<{wav.getnframes()}h", wav.readframes(wav.getnframes()))
    loudness = [max(abs(s) for s in samples[i : i + 400]) for i in range(0, len(samples), 400)]
    # A voice: loud stretches (syllables) and quiet ones (between words), not a steady tone.
    assert max(loudness) > 3000
    assert sum(1 for level in loudness if level < 300) >= 3

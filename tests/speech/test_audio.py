"""Tests for ivr.speech.audio: WAV decoding, conversion to 16-bit mono PCM, duration, silence."""

from __future__ import annotations

import array
import io
import json
import math
import subprocess
import wave
from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.errors import IvrError
from ivr.speech.audio import AudioError, is_silent, to_pcm16_mono, wav_duration

ASR_DEV_DIR = Path("/work/shared/asr-dev")

WavFactory = Callable[..., bytes]
ToneFactory = Callable[..., list[int]]


def samples_of(pcm: bytes) -> array.array[int]:
    """16-bit little-endian PCM as a sequence of ints."""
    values = array.array("h")
    values.frombytes(pcm)
    return values


def peak(pcm: bytes) -> int:
    """Largest absolute sample value."""
    return max((abs(v) for v in samples_of(pcm)), default=0)


def test_8k_to_16k_doubles_the_sample_count(make_wav: WavFactory, make_tone: ToneFactory) -> None:
    wav = make_wav(make_tone(1.0, 8000), rate=8000)
    pcm = to_pcm16_mono(wav, 16000)
    assert len(pcm) % 2 == 0
    assert len(pcm) // 2 == pytest.approx(2 * 8000, rel=0.01)


def test_same_rate_keeps_the_samples(make_wav: WavFactory, make_tone: ToneFactory) -> None:
    samples = make_tone(0.25, 16000)
    pcm = to_pcm16_mono(make_wav(samples, rate=16000), 16000)
    assert list(samples_of(pcm)) == samples


def test_16k_to_8k_halves_the_sample_count(make_wav: WavFactory, make_tone: ToneFactory) -> None:
    pcm = to_pcm16_mono(make_wav(make_tone(1.0, 16000), rate=16000), 8000)
    assert len(pcm) // 2 == pytest.approx(8000, rel=0.01)


def test_stereo_is_mixed_to_mono(make_wav: WavFactory, make_tone: ToneFactory) -> None:
    left = make_tone(0.5, 16000, amplitude=0.5)
    # Tone on the left, silence on the right: the mix is the tone at half the level.
    interleaved = [value for sample in left for value in (sample, 0)]
    pcm = to_pcm16_mono(make_wav(interleaved, rate=16000, channels=2), 16000)
    assert len(pcm) // 2 == len(left)
    assert peak(pcm) == pytest.approx(0.25 * 32767, rel=0.02)


def test_8_bit_input_is_widened(make_wav: WavFactory) -> None:
    samples = [round(100 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(8000)]
    pcm = to_pcm16_mono(make_wav(samples, rate=8000, width=1), 16000)
    assert len(pcm) // 2 == pytest.approx(16000, rel=0.01)
    # 8-bit full scale is 128, 16-bit is 32768: a peak of 100 becomes about 100 * 256.
    assert peak(pcm) == pytest.approx(100 * 256, rel=0.03)


def test_24_bit_48k_stereo(make_wav: WavFactory, make_tone: ToneFactory) -> None:
    mono = [value * 256 for value in make_tone(0.5, 48000)]
    wav = make_wav([v for value in mono for v in (value, value)], rate=48000, channels=2, width=3)
    pcm = to_pcm16_mono(wav, 16000)
    assert len(pcm) // 2 == pytest.approx(8000, rel=0.01)
    assert peak(pcm) == pytest.approx(0.5 * 32767, rel=0.02)


def test_truncated_upload_drops_the_partial_frame(
    make_wav: WavFactory, make_tone: ToneFactory
) -> None:
    wav = make_wav(make_tone(0.5, 8000), rate=8000, cut=1)
    pcm = to_pcm16_mono(wav, 8000)
    assert len(pcm) // 2 == 4000 - 1
    assert wav_duration(wav) == pytest.approx((4000 - 1) / 8000)


def test_wav_duration(make_wav: WavFactory, make_tone: ToneFactory) -> None:
    assert wav_duration(make_wav(make_tone(1.5, 8000), rate=8000)) == pytest.approx(1.5)
    stereo = make_wav([0] * (2 * 22050 * 2), rate=22050, channels=2)
    assert wav_duration(stereo) == pytest.approx(2.0)
    assert wav_duration(make_wav([], rate=8000)) == 0.0


def test_empty_wav_converts_to_nothing(make_wav: WavFactory) -> None:
    assert to_pcm16_mono(make_wav([], rate=8000), 16000) == b""


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"this is not audio at all",
        b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\xff" * 40,
        bytes(range(256)) * 16,
    ],
    ids=["empty", "text", "broken-riff-header", "random-bytes"],
)
def test_bad_bytes_raise_audio_error(data: bytes) -> None:
    with pytest.raises(AudioError):
        to_pcm16_mono(data, 16000)
    with pytest.raises(AudioError):
        wav_duration(data)


def test_audio_error_is_an_ivr_error() -> None:
    assert issubclass(AudioError, IvrError)


def test_non_positive_rate_is_a_programming_error(make_wav: WavFactory) -> None:
    with pytest.raises(ValueError):
        to_pcm16_mono(make_wav([0] * 80, rate=8000), 0)
    with pytest.raises(ValueError):
        is_silent(b"\x00\x00", 0)


def test_mu_law_wav_is_decoded_by_ffmpeg(
    ffmpeg: str, make_wav: WavFactory, make_tone: ToneFactory
) -> None:
    source = make_wav(make_tone(1.0, 8000), rate=8000)
    mu_law = subprocess.run(
        [ffmpeg, "-loglevel", "error", "-i", "pipe:0", "-acodec", "pcm_mulaw", "-f", "wav", "-"],
        input=source,
        capture_output=True,
        check=True,
    ).stdout
    assert mu_law[20:22] == b"\x07\x00"  # WAVE_FORMAT_MULAW: pydub alone cannot read it
    pcm = to_pcm16_mono(mu_law, 16000)
    assert len(pcm) // 2 == pytest.approx(16000, rel=0.01)
    # Decoded to 16 bits, not 8: mu-law keeps the 0.5 full-scale peak within a few percent.
    assert peak(pcm) == pytest.approx(0.5 * 32767, rel=0.05)
    assert wav_duration(mu_law) == pytest.approx(1.0, abs=0.01)


def test_silence_and_sound(make_tone: ToneFactory) -> None:
    assert is_silent(bytes(2 * 8000 * 2), 8000)
    assert is_silent(b"", 8000)
    loud = array.array("h", make_tone(0.5, 8000)).tobytes()
    assert not is_silent(loud, 8000)


def test_silence_threshold(make_tone: ToneFactory) -> None:
    # A sine at 0.001 of full scale has an RMS of about -63 dBFS.
    quiet = array.array("h", make_tone(0.5, 8000, amplitude=0.001)).tobytes()
    assert is_silent(quiet, 8000)
    assert not is_silent(quiet, 8000, threshold_dbfs=-70.0)


def test_odd_length_pcm_is_rejected() -> None:
    with pytest.raises(AudioError):
        is_silent(b"\x00\x00\x00", 8000)


def _asr_dev_files() -> list[dict[str, str]]:
    manifest = ASR_DEV_DIR / "manifest.jsonl"
    if not manifest.is_file():
        return []
    lines = manifest.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.skipif(not _asr_dev_files(), reason="the /work/shared/asr-dev recordings are absent")
def test_real_telephone_recording_converts_to_16k() -> None:
    entry = _asr_dev_files()[0]
    data = (ASR_DEV_DIR / entry["file"]).read_bytes()
    duration = wav_duration(data)
    # 8 kHz 16-bit mono: the duration follows from the data chunk (44-byte header at most).
    assert duration == pytest.approx((len(data) - 44) / (2 * 8000), abs=0.01)
    pcm = to_pcm16_mono(data, 16000)
    assert len(pcm) // 2 == pytest.approx(duration * 16000, rel=0.01)
    assert not is_silent(pcm, 16000)
    # Raw 16-bit PCM after a WAV round trip through pydub keeps its length.
    assert wav_duration(_as_wav(pcm, 16000)) == pytest.approx(duration, abs=0.001)


def _as_wav(pcm: bytes, rate: int) -> bytes:
    """Raw 16-bit mono PCM wrapped in a WAV header."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()

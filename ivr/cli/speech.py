"""``ivr model …`` and ``ivr asr …``: speech models and recognition from the command line.

* ``ivr model fetch ru-small --sha256 HEX`` downloads a Vosk model, checks it and unpacks it
  (see :mod:`ivr.speech.model_fetch`); ``ivr model list`` shows what can be fetched.
* ``ivr asr transcribe FILE…`` recognises recordings the way the server does (the number
  grammar, then the digit converter) and shows text, digits, confidence and timings;
  ``ivr asr parse "сто двадцать три ноль пять"`` shows what the converter makes of a phrase.

``ivr.cli`` registers these groups at its end, so this module imports ``ivr.cli`` (for the
environment and ``.env``) only inside the commands, and Vosk only when a model is used.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ivr.cli.common import load_settings
from ivr.speech.model_fetch import CATALOGUE
from ivr.speech.numbers import GRAMMAR_WORDS, NumberReading, parse_number

if TYPE_CHECKING:
    from ivr.speech.recognizer import SpeechModel

__all__ = ["asr_group", "model_group"]

# Exit code for "cannot run at all" (no model, bad checksum format), as click uses for usage.
EXIT_UNUSABLE = 2


# -- ivr model ---------------------------------------------------------------------------------


@click.group("model")
def model_group() -> None:
    """Vosk speech models: list and fetch (download, check SHA-256, unpack)."""


@model_group.command("list")
def model_list() -> None:
    """The models `ivr model fetch` knows by name."""
    for key, entry in sorted(CATALOGUE.items()):
        click.echo(f"{key:<10} {entry.name:<28} {entry.description}")
        click.echo(f"{'':<10} {entry.url}")


def _default_models_dir() -> Path:
    return load_settings().var_dir / "models"


@model_group.command("fetch")
@click.argument("name", metavar="NAME", type=click.Choice(sorted(CATALOGUE)))
@click.option(
    "--sha256",
    "sha256",
    metavar="HEX",
    help="The archive's published SHA-256; also read from IVR_VOSK_MODEL_SHA256. "
    "Without it the archive is downloaded and its checksum shown, but not unpacked.",
)
@click.option("--url", help="Download from this address instead of the Vosk project's own.")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where models are unpacked (default: var/models under IVR_VAR_DIR).",
)
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def model_fetch(
    name: str, sha256: str | None, url: str | None, dest: Path | None, progress: bool
) -> None:
    """Download the model NAME, check its SHA-256 and unpack it for IVR_VOSK_MODEL.

    Run again with the same arguments and nothing is downloaded: a model already in place is
    reported as such.
    """
    from ivr.speech.model_fetch import (
        CHECKSUM_ENV,
        ChecksumMismatch,
        ChecksumRequired,
        ModelFetchError,
        fetch_model,
        normalise_sha256,
    )

    entry = CATALOGUE[name]
    given = sha256 or load_settings().vosk_model_sha256.strip() or None
    if given is not None:
        try:
            given = normalise_sha256(given)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--sha256") from exc
    target_dir = dest if dest is not None else _default_models_dir()

    def announce(address: str) -> None:
        instead = "" if address == entry.url else f" (instead of {entry.url})"
        click.echo(f"Downloading {entry.name} from {address}{instead}", err=True)

    try:
        result = fetch_model(
            entry,
            target_dir,
            sha256=given,
            url=url,
            progress=progress,
            stream=sys.stderr,
            on_download=announce,
        )
    except ChecksumRequired as exc:
        click.echo(f"Downloaded {entry.name}; its SHA-256 is:\n  {exc.actual}")
        click.echo(
            "Not unpacked: no checksum to compare it with. Take the SHA-256 the Vosk project "
            "publishes for\n"
            f"  {entry.url}\n"
            "from a source you trust, compare it with the one above, and run\n"
            f"  ivr model fetch {name} --sha256 <published sha256>\n"
            f"(or set {CHECKSUM_ENV}). The archive is kept at\n"
            f"  {exc.archive}\n"
            "so that run checks and unpacks it without downloading again.",
            err=True,
        )
        sys.exit(1)
    except ChecksumMismatch as exc:
        click.echo(
            f"Refused: the archive's SHA-256 is not the one given.\n"
            f"  expected {exc.expected}\n  got      {exc.actual}\n"
            "Nothing was unpacked and the archive was deleted. Check the checksum you gave; if "
            "it is right, the download was damaged or tampered with: run again to download it "
            "afresh.",
            err=True,
        )
        sys.exit(1)
    except ModelFetchError as exc:
        click.echo(f"Refused: {exc}", err=True)
        sys.exit(1)
    if result.status == "present":
        click.echo(f"{entry.name} is already in place; nothing was downloaded.")
    else:
        click.echo(f"Checked (SHA-256 {result.sha256}) and unpacked {entry.name}.")
    click.echo("Point the server at it with:")
    click.echo(f"IVR_VOSK_MODEL={result.path}")


# -- ivr asr -----------------------------------------------------------------------------------


@click.group("asr")
def asr_group() -> None:
    """Offline recognition of spoken request numbers, for admins and testers."""


def _reading_dict(reading: NumberReading) -> dict[str, Any]:
    return {
        "digits": reading.digits,
        "ambiguous": reading.ambiguous,
        "alternatives": list(reading.alternatives),
        "reason": reading.reason,
    }


def _describe_digits(reading: NumberReading) -> str:
    if reading.digits is not None:
        return reading.digits
    return "none (ambiguous)" if reading.ambiguous else "none"


@asr_group.command("parse")
@click.argument("words", nargs=-1, required=True)
@click.option("--min-digits", default=6, show_default=True, help="Shortest request number.")
@click.option("--max-digits", default=10, show_default=True, help="Longest request number.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
def asr_parse(words: tuple[str, ...], min_digits: int, max_digits: int, as_json: bool) -> None:
    """The digits the converter makes of a phrase of Russian number words.

    The words may be one quoted argument or several. Exit status 0 when digits came out,
    1 when the phrase is ambiguous or not a number (the reason says which).
    """
    text = " ".join(words)
    try:
        reading = parse_number(text, min_digits=min_digits, max_digits=max_digits)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--min-digits/--max-digits") from exc
    if as_json:
        click.echo(json.dumps({"text": text, **_reading_dict(reading)}, ensure_ascii=False))
    else:
        click.echo(f"digits: {_describe_digits(reading)}")
        if reading.alternatives:
            click.echo(f"candidates: {', '.join(reading.alternatives)}")
        click.echo(f"reason: {reading.reason}")
    if reading.digits is None:
        sys.exit(1)


def _load_model(model_dir: Path | None) -> SpeechModel:
    """The model named by ``--model`` or IVR_VOSK_MODEL, or a clear message and exit 2."""
    from ivr.speech.model_fetch import is_model_dir
    from ivr.speech.recognizer import SpeechModel, SpeechModelError

    setting = str(model_dir) if model_dir is not None else load_settings().vosk_model
    if not setting.strip():
        click.echo(
            "No speech model: set IVR_VOSK_MODEL to an unpacked Vosk model directory "
            "(get one with `ivr model fetch ru-small`) or pass --model DIR.",
            err=True,
        )
        sys.exit(EXIT_UNUSABLE)
    directory = Path(setting.strip()).expanduser()
    if not is_model_dir(directory):
        click.echo(
            f"{directory} is not a Vosk model directory (expected am/final.mdl and conf/ in it).",
            err=True,
        )
        sys.exit(EXIT_UNUSABLE)
    model = SpeechModel(directory)
    click.echo(f"Loading the Vosk model in {directory} …", err=True)
    try:
        model.load()
    except SpeechModelError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_UNUSABLE)
    return model


@asr_group.command("transcribe")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="A Vosk model directory (default: IVR_VOSK_MODEL).",
)
@click.option("--json", "as_json", is_flag=True, help="A JSON list, one object per file.")
@click.option(
    "--free",
    is_flag=True,
    help="Recognise free speech instead of the number grammar (what was really said).",
)
def asr_transcribe(
    files: tuple[Path, ...], model_dir: Path | None, as_json: bool, free: bool
) -> None:
    """Recognise recordings as the server does: text, digits, confidence, timings.

    Uses the number grammar (every word the digit converter knows, plus the model's
    unknown-word entry when it has one) unless --free. Exit status 1 when a file could not be
    read as audio, 2 when there is no usable model.
    """
    from ivr.speech.audio import AudioError
    from ivr.speech.recognizer import recognize

    model = _load_model(model_dir)
    grammar = None if free else list(GRAMMAR_WORDS)
    results: list[dict[str, Any]] = []
    failed = False
    for path in files:
        entry: dict[str, Any] = {"file": str(path)}
        try:
            transcript = recognize(model, path.read_bytes(), grammar, allow_unknown=True)
        except (AudioError, OSError) as exc:
            failed = True
            entry["error"] = str(exc)
            results.append(entry)
            if not as_json:
                click.echo(f"{path}\n  error: {exc}")
            continue
        reading = parse_number(transcript.text)
        entry.update(
            text=transcript.text,
            **_reading_dict(reading),
            confidence=round(transcript.confidence, 3),
            audio_seconds=round(transcript.audio_seconds, 3),
            decode_seconds=round(transcript.decode_seconds, 3),
        )
        results.append(entry)
        if not as_json:
            rtf = (
                transcript.decode_seconds / transcript.audio_seconds
                if transcript.audio_seconds
                else 0
            )
            click.echo(str(path))
            click.echo(f"  text:       {transcript.text or '(nothing heard)'}")
            click.echo(f"  digits:     {_describe_digits(reading)} ({reading.reason})")
            click.echo(f"  confidence: {transcript.confidence:.2f}")
            click.echo(
                f"  audio:      {transcript.audio_seconds:.2f} s, decoded in "
                f"{transcript.decode_seconds:.2f} s ({rtf:.2f}× real time)"
            )
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    if failed:
        sys.exit(1)

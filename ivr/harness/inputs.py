"""What the caller does at each ``<Gather>`` or ``<Record>``: keys, speech, a file, silence.

Inputs are consumed in order, one per ``<Gather>``/``<Record>``; when they run out the caller
stays silent, as a real caller who says nothing would.

A ``<Gather>`` in a queue's wait music (a waitUrl document, e.g. «нажмите 1, и мы
перезвоним») takes only a press scripted for the wait (``{wait_press: "1"}``, ``Press(keys,
in_queue=True)``): while the next input is anything else the caller holds silently, and keeps
that input for the menus after the queue. A press scripted for the wait that meets an ordinary
``<Gather>`` first is a mistake in the script, which the harness reports.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

KEYS = re.compile(r"^[0-9*#]+$")
# Twilio's <Record> stops at an hour.
MAX_TALK_SECONDS = 3600


class InputError(ValueError):
    """An input the harness cannot use (e.g. keys that are not on a keypad)."""


@dataclass(frozen=True)
class Press:
    """The caller presses keys (``1``, ``123456#``).

    ``in_queue``: pressed while waiting in a queue, at the next ``<Gather>`` of the wait music.
    """

    keys: str
    in_queue: bool = False

    def __post_init__(self) -> None:
        if not KEYS.match(self.keys):
            raise InputError(f"'{self.keys}' is not keypad input: use 0-9, * and #")


@dataclass(frozen=True)
class Speak:
    """The caller says a text (sent as ``SpeechResult``, or synthesised for ``<Record>``)."""

    text: str

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise InputError("the caller says nothing: use silence instead")


@dataclass(frozen=True)
class SpeakFile:
    """The caller speaks what a WAV file holds (for ``<Record>``)."""

    path: Path


@dataclass(frozen=True)
class Talk:
    """The caller talks for ``seconds`` at a ``<Record>``: a recording of a voice without
    words, for a voicemail whose content does not matter (no speech synthesiser needed)."""

    seconds: int

    def __post_init__(self) -> None:
        if not 1 <= self.seconds <= MAX_TALK_SECONDS:
            raise InputError(f"talk for 1 to {MAX_TALK_SECONDS} seconds, not {self.seconds}")


@dataclass(frozen=True)
class Silence:
    """The caller says and presses nothing until Twilio's timeout."""


@dataclass(frozen=True)
class HangUp:
    """The caller hangs up."""


CallerInput = Press | Speak | SpeakFile | Talk | Silence | HangUp


def describe(item: CallerInput) -> str:
    """A short, stable description: ``press 1``, ``say один``, ``silence``."""
    if isinstance(item, Press):
        return f"press {item.keys}" + (" in the queue" if item.in_queue else "")
    if isinstance(item, Speak):
        return f"say {item.text}"
    if isinstance(item, SpeakFile):
        return f"say-file {item.path.as_posix()}"
    if isinstance(item, Talk):
        return f"talk {item.seconds} s"
    if isinstance(item, HangUp):
        return "hangup"
    return "silence"


def to_json(item: CallerInput) -> dict[str, str | int]:
    """Plain data for a caller input."""
    if isinstance(item, Press):
        return {"wait_press" if item.in_queue else "press": item.keys}
    if isinstance(item, Speak):
        return {"say": item.text}
    if isinstance(item, SpeakFile):
        return {"say_file": item.path.as_posix()}
    if isinstance(item, Talk):
        return {"talk": item.seconds}
    if isinstance(item, HangUp):
        return {"hangup": ""}
    return {"silence": ""}


def from_data(value: Any, base_dir: Path | None = None) -> CallerInput:
    """An input written in a scenario file.

    ``"1"``/``"123#"`` (keys), ``silence``, ``hangup``, or a one-key mapping ``{press: "1"}``,
    ``{wait_press: "1"}`` (keys pressed while waiting in a queue), ``{say: "оплата"}``,
    ``{say_file: x.wav}`` (relative to ``base_dir``), ``{talk: 5}`` (seconds),
    ``{silence: true}``.
    """
    if isinstance(value, bool):
        raise InputError(f"{value!r} is not an input")
    if isinstance(value, int):
        return Press(str(value))
    if isinstance(value, str):
        word = value.strip()
        if word == "silence":
            return Silence()
        if word == "hangup":
            return HangUp()
        if KEYS.match(word):
            return Press(word)
        raise InputError(
            f"'{value}' is not an input: write keys (\"1\"), silence, hangup, "
            "{press: …}, {wait_press: …}, {say: …}, {say_file: …} or {talk: seconds}"
        )
    if isinstance(value, dict) and len(value) == 1:
        ((kind, arg),) = value.items()
        keys = isinstance(arg, str | int) and not isinstance(arg, bool)
        if kind in ("press", "wait_press") and keys:
            return Press(str(arg), in_queue=kind == "wait_press")
        if kind == "say" and isinstance(arg, str):
            return Speak(arg)
        if kind == "say_file" and isinstance(arg, str):
            path = Path(arg)
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            return SpeakFile(path)
        if kind == "talk" and isinstance(arg, int) and not isinstance(arg, bool):
            return Talk(arg)
        if kind == "silence":
            return Silence()
        if kind == "hangup":
            return HangUp()
    raise InputError(
        f'{value!r} is not an input: use {{press: "1"}}, {{wait_press: "1"}}, {{say: text}}, '
        "{say_file: path}, {talk: seconds}, silence or hangup"
    )


def from_line(line: str) -> CallerInput:
    """What a tester typed at an interactive prompt.

    Empty = silence; keys (``1``, ``123#``); ``hangup``; ``file PATH``; ``talk SECONDS``;
    ``say TEXT`` or any other text = speech.
    """
    text = line.strip()
    if not text:
        return Silence()
    if text.lower() in ("hangup", "q", "quit"):
        return HangUp()
    if KEYS.match(text):
        return Press(text)
    if text.lower().startswith("file "):
        return SpeakFile(Path(text[5:].strip()).expanduser())
    talk = re.fullmatch(r"talk\s+(\d+)\s*s?", text, re.IGNORECASE)
    if talk:
        return Talk(int(talk.group(1)))
    if text.lower().startswith("say "):
        return Speak(text[4:].strip())
    return Speak(text)


@dataclass(frozen=True)
class Ask:
    """What Twilio is listening for when the caller's turn comes.

    ``in_queue``: the ``<Gather>`` is in a queue's wait music (a waitUrl document or what its
    action answered).
    """

    verb: Literal["Gather", "Record"]
    dtmf: bool
    speech: bool
    timeout: int
    in_queue: bool = False

    def hint(self) -> str:
        """A prompt for a tester typing the caller's part."""
        if self.verb == "Record":
            return "recording: text to say, 'file PATH', 'talk SECONDS', empty = silence, 'hangup'"
        ways = []
        if self.dtmf:
            ways.append("keys (1, 123#)")
        if self.speech:
            ways.append("words to say")
        where = "waiting in the queue: " if self.in_queue else ""
        return where + ", ".join(ways) + ", empty = silence, 'hangup'"


class InputSource(Protocol):
    """Where the caller's inputs come from."""

    def next_input(self, ask: Ask) -> CallerInput:
        """The caller's answer to one ``<Gather>``/``<Record>``."""


class ScriptedInputs:
    """Inputs given up front; silence once they run out."""

    def __init__(self, items: Sequence[CallerInput]) -> None:
        self.items = list(items)
        self.used = 0

    def next_input(self, ask: Ask) -> CallerInput:
        """The next scripted input, or silence.

        In a queue's wait music only a press scripted for the wait is taken; anything else is
        kept, and the caller is silent there.
        """
        if self.used >= len(self.items):
            return Silence()
        item = self.items[self.used]
        if ask.in_queue and not (isinstance(item, Press) and item.in_queue):
            # The wait's offer recurs on every waitUrl request: a caller scripted for the menus
            # after the queue must not have those keys eaten by the hold music.
            return Silence()
        self.used += 1
        return item


class InteractiveInputs:
    """Inputs a tester types; end of input (EOF) hangs up."""

    def __init__(
        self, read: Callable[[str], str | None], warn: Callable[[str], None] | None = None
    ) -> None:
        self.read = read
        self.warn = warn or (lambda message: None)

    def next_input(self, ask: Ask) -> CallerInput:
        """Ask the tester until the answer is usable."""
        while True:
            line = self.read(f"[{ask.hint()}] > ")
            if line is None:
                return HangUp()
            try:
                return from_line(line)
            except InputError as exc:
                self.warn(str(exc))

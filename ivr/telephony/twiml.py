"""Engine steps → TwiML, with ``twilio.twiml.voice_response`` only.

The renderer knows the webhook routes (``Links``) and the prompt audio on disk
(``PromptAudio``); the engine knows neither.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from twilio.twiml.voice_response import Gather as TwimlGather
from twilio.twiml.voice_response import VoiceResponse

from ivr.engine.steps import (
    Dial,
    Enqueue,
    Gather,
    Hangup,
    LeaveQueue,
    Pause,
    Record,
    Say,
    Step,
)

LANGUAGE_TAGS = {"ru": "ru-RU", "en": "en-US"}
# The recording status callbacks asked for: Twilio's TwiML reference lists ``in-progress``,
# ``completed`` and ``absent`` (default ``completed``); ``failed`` is only sent to projects
# with recording encryption, and is not among the values TwiML accepts (warning 13621).
RECORDING_EVENTS = "completed absent"


def language_tag(lang: str) -> str:
    """``ru`` → ``ru-RU``: the ``language`` attribute of ``<Say>`` and ``<Gather>``."""
    return LANGUAGE_TAGS.get(lang, lang)


@dataclass(frozen=True)
class Links:
    """The URLs Twilio is sent to after each verb, for the turn being answered.

    Every URL is absolute, on ``base`` (the public URL Twilio calls): Twilio documents
    relative resolution for some attributes only, and a recording status callback that never
    arrives would lose a voicemail.
    """

    turn: int | str
    base: str = ""

    def url(self, path: str) -> str:
        """``path`` (``/voice/…``) on the public URL."""
        return self.base.rstrip("/") + path

    def step(self, event: str | None = None) -> str:
        """Where a ``<Gather>``/``<Record>``/``<Dial>`` reports back."""
        suffix = f"&ev={event}" if event else ""
        return self.url(f"/voice/step?turn={self.turn}{suffix}")

    @property
    def queue_wait(self) -> str:
        """The ``waitUrl`` of every queue."""
        return self.url("/voice/queue/wait")


class PromptAudio:
    """Which prompts have a recorded file under ``prompts/audio/<lang>/<id>.wav``.

    The directory is listed at most every ``interval`` seconds rather than on every prompt.
    """

    def __init__(self, root: Path, interval: float = 5.0) -> None:
        self.root = root
        self.interval = interval
        self._lock = threading.Lock()
        self._files: frozenset[tuple[str, str]] = frozenset()
        self._listed_at = float("-inf")

    def _refresh(self) -> None:
        found = set()
        if self.root.is_dir():
            for path in self.root.glob("*/*.wav"):
                found.add((path.parent.name, path.stem))
        self._files = frozenset(found)

    def snapshot(self) -> frozenset[tuple[str, str]]:
        """The (language, prompt id) pairs that have audio, listed at most every interval."""
        now = time.monotonic()
        if now - self._listed_at >= self.interval:
            with self._lock:
                self._listed_at = now
                self._refresh()
        return self._files

    def path(self, lang: str, prompt_id: str) -> str | None:
        """The path to ``<Play>`` for a prompt, or None to speak it with ``<Say>``."""
        if (lang, prompt_id) in self.snapshot():
            return f"/media/prompts/{quote(lang)}/{quote(prompt_id)}.wav"
        return None


# Stands for the turn number in cached documents; letters only, so XML leaves it alone.
_TURN_MARK = "ivrturnmarkzq"
_CACHE_SIZE = 512


def _texts(steps: Sequence[Step]) -> list[str]:
    found = []
    for step in steps:
        if isinstance(step, Say):
            found.append(step.text)
        elif isinstance(step, Gather):
            found.extend(p.text for p in step.prompts if isinstance(p, Say))
    return found


class TwimlRenderer:
    """Turns a list of steps into a TwiML document.

    The same steps give the same document but for the turn number in the action URLs (a menu
    is served to every caller alike), so documents are cached by their steps with a marker
    for the turn, and the audio files known when they were rendered.
    """

    def __init__(
        self,
        voice_for: Callable[[str], str],
        audio: PromptAudio | None = None,
        base_url: str = "",
    ) -> None:
        self.voice_for = voice_for
        self.audio = audio
        # The public URL every link in a document is built on (``Links``).
        self.base_url = base_url.rstrip("/")
        self._cache: dict[tuple[object, ...], str] = {}
        self._lock = threading.Lock()

    def links(self, turn: int | str) -> Links:
        """The links of a document answering turn ``turn``."""
        return Links(turn, self.base_url)

    def render(self, steps: Sequence[Step], turn: int) -> str:
        """The TwiML answering one webhook, for turn ``turn`` of its call."""
        audio = self.audio.snapshot() if self.audio is not None else frozenset()
        key = (audio, *steps)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._render(steps, self.links(_TURN_MARK))
            if _TURN_MARK in "".join(_texts(steps)):
                # A prompt that happens to contain the marker: never cache, never replace.
                return self._render(steps, self.links(turn))
            with self._lock:
                if len(self._cache) >= _CACHE_SIZE:
                    self._cache.clear()
                self._cache[key] = cached
        return cached.replace(_TURN_MARK, str(turn))

    def _render(self, steps: Sequence[Step], links: Links) -> str:
        response = VoiceResponse()
        for step in steps:
            self._append(response, step, links)
        return str(response)

    def _speak(self, parent: VoiceResponse | TwimlGather, step: Say | Pause, links: Links) -> None:
        if isinstance(step, Pause):
            parent.pause(length=step.seconds)
            return
        path = None
        if self.audio is not None and step.prompt_id is not None and step.rate is None:
            path = self.audio.path(step.lang, step.prompt_id)
        if path is not None:
            parent.play(links.url(path))
            return
        voice, language = self.voice_for(step.lang), language_tag(step.lang)
        if step.rate is None:
            parent.say(step.text, voice=voice, language=language)
        else:
            say = parent.say(voice=voice, language=language)
            say.prosody(step.text, rate=step.rate)

    def _append(self, response: VoiceResponse, step: Step, links: Links) -> None:
        if isinstance(step, Say | Pause):
            self._speak(response, step, links)
        elif isinstance(step, Gather):
            inputs = " ".join(
                name for name, on in (("dtmf", step.dtmf), ("speech", step.speech)) if on
            )
            gather = response.gather(
                input=inputs,
                action=links.url(step.action) if step.action else links.step(),
                method="POST",
                timeout=step.timeout,
                num_digits=step.num_digits,
                finish_on_key=step.finish_on_key,
                language=language_tag(step.lang),
                hints=", ".join(step.hints) if step.hints else None,
                speech_timeout="auto" if step.speech else None,
            )
            for prompt in step.prompts:
                self._speak(gather, prompt, links)
            # Twilio falls through to the next verb when the caller stays silent.
            if step.then_record is not None:
                self._append(response, step.then_record, links)
            elif step.action is None:
                response.redirect(links.step("timeout"), method="POST")
        elif isinstance(step, Record):
            response.record(
                action=links.step(),
                method="POST",
                max_length=step.max_length,
                timeout=step.timeout,
                finish_on_key=step.finish_on_key,
                play_beep=step.beep,
                recording_status_callback=links.url(
                    f"/voice/recording?purpose={step.purpose}&min={step.min_length}"
                ),
                recording_status_callback_method="POST",
                recording_status_callback_event=RECORDING_EVENTS,
            )
            response.redirect(links.step("timeout"), method="POST")
        elif isinstance(step, Enqueue):
            response.enqueue(
                step.queue,
                action=links.step(),
                method="POST",
                wait_url=links.queue_wait,
                wait_url_method="POST",
            )
        elif isinstance(step, Dial):
            response.dial(step.number, action=links.step(), method="POST", timeout=step.timeout)
        elif isinstance(step, Hangup):
            response.hangup()
        elif isinstance(step, LeaveQueue):
            response.leave()

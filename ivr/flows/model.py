"""The typed model of one call flow, as the engine and the web layer see it.

A ``Flow`` is immutable and self-contained: it carries the texts of every prompt it speaks in
every language it offers, so a snapshot of it (``Flow.to_snapshot``) is enough to finish a call
on the version it started with, even after the files have changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date, time
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    field_validator,
)

import ivr.flows.service_nodes  # noqa: F401  (registers the voicemail, callback … kinds)
from ivr.domain.schedule import Schedule, TimeRange
from ivr.flows.nodes import NODE_KINDS, MenuNode, Node, PromptList
from ivr.flows.words import ExactWords, Lemmatizer, Vocabulary, normalise_speech

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
CLOSED = "closed"
_FLOW_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def parse_clock(text: str) -> time:
    """``"8:00"``/``"08:00"`` → ``time(8, 0)``; ``"24:00"`` is the end of the day."""
    match = _TIME.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a time of day like 08:00")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24:
        if minute:
            raise ValueError(f"'{text}' is not a time of day like 08:00")
        return time(0, 0)
    return time(hour, minute)


def parse_ranges(text: str) -> tuple[TimeRange, ...]:
    """``"08:00-20:00"``, ``"09:00-13:00, 14:00-18:00"`` or ``"closed"``."""
    text = text.strip()
    if text.lower() == CLOSED:
        return ()
    ranges = []
    for part in text.split(","):
        pieces = part.split("-")
        if len(pieces) != 2:
            raise ValueError(f"'{part.strip()}' is not a range of hours like 08:00-20:00")
        start, end = parse_clock(pieces[0]), parse_clock(pieces[1])
        if end != time(0, 0) and end <= start:
            raise ValueError(f"in '{part.strip()}' the end is not after the start")
        ranges.append(TimeRange(start, end))
    return tuple(ranges)


def parse_weekdays(text: str) -> list[int]:
    """``"mon-fri"``, ``"sat"``, ``"sat, sun"`` or ``"daily"`` → weekday numbers (Monday 0)."""
    text = text.strip().lower()
    if text in ("daily", "every day"):
        return list(range(7))
    days: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (p.strip() for p in part.split("-", 1))
            if first not in WEEKDAYS or last not in WEEKDAYS:
                raise ValueError(f"'{part}' is not a range of weekdays like mon-fri")
            a, b = WEEKDAYS.index(first), WEEKDAYS.index(last)
            if b < a:
                raise ValueError(f"'{part}' runs backwards; write weekdays from Monday on")
            days.extend(range(a, b + 1))
        elif part in WEEKDAYS:
            days.append(WEEKDAYS.index(part))
        else:
            raise ValueError(f"'{part}' is not a weekday; use mon, tue, wed, thu, fri, sat, sun")
    return days


class ScheduleSpec(BaseModel):
    """A line's hours as an admin writes them (Moscow time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # weekday spec → ranges, e.g. {"mon-fri": "08:00-20:00", "sat": "09:00-18:00"};
    # or the single string "24/7".
    hours: dict[str, str] | str
    holidays: str = CLOSED
    calendar: str | None = "RU"
    days_off: list[date] = Field(default_factory=list)
    special: dict[date, str] = Field(default_factory=dict)

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, value: dict[str, str] | str) -> dict[str, str] | str:
        if isinstance(value, str):
            if value.strip() != "24/7":
                raise ValueError("hours must map weekdays to hours, or be '24/7'")
            return value
        seen: dict[int, str] = {}
        for days, ranges in value.items():
            parse_ranges(ranges)
            for day in parse_weekdays(days):
                if day in seen:
                    raise ValueError(
                        f"{WEEKDAYS[day]} is given hours twice ('{seen[day]}' and '{days}')"
                    )
                seen[day] = days
        return value

    @field_validator("holidays")
    @classmethod
    def _check_holidays(cls, value: str) -> str:
        parse_ranges(value)
        return value

    @field_validator("special")
    @classmethod
    def _check_special(cls, value: dict[date, str]) -> dict[date, str]:
        for ranges in value.values():
            parse_ranges(ranges)
        return value

    @field_validator("calendar")
    @classmethod
    def _check_calendar(cls, value: str | None) -> str | None:
        if value is None or value.lower() == "none":
            return None
        if value.upper() != "RU":
            raise ValueError(f"calendar '{value}' is not known; use RU or none")
        return "RU"

    def build(self) -> Schedule:
        """The runtime schedule the engine consults."""
        if isinstance(self.hours, str):
            return Schedule(weekly={}, always_open=True, calendar=self.calendar)
        weekly: dict[int, tuple[TimeRange, ...]] = {}
        for days, ranges in self.hours.items():
            for day in parse_weekdays(days):
                weekly[day] = parse_ranges(ranges)
        return Schedule(
            weekly=weekly,
            holiday_hours=parse_ranges(self.holidays),
            calendar=self.calendar,
            days_off=frozenset(self.days_off),
            special={day: parse_ranges(r) for day, r in self.special.items()},
        )


class Defaults(BaseModel):
    """Flow-wide defaults that menus and other nodes inherit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The node a caller reaches with 0, and after too many failed attempts.
    operator: str | None = None
    # Which numbers a callback may be booked to: Russian ones, or any country's (a line for
    # callers abroad).
    callback_numbers: Literal["russian", "international"] = "russian"
    timeout: int = Field(default=6, ge=1, le=60)
    retries: int = Field(default=2, ge=0, le=10)
    no_input: PromptList = Field(default_factory=list)
    no_match: PromptList = Field(default_factory=list)
    # Said before the engine itself ends a call (e.g. a queue that could not take it).
    goodbye: PromptList = Field(default_factory=list)
    # Spoken words that, at any menu with speech, repeat it or ask for a person.
    repeat_keywords: list[str] = Field(default_factory=list)
    operator_keywords: list[str] = Field(default_factory=list)

    # After this many silences in a row the call switches to ``silence_profile`` and hears
    # ``silence_help`` («Если вам нужна помощь, оставайтесь на линии»).
    silence_switch_after: int = Field(default=2, ge=1, le=10)
    silence_profile: str | None = None
    silence_help: PromptList = Field(default_factory=list)
    # After this many silences in a row, at whatever menus, the caller is not asked again:
    # the menu's failure exit takes over (a person while the line is open, the after-hours
    # options when it is closed). Bounds a silent caller's wait on every line, however many
    # retries its menus allow.
    silence_limit: int = Field(default=2, ge=1, le=10)

    # The safety notices (the recording notice, «никогда не спрашивают пароли и коды из СМС»):
    # ``ivr validate`` checks that every path from the start to a person passes all of them.
    notices: PromptList = Field(default_factory=list)

    @field_validator("repeat_keywords", "operator_keywords")
    @classmethod
    def _normalise(cls, value: list[str]) -> list[str]:
        return [normalise_speech(word) for word in value if word.strip()]


class Profile(BaseModel):
    """An accessibility profile: how prompts are spoken and how menus listen.

    A line switches one on for every call (``profile:`` in the flow); a menu option can
    switch one on mid-call; a caller who stays silent gets the flow's ``silence_profile``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = ""
    # SSML prosody rate, e.g. "80%" for slower speech.
    rate: str | None = Field(default=None, pattern=r"^\d{2,3}%$")
    # Seconds of silence between prompts (and so between a menu's options).
    pause: int = Field(default=0, ge=0, le=5)
    # Seconds a menu waits for an answer, and how often it asks before giving up.
    timeout: int | None = Field(default=None, ge=1, le=60)
    retries: int | None = Field(default=None, ge=0, le=10)
    # How many times a menu repeats itself before it counts as unanswered.
    repeat: int = Field(default=0, ge=0, le=3)
    # keywords: speech where a menu has keywords (its option numbers may be said too);
    # everywhere: at every menu; off: keypad only.
    speech: Literal["keywords", "everywhere", "off"] = "keywords"
    # Checked by ``ivr validate``: options per menu ("more options" aside) and prompt length.
    max_options: int = Field(default=5, ge=2, le=9)
    max_prompt_seconds: int = Field(default=25, ge=5, le=120)
    # Speaking speed the prompt-length estimate assumes at rate 100%.
    words_per_minute: int = Field(default=150, ge=60, le=300)

    def rate_factor(self) -> float:
        """The rate as a fraction (0.8 for "80%")."""
        return int(self.rate.rstrip("%")) / 100 if self.rate else 1.0


DEFAULT_PROFILE = Profile()


def _language_list(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    return value


class Flow(BaseModel):
    """One call flow: the lines it serves, its hours, its nodes and its prompt texts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: str = ""
    lines: list[str] = Field(default_factory=list)
    languages: Annotated[list[str], BeforeValidator(_language_list)] = Field(
        default_factory=lambda: ["ru"]
    )
    start: str
    schedule: ScheduleSpec | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    profiles: dict[str, Profile] = Field(default_factory=dict)
    # The profile every call on this flow starts with (None: plain speech and menus).
    profile: str | None = None
    nodes: dict[str, SerializeAsAny[Node]]
    # lang → prompt id → text, for the prompts this flow speaks (filled in by the reader).
    prompts: dict[str, dict[str, str]] = Field(default_factory=dict)
    source: str = ""

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _FLOW_NAME.match(value):
            raise ValueError(
                f"'{value}' cannot be a flow name; use lower-case latin letters, digits, "
                "'-' and '_', like 'hotline'"
            )
        return value

    @field_validator("nodes", mode="before")
    @classmethod
    def _dispatch_kinds(cls, value: Any) -> Any:
        # Snapshots come back as plain dicts: rebuild each node as its own kind.
        if isinstance(value, dict):
            return {
                key: NODE_KINDS[raw["kind"]].model_validate(raw) if isinstance(raw, dict) else raw
                for key, raw in value.items()
            }
        return value

    @cached_property
    def runtime_schedule(self) -> Schedule | None:
        """The schedule built once per flow object."""
        return self.schedule.build() if self.schedule is not None else None

    def profile_named(self, name: str | None) -> Profile:
        """A profile by name; the plain default for None or an unknown name."""
        if name is None:
            return DEFAULT_PROFILE
        return self.profiles.get(name, DEFAULT_PROFILE)

    def node(self, node_id: str) -> Node:
        """The node called ``node_id``."""
        return self.nodes[node_id]

    def use_words(self, lemmatizer: Lemmatizer) -> Flow:
        """Hear this flow's keywords through ``lemmatizer``: every keyword is turned into
        lemmas now, once, so a call only looks up what the caller said. Returns the flow.

        The vocabulary is not the flow's data: neither its snapshot, its version nor its
        equality depends on it (it is kept where ``cached_property`` keeps ``words``)."""
        vocabulary = Vocabulary(lemmatizer)
        vocabulary.learn(self.keyword_texts())
        self.__dict__["words"] = vocabulary
        return self

    @cached_property
    def words(self) -> Vocabulary:
        """The flow's vocabulary; words compared as written until ``use_words`` is called."""
        vocabulary = Vocabulary(ExactWords())
        vocabulary.learn(self.keyword_texts())
        return vocabulary

    def keyword_texts(self) -> list[str]:
        """Every keyword the flow listens for: menu options, shortcuts and the defaults."""
        texts = [*self.defaults.repeat_keywords, *self.defaults.operator_keywords]
        for node in self.nodes.values():
            if isinstance(node, MenuNode):
                for choice in [*node.options.values(), *node.shortcuts]:
                    texts += choice.keywords_for(None)
        return texts

    def prompt_text(self, lang: str, prompt_id: str) -> str:
        """The text of a prompt in a language, falling back to the flow's first language."""
        texts = self.prompts.get(lang) or {}
        if prompt_id in texts:
            return texts[prompt_id]
        return self.prompts.get(self.languages[0], {}).get(prompt_id, "")

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Flow:
        """A copy, with ``update`` applied; what was worked out once for this flow (version,
        snapshot, schedule) is worked out again for the copy."""
        copy = super().model_copy(update=update, deep=deep)
        vocabulary = copy.__dict__.pop("words", None)
        if vocabulary is not None:
            # New nodes may bring new keywords: learn them with the same dictionary.
            copy.use_words(vocabulary.lemmatizer)
        for cached in ("version", "_snapshot", "runtime_schedule"):
            copy.__dict__.pop(cached, None)
        return copy

    def to_snapshot(self) -> str:
        """Canonical JSON of the whole flow, for storage and hashing."""
        return self._snapshot

    @cached_property
    def _snapshot(self) -> str:
        # Every new call stores its flow's snapshot (once per version): serialise it once.
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)

    @cached_property
    def version(self) -> str:
        """A content hash: two flows with the same version behave the same."""
        # Where the file lies is not behaviour: the same flow read from another directory
        # keeps its version.
        data = self.model_dump(mode="json", exclude={"source"})
        canonical = json.dumps(data, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @classmethod
    def from_snapshot(cls, snapshot: str) -> Flow:
        """The flow stored by ``to_snapshot``."""
        return cls.model_validate(json.loads(snapshot))

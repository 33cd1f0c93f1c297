"""The node kinds of the flow language, as typed, immutable models.

A node is plain data. What it *does* lives in ``ivr.engine.handlers``; here it only says which
other nodes it can lead to (``edges``), which prompts it speaks (``prompt_ids``), whether it
waits for the caller and whether it ends the automated part of the call. The validator needs
nothing more, so a new kind is one class here plus one handler in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from ivr.domain.phones import to_e164
from ivr.flows.words import normalise_speech

KEYPAD_KEYS = frozenset("0123456789*#")
REPEAT_KEY = "*"
OPERATOR_KEY = "0"


def _as_list(value: Any) -> Any:
    """Let an admin write one prompt id without brackets."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return value


class _PromptIds:
    """Marks a field whose values are prompt ids (see ``prompt_fields``)."""


PROMPT_IDS = _PromptIds()
PromptList = Annotated[list[str], BeforeValidator(_as_list), PROMPT_IDS]


# Values the engine works out when a prompt names them, in the prompt's language; every other
# value is a call variable, kept in the call's language.
COMPUTED_VALUES = frozenset({"next_opening", "support_email"})
# The support e-mail address, written once in a prompt of this id (prompts/ru.yaml) and named
# as {support_email} by the texts that give it: said in words by a voice («собака», «точка»),
# written as it is in a text message.
SUPPORT_EMAIL = "support_email"

# A prompt ``x`` may have a wording ``x_keys_only`` for a question that listens to keys only
# (a keypad-only profile, a recogniser that is not there): «нажмите 0» without «скажите
# „специалист“». The engine says it in place of ``x`` there; ``ivr validate`` asks for one
# where a prompt offers speech that a call may not have.
KEYS_ONLY_SUFFIX = "_keys_only"


def keys_only_variant(prompt_id: str) -> str:
    """The id of a prompt's keys-only wording."""
    return prompt_id + KEYS_ONLY_SUFFIX


def split_prompt_ref(ref: str) -> tuple[str, str | None]:
    """A prompt as a flow names it: ``"for_english@en"`` is the prompt ``for_english`` spoken
    in English whatever the call's language (the language choice, say); a plain id is spoken
    in the call's language. ``(prompt id, fixed language or None)``."""
    prompt_id, at, lang = ref.partition("@")
    return prompt_id, (lang if at else None)


def prompt_fields(model: type[BaseModel]) -> list[str]:
    """The names of a model's fields that hold prompt ids (declared as ``PromptList``)."""
    return [name for name, info in model.model_fields.items() if PROMPT_IDS in info.metadata]


NodeId = str


@dataclass(frozen=True)
class Edge:
    """A way out of a node: ``label`` for messages, ``loc`` to find its line in the file."""

    label: str
    target: NodeId
    loc: tuple[str | int, ...]


class Node(BaseModel):
    """Fields and behaviour every node kind shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    say: PromptList = Field(default_factory=list)

    # Does the engine stop here and wait for the caller (a keypress, speech, a recording)?
    waits_for_input: ClassVar[bool] = False
    # Does the automated flow end here (a person, a hang-up, a voicemail)?
    is_end: ClassVar[bool] = False

    def edges(self) -> list[Edge]:
        """Every node this one can lead to."""
        return []

    def prompt_ids(self) -> list[str]:
        """Every prompt id this node may speak: the values of all its ``PromptList`` fields."""
        return [pid for name in prompt_fields(type(self)) for pid in getattr(self, name)]


class PromptNode(Node):
    """Speak one or more prompts, then go on to ``next``."""

    kind: Literal["prompt"] = "prompt"
    pause: float = Field(default=0, ge=0, le=10)
    next: NodeId

    def edges(self) -> list[Edge]:
        return [Edge("next", self.next, ("next",))]


class GotoNode(Node):
    """Jump to another node (useful to end an included piece)."""

    kind: Literal["goto"] = "goto"
    to: NodeId

    def edges(self) -> list[Edge]:
        return [Edge("to", self.to, ("to",))]


class HangupNode(Node):
    """Say goodbye (optional prompts) and hang up."""

    kind: Literal["hangup"] = "hangup"
    is_end: ClassVar[bool] = True


class ScheduleNode(Node):
    """Branch on the line's hours: open now, closed, or closed for a public holiday."""

    kind: Literal["schedule"] = "schedule"
    open: NodeId
    closed: NodeId
    # Optional: when missing, a holiday closure takes the ``closed`` branch.
    holiday: NodeId | None = None

    def edges(self) -> list[Edge]:
        edges = [Edge("open", self.open, ("open",)), Edge("closed", self.closed, ("closed",))]
        if self.holiday is not None:
            edges.append(Edge("holiday", self.holiday, ("holiday",)))
        return edges


class LineNode(Node):
    """Branch on the number the caller dialled: one flow serving several lines (the regional
    centres) greets each caller with its own centre's name. Numbers in any form."""

    kind: Literal["line"] = "line"
    lines: Annotated[dict[str, NodeId], Field(min_length=1)]
    # Any other number (an outbound call); by default the first line's branch.
    other: NodeId | None = None

    def edges(self) -> list[Edge]:
        edges = [Edge(f"line {n}", target, ("lines", n)) for n, target in self.lines.items()]
        return edges if self.other is None else [*edges, Edge("other", self.other, ("other",))]

    def target_for(self, dialled: str | None) -> NodeId:
        """Where a call to ``dialled`` (E.164 or None) goes."""
        for number, target in self.lines.items():
            if dialled is not None and to_e164(number) == dialled:
                return target
        return self.other or next(iter(self.lines.values()))


# The ``keywords`` entry of an option written as a plain list: heard in every language.
ANY_LANGUAGE = "*"


class SpokenChoice(BaseModel):
    """Where some spoken words lead: the part a menu option and a shortcut share."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    go: NodeId
    # Spoken words that choose it: whole words and phrases, in any form («не приходит смс»
    # is heard in «смс не приходят»), a list for every language or a list per language
    # ({ru: [оплата], en: [payment, refund]}) so that each caller is heard in their own.
    keywords: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("keywords", mode="before")
    @classmethod
    def _by_language(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {ANY_LANGUAGE: value}
        if not isinstance(value, dict):
            raise ValueError(
                "must be a list of words, or a list per language ({ru: [...], en: [...]})"
            )
        return value

    @field_validator("keywords")
    @classmethod
    def _normalise_keywords(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return {
            lang: [normalise_speech(word) for word in words if word.strip()]
            for lang, words in value.items()
        }

    def keywords_for(self, lang: str | None) -> list[str]:
        """The keywords heard in a call in ``lang``; None: every language's."""
        if lang is None:
            return [word for words in self.keywords.values() for word in words]
        return [*self.keywords.get(ANY_LANGUAGE, []), *self.keywords.get(lang, [])]


class MenuOption(SpokenChoice):
    """One menu choice: a key, optional spoken keywords, where it goes."""

    # Switch the call's language (e.g. the abroad line's language choice).
    lang: str | None = None
    # Switch an accessibility profile on for the rest of the call.
    profile: str | None = None
    # This key opens further options ("more options"): it does not count towards the limit.
    more: bool = False


class Shortcut(SpokenChoice):
    """Words that lead past a menu's options straight to a node: «забыл пароль» at the main
    menu goes to the password tip, not to the technical-problems menu. Heard only, no key."""

    # Switch the call's language: an English word for a person at the abroad line's
    # language choice means an English-speaking person.
    lang: str | None = None


def _option_shorthand(value: Any) -> Any:
    """``"1": tech_menu`` is short for ``"1": {go: tech_menu}``."""
    if isinstance(value, str):
        return {"go": value}
    return value


class MenuNode(Node):
    """Ask the caller to choose by key or by a spoken keyword.

    ``*`` repeats the menu; ``0`` goes to ``operator`` (the flow's default operator node when
    not set here). No input or a wrong choice is asked again up to ``retries`` times, then the
    call goes to ``on_failure`` (default: the operator node).
    """

    kind: Literal["menu"] = "menu"
    options: dict[str, Annotated[MenuOption, BeforeValidator(_option_shorthand)]]
    shortcuts: list[Shortcut] = Field(default_factory=list)
    operator: NodeId | None = None
    on_failure: NodeId | None = None
    timeout: int | None = Field(default=None, ge=1, le=60)
    retries: int | None = Field(default=None, ge=0, le=10)
    # Empty: the flow's defaults.
    no_input: PromptList = Field(default_factory=list)
    no_match: PromptList = Field(default_factory=list)
    silence_help: PromptList = Field(default_factory=list)

    waits_for_input: ClassVar[bool] = True

    def edges(self) -> list[Edge]:
        edges = [
            Edge(f"option '{key}'", option.go, ("options", key, "go"))
            for key, option in self.options.items()
        ]
        edges += [
            Edge(f"shortcut {index + 1}", shortcut.go, ("shortcuts", index, "go"))
            for index, shortcut in enumerate(self.shortcuts)
        ]
        if self.operator is not None:
            edges.append(Edge("operator", self.operator, ("operator",)))
        if self.on_failure is not None:
            edges.append(Edge("on_failure", self.on_failure, ("on_failure",)))
        return edges


class QueueNode(Node):
    """Put the caller in a named operator queue (``<Enqueue>``) with wait announcements."""

    kind: Literal["queue"] = "queue"
    queue: str = Field(min_length=1, max_length=64)
    # Another queue for callers of a language (e.g. {en: english}: English-speaking staff).
    queue_by_language: dict[str, Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=dict
    )
    # Prompts read to a waiting caller, in turn, with ``wait_pause`` seconds of quiet between.
    wait: PromptList = Field(default_factory=list)
    wait_pause: int = Field(default=20, ge=1, le=300)
    # Where a caller goes who leaves the queue without reaching a person.
    on_leave: NodeId | None = None
    # A key a waiting caller may press to leave the queue for ``on_leave`` (e.g. to book a
    # callback instead of holding), offered with ``leave_offer`` after ``leave_after`` s.
    leave_key: str | None = Field(default=None, pattern=r"^[0-9#]$")
    leave_offer: PromptList = Field(default_factory=list)
    leave_after: int = Field(default=0, ge=0, le=3600)
    # Leave for ``on_leave`` when the queue's average wait, or this caller's own wait so far,
    # exceeds this (seconds).
    max_wait: int | None = Field(default=None, ge=0, le=3600)

    is_end: ClassVar[bool] = True

    def edges(self) -> list[Edge]:
        return [] if self.on_leave is None else [Edge("on_leave", self.on_leave, ("on_leave",))]

    def queue_for(self, lang: str) -> str:
        """The queue a caller speaking ``lang`` waits in."""
        return self.queue_by_language.get(lang, self.queue)


class DialNode(Node):
    """Connect the caller to a phone number (``<Dial>``)."""

    kind: Literal["dial"] = "dial"
    number: str = Field(min_length=3)
    timeout: int = Field(default=30, ge=5, le=600)
    # Where the call goes when nobody answers or the number is busy.
    on_fail: NodeId | None = None

    is_end: ClassVar[bool] = True

    def edges(self) -> list[Edge]:
        return [] if self.on_fail is None else [Edge("on_fail", self.on_fail, ("on_fail",))]


NODE_KINDS: dict[str, type[Node]] = {}


def register_node_kind(cls: type[Node]) -> type[Node]:
    """Make a node class known to the reader under its ``kind``."""
    kind = cls.model_fields["kind"].default
    NODE_KINDS[kind] = cls
    return cls


for _cls in (
    PromptNode,
    GotoNode,
    HangupNode,
    ScheduleNode,
    LineNode,
    MenuNode,
    QueueNode,
    DialNode,
):
    register_node_kind(_cls)

"""The state of one call between two webhooks, and the events that move it on.

``CallState`` is stored as JSON by the web layer (keyed by CallSid), so it holds only plain
values; any worker can continue any call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal["start", "digits", "speech", "timeout", "recording", "queue", "dial", "action"]


@dataclass
class CallState:
    """Where a call stands: its flow version, the node it waits at, counters and values."""

    flow: str
    version: str
    lang: str
    # The accessibility profile in force (a name in the flow's profiles), if any.
    profile: str | None = None
    node: str | None = None
    attempts: dict[str, int] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    done: bool = False

    def copy(self) -> CallState:
        """An independent copy (its containers hold only strings and numbers)."""
        # Field by field rather than ``dataclasses.replace``: this runs on every turn.
        return CallState(
            self.flow,
            self.version,
            self.lang,
            self.profile,
            self.node,
            dict(self.attempts),
            dict(self.vars),
            list(self.path),
            self.done,
        )

    def to_json(self) -> dict[str, Any]:
        """Plain data for storage (written field by field: ``asdict`` deep-copies, and this
        runs on every turn)."""
        return {
            "flow": self.flow,
            "version": self.version,
            "lang": self.lang,
            "profile": self.profile,
            "node": self.node,
            "attempts": dict(self.attempts),
            "vars": dict(self.vars),
            "path": list(self.path),
            "done": self.done,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CallState:
        """The state stored by ``to_json``."""
        return cls(**dict(data))


@dataclass(frozen=True)
class Event:
    """What the caller (or the network) did since the last turn."""

    kind: EventKind
    digits: str = ""
    speech: str = ""
    confidence: float | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls) -> Event:
        """The call has just been answered."""
        return cls("start")

    @classmethod
    def timeout(cls) -> Event:
        """The caller said and pressed nothing."""
        return cls("timeout")

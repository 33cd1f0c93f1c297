"""What the engine asks the telephony layer to do: plain, immutable data.

``ivr.telephony.twiml`` turns these into TwiML; the harness and the tests read them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Say:
    """Speak a text in a language; ``prompt_id`` lets a recorded file replace the voice."""

    text: str
    lang: str
    prompt_id: str | None = None
    # SSML prosody rate such as "85%" for slower speech; None = the voice's normal rate.
    rate: str | None = None


@dataclass(frozen=True)
class Pause:
    """Silence, in whole seconds."""

    seconds: int


@dataclass(frozen=True)
class Record:
    """Record the caller after a beep."""

    max_length: int
    timeout: int = 5
    finish_on_key: str = "#"
    beep: bool = True
    # What the recording is for; its status callback carries it (voicemail, request_number).
    purpose: str = "voicemail"
    # Shorter recordings (seconds) are not kept; the status callback carries it too.
    min_length: int = 1


@dataclass(frozen=True)
class Gather:
    """Play ``prompts`` while listening for keys and/or speech."""

    prompts: tuple[Say | Pause, ...]
    lang: str
    dtmf: bool = True
    speech: bool = False
    timeout: int = 6
    num_digits: int | None = 1
    finish_on_key: str | None = None
    hints: tuple[str, ...] = ()
    # When no key is pressed, record speech instead (a spoken number) rather than time out.
    then_record: Record | None = None
    # Report to this route instead of the call's next turn (and fall through silently):
    # used inside a queue's wait announcements.
    action: str | None = None


@dataclass(frozen=True)
class Enqueue:
    """Put the caller in an operator queue; ``node`` names the queue node (wait prompts)."""

    queue: str
    node: str


@dataclass(frozen=True)
class Dial:
    """Connect the caller to a number."""

    number: str
    timeout: int = 30


@dataclass(frozen=True)
class Hangup:
    """End the call."""


@dataclass(frozen=True)
class LeaveQueue:
    """Take a waiting caller out of the queue (the queue's action then reports "leave")."""


Step = Say | Pause | Gather | Record | Enqueue | Dial | Hangup | LeaveQueue

# Steps after which the call leaves our hands until Twilio calls back (or for good).
WAITING_STEPS = (Gather, Record, Enqueue, Dial, Hangup)


@dataclass(frozen=True)
class ActionRequest:
    """A named side effect the engine needs (book a callback, look up a request …).

    The engine cannot do I/O: it returns this, the caller runs the handler registered under
    ``name`` and feeds the result back as an ``action`` event.
    """

    name: str
    args: dict[str, Any] = field(default_factory=dict)

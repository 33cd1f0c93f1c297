"""Node kinds that leave something behind: a voicemail, a callback booking, a status lookup.

They share the rest of the flow language unchanged; their side effects are named actions
(``save_voicemail``, ``find_callback_slot``, ``book_callback``, ``lookup_request``) that the
web layer runs, so the engine stays pure.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from ivr.flows.nodes import Edge, Node, NodeId, PromptList, register_node_kind

_CLOCK = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")


class VoicemailNode(Node):
    """Record a message after the beep, save it as a request, tell the caller its number."""

    kind: Literal["voicemail"] = "voicemail"
    say: PromptList = Field(default_factory=lambda: ["voicemail_intro"])
    max_length: int = Field(default=120, ge=10, le=600)
    # Shorter recordings (seconds) count as empty: the caller may record again.
    min_length: int = Field(default=2, ge=1, le=30)
    retries: int = Field(default=1, ge=0, le=5)
    too_short: PromptList = Field(default_factory=lambda: ["voicemail_too_short"])
    saved: PromptList = Field(default_factory=lambda: ["voicemail_saved"])
    # The text message with the request number ({request_digits}), when SMS is configured.
    sms: PromptList = Field(default_factory=lambda: ["voicemail_sms"])
    sms_coming: PromptList = Field(default_factory=lambda: ["request_number_sms_coming"])
    # After the request number: ✱ says it again; this long (seconds) to press it.
    repeat_offer: PromptList = Field(default_factory=lambda: ["request_number_repeat_offer"])
    repeat_timeout: int = Field(default=4, ge=2, le=15)
    next: NodeId
    # Where a caller goes when every recording was empty: nothing was saved, so not the
    # goodbye of ``next`` but the other ways to reach us. By default ``next``.
    on_failure: NodeId | None = None

    waits_for_input: ClassVar[bool] = True
    is_end: ClassVar[bool] = True

    def edges(self) -> list[Edge]:
        edges = [Edge("next", self.next, ("next",))]
        if self.on_failure is not None:
            edges.append(Edge("on_failure", self.on_failure, ("on_failure",)))
        return edges


class CallbackNode(Node):
    """Book a callback: confirm or key in a number, hear the next free slot, confirm it."""

    kind: Literal["callback"] = "callback"
    say: PromptList = Field(default_factory=lambda: ["callback_confirm_number"])
    slot_minutes: int = Field(default=15, ge=5, le=120)
    # Operators per slot: how many callbacks one slot can take.
    capacity: int = Field(default=3, ge=1, le=1000)
    # The earliest slot offered starts at least this long after the call.
    lead_minutes: int = Field(default=30, ge=0, le=24 * 60)
    horizon_days: int = Field(default=14, ge=1, le=60)
    # The flow the dispatcher runs when the person answers our call.
    callback_flow: str = "callback"
    retries: int = Field(default=2, ge=0, le=5)
    timeout: int = Field(default=8, ge=3, le=30)
    enter_number: PromptList = Field(default_factory=lambda: ["callback_enter_number"])
    bad_number: PromptList = Field(default_factory=lambda: ["callback_bad_number"])
    # On a line whose defaults accept international numbers (``callback_numbers``).
    enter_number_international: PromptList = Field(
        default_factory=lambda: ["callback_enter_number_international"]
    )
    bad_number_international: PromptList = Field(
        default_factory=lambda: ["callback_bad_number_international"]
    )
    # A number keyed in is read back in groups ({keyed_number}) before it is used.
    confirm_keyed: PromptList = Field(default_factory=lambda: ["callback_confirm_keyed"])
    offer: PromptList = Field(default_factory=lambda: ["callback_offer"])
    # «Более позднее время» (2) offers a useful spread, not the next quarter-hour: the first
    # free slot from the next of these day parts (Moscow time) after the slot offered, and at
    # least ``later_gap_minutes`` after it — later today, tomorrow morning, tomorrow evening.
    later_day_parts: list[str] = Field(
        default_factory=lambda: ["09:00", "17:00"], min_length=1, max_length=24
    )
    later_gap_minutes: int = Field(default=120, ge=15, le=24 * 60)
    offer_later: PromptList = Field(default_factory=lambda: ["callback_offer_later"])
    booked: PromptList = Field(default_factory=lambda: ["callback_booked"])
    already_booked: PromptList = Field(default_factory=lambda: ["callback_already_booked"])
    no_slots: PromptList = Field(default_factory=lambda: ["callback_no_slots"])
    # Book the caller's own number for right now, asking nothing (the "one click" line);
    # a caller whose number cannot be called back is asked for one.
    immediate: bool = False
    booked_now: PromptList = Field(default_factory=lambda: ["callback_booked_now"])
    # An immediate booking that cannot be now: the next free slot, booked without asking,
    # told with the way to refuse it.
    booked_auto: PromptList = Field(default_factory=lambda: ["callback_booked_auto"])
    refuse_offer: PromptList = Field(default_factory=lambda: ["callback_refuse_offer"])
    refused: PromptList = Field(default_factory=lambda: ["callback_refused"])
    # Said when the caller gives up on the booking (too many silences or wrong keys).
    not_booked: PromptList = Field(default_factory=lambda: ["callback_not_booked"])
    # After the request number: ✱ says it again; this long (seconds) to press it.
    repeat_offer: PromptList = Field(default_factory=lambda: ["request_number_repeat_offer"])
    repeat_timeout: int = Field(default=4, ge=2, le=15)
    # The text message with the request number ({request_digits}), when SMS is configured
    # and the number booked is a mobile one; ``sms_coming`` tells the caller it is on its way.
    sms: PromptList = Field(default_factory=lambda: ["callback_sms"])
    sms_coming: PromptList = Field(default_factory=lambda: ["request_number_sms_coming"])
    next: NodeId
    on_failure: NodeId | None = None
    # Where a caller who refused the booking made for them goes (default: ``next``).
    on_refuse: NodeId | None = None

    waits_for_input: ClassVar[bool] = True

    @field_validator("later_day_parts")
    @classmethod
    def _clock_times(cls, parts: list[str]) -> list[str]:
        for part in parts:
            if not _CLOCK.fullmatch(part):
                raise ValueError(f"later_day_parts: {part!r} is not a time of day like 09:00")
        return sorted(parts)

    def edges(self) -> list[Edge]:
        edges = [Edge("next", self.next, ("next",))]
        if self.on_failure is not None:
            edges.append(Edge("on_failure", self.on_failure, ("on_failure",)))
        if self.on_refuse is not None:
            edges.append(Edge("on_refuse", self.on_refuse, ("on_refuse",)))
        return edges


for _cls in (VoicemailNode, CallbackNode):
    register_node_kind(_cls)


class RequestStatusNode(Node):
    """Ask for a request number (keys, or speech recognised offline), read it back, confirm,
    and tell the request's status, deadline and next step; offer escalation when overdue."""

    kind: Literal["request_status"] = "request_status"
    # With speech, the caller may say the number after the keypad prompt (when a model runs).
    speech: bool = True
    say: PromptList = Field(default_factory=lambda: ["status_ask_keys_or_voice"])
    ask_keys: PromptList = Field(default_factory=lambda: ["status_ask_keys"])
    confirm: PromptList = Field(default_factory=lambda: ["status_confirm"])
    not_understood: PromptList = Field(default_factory=lambda: ["status_not_understood"])
    ambiguous: PromptList = Field(default_factory=lambda: ["status_ambiguous"])
    unknown: PromptList = Field(default_factory=lambda: ["status_unknown"])
    found: PromptList = Field(default_factory=lambda: ["status_found"])
    overdue: PromptList = Field(default_factory=lambda: ["status_overdue_offer"])
    escalated: PromptList = Field(default_factory=lambda: ["status_escalated"])
    # When the senior specialist calls ({slot}); without a number to call back, what then.
    escalated_call: PromptList = Field(default_factory=lambda: ["status_escalated_call"])
    escalated_no_call: PromptList = Field(default_factory=lambda: ["status_escalated_no_call"])
    # After the new request number: ✱ says it again; this long (seconds) to press it.
    repeat_offer: PromptList = Field(default_factory=lambda: ["request_number_repeat_offer"])
    repeat_timeout: int = Field(default=4, ge=2, le=15)
    due: PromptList = Field(default_factory=lambda: ["status_due"])
    # A deadline already past: never told in the future tense.
    due_passed: PromptList = Field(default_factory=lambda: ["status_due_passed"])
    # Request status code → the prompt that names it.
    status_texts: dict[str, str] = Field(
        default_factory=lambda: {
            code: f"status_{code}"
            for code in (
                "registered",
                "processing",
                "in_work",
                "waiting_for_caller",
                "answered",
                "closed",
            )
        }
    )
    # Request category → the prompt that says what happens next (for the requests this
    # server registers itself); other requests say the back office's own text.
    next_step_texts: dict[str, str] = Field(
        default_factory=lambda: {
            category: f"status_next_{category}"
            for category in ("callback", "escalation", "voicemail")
        }
    )
    # Said instead of a back-office text in another language than the call's (its next step
    # is written in Russian; the caller abroad speaks English).
    next_step_untranslated: PromptList = Field(default_factory=lambda: ["status_next_untranslated"])
    timeout: int = Field(default=8, ge=3, le=30)
    # Seconds of speech recorded for a spoken number.
    max_speech: int = Field(default=12, ge=3, le=30)
    next: NodeId
    # After three misses the caller goes here (default: the flow's operator node).
    operator: NodeId | None = None

    waits_for_input: ClassVar[bool] = True

    def edges(self) -> list[Edge]:
        edges = [Edge("next", self.next, ("next",))]
        if self.operator is not None:
            edges.append(Edge("operator", self.operator, ("operator",)))
        return edges

    def prompt_ids(self) -> list[str]:
        return [
            *super().prompt_ids(),
            *self.status_texts.values(),
            *self.next_step_texts.values(),
        ]


register_node_kind(RequestStatusNode)


class TextAlternativeNode(Node):
    """Send the caller a text message instead of speech: the chat link, the e-mail address
    and, when there is one, the request number. Only to mobile numbers."""

    kind: Literal["text_alternative"] = "text_alternative"
    # Ask first ("press 1 to get a text message"); otherwise send without waiting for keys
    # (``say`` is then not said).
    ask: bool = False
    say: PromptList = Field(default_factory=lambda: ["text_alternative_offer"])
    sms: PromptList = Field(default_factory=lambda: ["text_alternative_sms"])
    sent: PromptList = Field(default_factory=lambda: ["text_alternative_sent"])
    # The text could not go to a mobile number (no SMS sender configured, no number).
    not_sent: PromptList = Field(default_factory=lambda: ["text_alternative_not_sent"])
    # The caller's number is not a mobile one (a landline), where no SMS can go: said instead
    # of ``not_sent``, then ``landline_again`` (or ``landline`` itself when that is empty)
    # ``landline_repeat`` more times, so that an address is heard twice. Empty: ``not_sent``.
    landline: PromptList = Field(default_factory=list)
    landline_again: PromptList = Field(default_factory=list)
    landline_repeat: int = Field(default=0, ge=0, le=3)
    timeout: int = Field(default=8, ge=3, le=30)
    next: NodeId

    waits_for_input: ClassVar[bool] = True

    def edges(self) -> list[Edge]:
        return [Edge("next", self.next, ("next",))]

    @model_validator(mode="after")
    def _repeats_what_is_said(self) -> TextAlternativeNode:
        if (self.landline_again or self.landline_repeat) and not self.landline:
            raise ValueError("landline_again and landline_repeat repeat landline: set it too")
        return self

    def landline_prompts(self) -> list[str]:
        """What a caller on a landline hears: ``landline`` and its repeats (empty: none)."""
        if not self.landline:
            return []
        again = self.landline_again or self.landline
        return [*self.landline, *again * self.landline_repeat]

    def told(self) -> list[list[str]]:
        """Each way the caller may be told what became of the text (sent, not, landline)."""
        return [self.sent, self.not_sent, *([self.landline_prompts()] if self.landline else [])]


register_node_kind(TextAlternativeNode)

"""One turn of the interpreter in progress: the flow, the state, the time, the steps so far.

Node handlers receive a ``Run`` and return where the call goes next (an ``Outcome``).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ivr.domain.schedule import describe_next_opening
from ivr.domain.spoken import email_in_words
from ivr.engine.state import CallState
from ivr.engine.steps import ActionRequest, Pause, Say, Step
from ivr.flows.model import Flow, Profile
from ivr.flows.nodes import SUPPORT_EMAIL, keys_only_variant, split_prompt_ref


@dataclass(frozen=True)
class Goto:
    """Enter another node now."""

    node: str


@dataclass(frozen=True)
class Wait:
    """Stay at this node until the caller (or Twilio) calls back."""


@dataclass(frozen=True)
class End:
    """The automated part of the call is over."""


Outcome = Goto | Wait | End | ActionRequest
WAIT = Wait()
END = End()


class _Values(Mapping[str, str]):
    """Values a prompt text in ``lang`` may name in braces, e.g. ``{next_opening}``.

    Computed values are worked out only when a prompt asks for them.
    """

    def __init__(self, run: Run, lang: str, spoken: bool) -> None:
        self._run = run
        self._lang = lang
        self._spoken = spoken

    def __getitem__(self, key: str) -> str:
        if key in self._run.state.vars:
            return self._run.state.vars[key]
        if key == "next_opening":
            schedule = self._run.flow.runtime_schedule
            if schedule is not None:
                return describe_next_opening(schedule, self._run.now, self._lang)
        if key == SUPPORT_EMAIL:
            address = self._run.flow.prompt_text(self._lang, SUPPORT_EMAIL)
            return email_in_words(address, self._lang) if self._spoken else address
        return ""

    def __iter__(self):  # type: ignore[no-untyped-def]  # Mapping protocol; never iterated
        return iter(self._run.state.vars)

    def __len__(self) -> int:
        return len(self._run.state.vars)


_FORMATTER = string.Formatter()


@dataclass
class Run:
    """Everything a node handler may read or change during one turn."""

    flow: Flow
    state: CallState
    now: datetime
    steps: list[Step] = field(default_factory=list)

    @property
    def profile(self) -> Profile:
        """The accessibility profile in force for this call (plain when none)."""
        return self.flow.profile_named(self.state.profile)

    def text(self, ref: str, spoken: bool = True) -> str:
        """A prompt's text, ``{values}`` filled in: in the call's language, or the one the
        flow names (``id@lang``). ``spoken``: for a voice (an e-mail address in words), not
        for a text message."""
        prompt_id, fixed = split_prompt_ref(ref)
        lang = fixed or self.state.lang
        template = self.flow.prompt_text(lang, prompt_id)
        if "{" not in template:
            return template
        return _FORMATTER.vformat(template, (), _Values(self, lang, spoken))

    def prompts(self, prompt_refs: list[str], keys_only: bool = False) -> list[Say | Pause]:
        """``Say`` steps for prompts as a flow names them (``id``, or ``id@lang`` for a prompt
        said in one language whatever the call's). ``keys_only``: the question listens to
        keys only, so a prompt's keys-only wording (``id_keys_only``) is said where there is
        one: the caller is not offered speech the call cannot take."""
        profile = self.profile
        spoken: list[Say | Pause] = []
        for ref in prompt_refs:
            prompt_id, fixed = split_prompt_ref(ref)
            if spoken and profile.pause:
                spoken.append(Pause(profile.pause))
            lang = fixed or self.state.lang
            # Only a wording in this very language: never another language's fallback.
            if keys_only and keys_only_variant(prompt_id) in self.flow.prompts.get(lang, {}):
                prompt_id = keys_only_variant(prompt_id)
                ref = prompt_id if fixed is None else f"{prompt_id}@{fixed}"
            spoken.append(Say(self.text(ref), lang, prompt_id=prompt_id, rate=profile.rate))
        return spoken

    def say(self, prompt_ids: list[str]) -> None:
        """Speak prompts now."""
        self.steps.extend(self.prompts(prompt_ids))

    def attempt(self, node_id: str) -> int:
        """Count one more failed attempt at a node; returns the count so far."""
        count = self.state.attempts.get(node_id, 0) + 1
        self.state.attempts[node_id] = count
        return count

    def reset_attempts(self, node_id: str) -> None:
        """Forget failed attempts at a node (the caller got through)."""
        self.state.attempts.pop(node_id, None)

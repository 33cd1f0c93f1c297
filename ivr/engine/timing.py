"""How long a call takes, worst case, before a person answers and before the first choice.

``ivr validate --timing`` prints these per flow, so that an admin sees what a change to a
prompt or a menu costs a caller:

- *before the first choice*: the seconds of speech from the start of the call until the
  caller is first asked for something (a menu, a recording …), the longest schedule branch;
- *before a person*, for a caller who says and presses nothing: the seconds of speech and
  the seconds of waiting for an answer until the call reaches a queue or a dial, the longest
  way the engine takes a silent caller (every menu said ``repeat + 1`` times per attempt,
  ``retries + 1`` attempts or fewer when ``defaults.silence_limit`` silences in a row come
  first, the no-input prompt between them, the switch to ``defaults.silence_profile`` after
  ``silence_switch_after`` silences, then the menu's failure exit).

Speech is estimated from the length of the prompt texts at ``chars_per_second`` (default
``CHARS_PER_SECOND``) at rate 100%, divided by the line's profile rate ("80%" → slower).
The rate is NOT CALIBRATED against a real voice: it is a rough figure for comparing flows
and versions of one flow, not a measurement. The profile a silent caller is switched to
mid-call speaks at its own rate; the pauses between prompts and the wait announcements are
left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.flows.model import Flow
from ivr.flows.nodes import (
    DialNode,
    GotoNode,
    LineNode,
    MenuNode,
    Node,
    PromptNode,
    QueueNode,
    ScheduleNode,
    split_prompt_ref,
)
from ivr.flows.service_nodes import TextAlternativeNode
from ivr.flows.validate import menu_failure

# Characters a voice says per second at rate 100%: an uncalibrated guess (about 150 words a
# minute of Russian text with its spaces and punctuation).
CHARS_PER_SECOND = 15.0


@dataclass(frozen=True)
class Timing:
    """The worst-case figures of one flow (seconds; None: no such path)."""

    flow: str
    first_choice: float | None
    person_speech: float | None
    person_waiting: float | None
    person_node: str | None


def flow_timing(flow: Flow, chars_per_second: float = CHARS_PER_SECOND) -> Timing:
    """The worst-case seconds of ``flow`` (see the module's description)."""
    estimate = _Estimate(flow, chars_per_second)
    worst = estimate.silent_to_person(flow.start, frozenset(), _Silent(0, flow.profile))
    return Timing(
        flow=flow.name,
        first_choice=estimate.first_choice(flow.start, frozenset()),
        person_speech=None if worst is None else worst[0],
        person_waiting=None if worst is None else worst[1],
        person_node=None if worst is None else worst[2],
    )


@dataclass(frozen=True)
class _Silent:
    """A silent caller so far: silences in a row, and the profile the call speaks in."""

    silences: int
    profile: str | None


class _Estimate:
    def __init__(self, flow: Flow, chars_per_second: float) -> None:
        self.flow = flow
        self.chars_per_second = chars_per_second

    def seconds(self, refs: list[str], profile: str | None = None) -> float:
        """Seconds to say these prompts in the flow's first language (fixed ones in theirs),
        at the rate of ``profile`` (default: the line's)."""
        total = 0
        for ref in refs:
            prompt_id, lang = split_prompt_ref(ref)
            total += len(self.flow.prompt_text(lang or self.flow.languages[0], prompt_id))
        name = self.flow.profile if profile is None else profile
        return total / (self.chars_per_second * self.flow.profile_named(name).rate_factor())

    def said(self, node: Node, profile: str | None = None) -> float:
        """Seconds a node says on entry to a caller who answers nothing. A text message sent
        without asking says not its offer but what became of the text (the longest way)."""
        if isinstance(node, TextAlternativeNode) and not node.ask:
            return max(self.seconds(told, profile) for told in node.told())
        return self.seconds(node.say, profile)

    def branches(self, node: Node) -> list[str]:
        """Where a node that does not wait goes next (every branch of a schedule or line)."""
        if isinstance(node, ScheduleNode | LineNode):
            return [edge.target for edge in node.edges()]
        if isinstance(node, PromptNode | GotoNode) or not _waits(node):
            return [edge.target for edge in node.edges()]
        return []

    def first_choice(self, node_id: str, seen: frozenset[str]) -> float | None:
        """Speech before the first node that waits for the caller, the longest branch."""
        if node_id in seen or node_id not in self.flow.nodes:
            return None
        node = self.flow.nodes[node_id]
        if isinstance(node, QueueNode | DialNode):
            return None  # a person answers before any choice
        said = self.said(node)
        if _waits(node):
            return said
        found = [self.first_choice(t, seen | {node_id}) for t in self.branches(node)]
        known = [f for f in found if f is not None]
        return said + max(known) if known else None

    def silent_to_person(
        self, node_id: str, seen: frozenset[str], caller: _Silent
    ) -> tuple[float, float, str] | None:
        """(speech, waiting, the person's node) for a silent caller, the longest branch."""
        if node_id in seen or node_id not in self.flow.nodes:
            return None
        node = self.flow.nodes[node_id]
        seen = seen | {node_id}
        if isinstance(node, QueueNode | DialNode):
            return self.seconds(node.say, caller.profile), 0.0, node_id
        if isinstance(node, MenuNode):
            speech, waiting, nexts, caller = self.silent_menu(node, caller)
        else:
            speech, waiting, nexts = self.silent_step(node, caller.profile)
        found = [self.silent_to_person(t, seen, caller) for t in nexts]
        known = [f for f in found if f is not None]
        if not known:
            return None
        worst = max(known, key=lambda f: f[0] + f[1])
        return speech + worst[0], waiting + worst[1], worst[2]

    def silent_menu(
        self, node: MenuNode, caller: _Silent
    ) -> tuple[float, float, list[str], _Silent]:
        """A menu asked until a silent caller is sent on, as the engine does it: the menu said
        ``repeat + 1`` times per attempt, the no-input prompt between attempts, the switch to
        ``silence_profile`` (and its ``silence_help``) after ``silence_switch_after`` silences
        in a row, the failure exit after ``retries`` or at ``silence_limit``."""
        defaults = self.flow.defaults
        silences, profile_name = caller.silences, caller.profile
        speech = waiting = 0.0
        failed_attempts = 0
        while True:
            profile = self.flow.profile_named(profile_name)
            timeout = self.pick(profile.timeout, node.timeout, defaults.timeout)
            speech += self.seconds(node.say, profile_name) * (1 + profile.repeat)
            waiting += (1 + profile.repeat) * timeout
            silences += 1
            if silences >= defaults.silence_limit:
                break
            prompts = node.no_input or defaults.no_input
            if (
                silences == defaults.silence_switch_after
                and defaults.silence_profile is not None
                and profile_name != defaults.silence_profile
            ):
                profile_name = defaults.silence_profile
                prompts = node.silence_help or defaults.silence_help or prompts
            failed_attempts += 1
            profile = self.flow.profile_named(profile_name)
            if failed_attempts > self.pick(profile.retries, node.retries, defaults.retries):
                break
            speech += self.seconds(prompts, profile_name)
        failure = menu_failure(self.flow, node)
        return (
            speech,
            waiting,
            [] if failure is None else [failure],
            _Silent(silences, profile_name),
        )

    def silent_step(self, node: Node, profile: str | None) -> tuple[float, float, list[str]]:
        """What a node other than a menu costs a silent caller, and where they go on."""
        defaults = self.flow.defaults
        if not _waits(node):
            return self.said(node, profile), 0.0, self.branches(node)
        # Other nodes that wait (a status check, a callback, a text alternative): said once,
        # then their way out for a caller who does not answer (a fallback before ``next``).
        exits = {edge.label: edge.target for edge in node.edges()}
        for label in ("operator", "on_failure", "next"):
            if label in exits:
                return self.seconds(node.say, profile), float(defaults.timeout), [exits[label]]
        if defaults.operator is not None:
            return self.seconds(node.say, profile), float(defaults.timeout), [defaults.operator]
        return self.seconds(node.say, profile), 0.0, []

    @staticmethod
    def pick(*values: int | None) -> int:
        """The first value that is set."""
        return next(v for v in values if v is not None)


def _waits(node: Node) -> bool:
    """Does the caller have something to answer here? (A text message sent without asking
    first, ``ask: false``, is no question.)"""
    return node.waits_for_input and getattr(node, "ask", True) is not False


def render(timings: list[Timing], chars_per_second: float) -> list[str]:
    """The report lines of ``ivr validate --timing``."""
    lines = [
        f"Worst-case seconds, estimated at {chars_per_second:g} characters a second "
        "(uncalibrated) times each line's profile rate:"
    ]
    for t in timings:
        first = "-" if t.first_choice is None else f"{t.first_choice:.0f} s"
        if t.person_speech is None or t.person_waiting is None:
            person = "never reached by a silent caller"
        else:
            total = t.person_speech + t.person_waiting
            person = (
                f"{total:.0f} s ({t.person_speech:.0f} s speech + {t.person_waiting:.0f} s "
                f"waiting, at '{t.person_node}')"
            )
        lines.append(
            f"{t.flow}: before the first choice {first}; silent caller to a person {person}"
        )
    return lines

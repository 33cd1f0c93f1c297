"""What each node kind does when the call enters it and when the caller answers it.

The table ``HANDLERS`` maps a node kind to its handler; a new node kind registers one here
and touches nothing else in the engine.
"""

from __future__ import annotations

from typing import Any, Protocol

from ivr.domain.phones import to_e164
from ivr.domain.schedule import LineState, state_at
from ivr.engine.run import END, WAIT, Goto, Outcome, Run
from ivr.engine.state import Event
from ivr.engine.steps import Dial, Enqueue, Gather, Hangup, Pause
from ivr.flows import validate
from ivr.flows.model import Flow
from ivr.flows.nodes import (
    OPERATOR_KEY,
    REPEAT_KEY,
    DialNode,
    GotoNode,
    HangupNode,
    LineNode,
    MenuNode,
    Node,
    PromptNode,
    QueueNode,
    ScheduleNode,
)
from ivr.flows.words import SPOKEN_KEYS, Choice, Phrase, hints_for, spoken_key


class NodeHandler(Protocol):
    """The behaviour of one node kind."""

    def enter(self, node_id: str, node: Any, run: Run) -> Outcome:
        """The call arrives at the node."""

    def resume(self, node_id: str, node: Any, event: Event, run: Run) -> Outcome:
        """The caller (or Twilio) answers the node's question."""


class _Passive:
    """Nodes that never wait: a late or repeated webhook just enters them again."""

    def enter(self, node_id: str, node: Any, run: Run) -> Outcome:
        raise NotImplementedError

    def resume(self, node_id: str, node: Any, event: Event, run: Run) -> Outcome:
        return self.enter(node_id, node, run)


class PromptHandler(_Passive):
    def enter(self, node_id: str, node: PromptNode, run: Run) -> Outcome:
        run.say(node.say)
        if node.pause:
            run.steps.append(Pause(max(1, round(node.pause))))
        return Goto(node.next)


class GotoHandler(_Passive):
    def enter(self, node_id: str, node: GotoNode, run: Run) -> Outcome:
        run.say(node.say)
        return Goto(node.to)


class HangupHandler(_Passive):
    def enter(self, node_id: str, node: HangupNode, run: Run) -> Outcome:
        run.say(node.say or run.flow.defaults.goodbye)
        run.steps.append(Hangup())
        return END


class ScheduleHandler(_Passive):
    def enter(self, node_id: str, node: ScheduleNode, run: Run) -> Outcome:
        run.say(node.say)
        schedule = run.flow.runtime_schedule
        line_state = LineState.OPEN if schedule is None else state_at(schedule, run.now)
        if line_state is LineState.OPEN:
            return Goto(node.open)
        if line_state is LineState.HOLIDAY and node.holiday is not None:
            return Goto(node.holiday)
        return Goto(node.closed)


class LineHandler(_Passive):
    def enter(self, node_id: str, node: LineNode, run: Run) -> Outcome:
        run.say(node.say)
        return Goto(node.target_for(to_e164(run.state.vars.get("line", ""))))


SILENCES = "_silences"


class MenuHandler:
    def enter(self, node_id: str, node: MenuNode, run: Run) -> Outcome:
        run.reset_attempts(node_id)
        self._ask(node, run)
        return WAIT

    def resume(self, node_id: str, node: MenuNode, event: Event, run: Run) -> Outcome:
        if event.kind != "timeout":
            run.state.vars.pop(SILENCES, None)
        if event.kind == "digits" and event.digits:
            return self._key(node_id, node, event.digits[0], run)
        if event.kind == "speech":
            return self._heard(node_id, node, event.speech, run)
        if event.kind == "timeout":
            return self._silence(node_id, node, run)
        # Anything else (a stray webhook) asks the question again without counting a miss.
        self._ask(node, run)
        return WAIT

    def _key(self, node_id: str, node: MenuNode, key: str, run: Run) -> Outcome:
        """A key pressed, or an option number said."""
        if key == REPEAT_KEY:
            self._ask(node, run)
            return WAIT
        if key in node.options:
            return self._choose(node_id, node, key, run)
        if key == OPERATOR_KEY:
            return self._to_operator(node_id, node, run)
        return self._fail(node_id, node, run, node.no_match or run.flow.defaults.no_match)

    def _heard(self, node_id: str, node: MenuNode, speech: str, run: Run) -> Outcome:
        """Words said: an option's or a shortcut's keywords, else an option number, else
        the flow's words for "repeat" and "a person"."""
        defaults = run.flow.defaults
        words = run.flow.words
        heard = words.heard(speech)
        choice = speech_choice(run.flow, node, heard, run.state.lang)
        if choice is not None and choice.key is not None:
            return self._choose(node_id, node, choice.key, run)
        if choice is not None and choice.node is not None:
            run.reset_attempts(node_id)
            if choice.lang is not None:
                run.state.lang = choice.lang
            return Goto(choice.node)
        key = spoken_key(heard, run.state.lang)
        if key is not None:
            return self._key(node_id, node, key, run)
        if words.mentions(heard, defaults.repeat_keywords):
            self._ask(node, run)
            return WAIT
        if words.mentions(heard, defaults.operator_keywords):
            return self._to_operator(node_id, node, run)
        return self._fail(node_id, node, run, node.no_match or defaults.no_match)

    def _silence(self, node_id: str, node: MenuNode, run: Run) -> Outcome:
        """No answer. After a few silences in a row the call slows down and the caller hears
        that staying on the line brings a person; after ``silence_limit`` of them the menu's
        failure exit takes over at once, whatever retries are left. Never dropped."""
        defaults = run.flow.defaults
        silences = int(run.state.vars.get(SILENCES, "0")) + 1
        run.state.vars[SILENCES] = str(silences)
        if silences >= defaults.silence_limit:
            run.reset_attempts(node_id)
            target = validate.menu_failure(run.flow, node)
            assert target is not None  # the validator refuses menus without one
            return Goto(target)
        prompts = node.no_input or defaults.no_input
        if (
            silences == defaults.silence_switch_after
            and defaults.silence_profile is not None
            and run.state.profile != defaults.silence_profile
        ):
            run.state.profile = defaults.silence_profile
            prompts = node.silence_help or defaults.silence_help or prompts
        return self._fail(node_id, node, run, prompts)

    def _choose(self, node_id: str, node: MenuNode, key: str, run: Run) -> Outcome:
        run.reset_attempts(node_id)
        option = node.options[key]
        if option.lang is not None:
            run.state.lang = option.lang
        if option.profile is not None:
            run.state.profile = option.profile
        return Goto(option.go)

    def _to_operator(self, node_id: str, node: MenuNode, run: Run) -> Outcome:
        run.reset_attempts(node_id)
        target = validate.menu_operator(run.flow, node)
        assert target is not None  # the validator refuses menus without one
        return Goto(target)

    def _fail(self, node_id: str, node: MenuNode, run: Run, prompt_ids: list[str]) -> Outcome:
        profile = run.profile
        if profile.retries is not None:
            retries = profile.retries
        elif node.retries is not None:
            retries = node.retries
        else:
            retries = run.flow.defaults.retries
        if run.attempt(node_id) > retries:
            run.reset_attempts(node_id)
            target = validate.menu_failure(run.flow, node)
            assert target is not None
            return Goto(target)
        run.say(prompt_ids)
        self._ask(node, run)
        return WAIT

    def _ask(self, node: MenuNode, run: Run) -> None:
        defaults = run.flow.defaults
        profile = run.profile
        lang = run.state.lang
        keywords = [
            word
            for choice in [*node.options.values(), *node.shortcuts]
            for word in choice.keywords_for(lang)
        ]
        if profile.speech == "off":
            speech = False
        else:
            speech = bool(keywords) or profile.speech == "everywhere"
        hints = menu_hints(node, lang, keywords, defaults.operator_keywords) if speech else ()
        prompts = run.prompts(node.say, keys_only=not speech)
        spoken = list(prompts)
        for _ in range(profile.repeat):
            # The menu repeats by itself before the silence counts.
            spoken += [Pause(max(2, profile.pause)), *prompts]
        run.steps.append(
            Gather(
                prompts=tuple(spoken),
                lang=run.state.lang,
                dtmf=True,
                speech=speech,
                timeout=profile.timeout or node.timeout or defaults.timeout,
                num_digits=1,
                hints=hints,
            )
        )


def speech_choice(flow: Flow, node: MenuNode, heard: Phrase, lang: str | None) -> Choice | None:
    """The option or shortcut a caller's words (as lemmas) choose, or None.

    Keywords of the call's ``lang`` count (None: of every language). The phrase heard with
    the most words wins («не приходит смс» over «смс»); of equals, options before shortcuts,
    in the order written. An option's keywords win over "repeat" («повторно не приходит смс»
    is about SMS) and over option numbers.
    """
    words = flow.words
    choices = [
        Choice(words.phrase(text), text, key=key)
        for key, option in node.options.items()
        for text in option.keywords_for(lang)
    ] + [
        Choice(words.phrase(text), text, node=shortcut.go, lang=shortcut.lang)
        for shortcut in node.shortcuts
        for text in shortcut.keywords_for(lang)
    ]
    return words.best(heard, choices)


def menu_hints(
    node: MenuNode, lang: str, keywords: list[str], operator_keywords: list[str]
) -> tuple[str, ...]:
    """What a menu's ``<Gather>`` tells the recogniser to expect: its keywords, the words for
    a person and the numbers of its keys, whole words in the call's language only."""
    said = SPOKEN_KEYS.get(lang, {})
    # In the order the menus say them: 1 to 9, then 0 for a person.
    keys = sorted({*node.options, OPERATOR_KEY}, key=lambda key: (key == OPERATOR_KEY, key))
    numbers = [said[key][0] for key in keys if key in said]
    return hints_for(lang, [*keywords, *operator_keywords, *numbers])


class QueueHandler:
    def enter(self, node_id: str, node: QueueNode, run: Run) -> Outcome:
        run.say(node.say)
        run.steps.append(Enqueue(node.queue_for(run.state.lang), node_id))
        return WAIT

    def resume(self, node_id: str, node: QueueNode, event: Event, run: Run) -> Outcome:
        result = str(event.data.get("result", ""))
        if event.kind == "queue" and result in ("bridged", "hangup", "bridging-in-progress"):
            run.steps.append(Hangup())
            return END
        # Left the queue without a person (pressed a key, queue full, an error).
        if node.on_leave is not None:
            return Goto(node.on_leave)
        run.say(run.flow.defaults.goodbye)
        run.steps.append(Hangup())
        return END


class DialHandler:
    def enter(self, node_id: str, node: DialNode, run: Run) -> Outcome:
        run.say(node.say)
        run.steps.append(Dial(node.number, node.timeout))
        return WAIT

    def resume(self, node_id: str, node: DialNode, event: Event, run: Run) -> Outcome:
        status = str(event.data.get("status", ""))
        if event.kind == "dial" and status in ("completed", "answered"):
            run.steps.append(Hangup())
            return END
        if node.on_fail is not None:
            return Goto(node.on_fail)
        run.say(run.flow.defaults.goodbye)
        run.steps.append(Hangup())
        return END


HANDLERS: dict[str, NodeHandler] = {
    "prompt": PromptHandler(),
    "goto": GotoHandler(),
    "hangup": HangupHandler(),
    "schedule": ScheduleHandler(),
    "line": LineHandler(),
    "menu": MenuHandler(),
    "queue": QueueHandler(),
    "dial": DialHandler(),
}


def handler_for(node: Node) -> NodeHandler:
    """The handler registered for a node's kind."""
    return HANDLERS[node.kind]

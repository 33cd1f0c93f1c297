"""What each node kind does when the call enters it and when the caller answers it.

The table ``HANDLERS`` maps a node kind to its handler; a new node kind registers one here
and touches nothing else in the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ivr.domain.schedule import LineState, state_at
from ivr.engine.run import END, WAIT, Goto, Outcome, Run
from ivr.engine.state import Event
from ivr.engine.steps import Dial, Enqueue, Gather, Hangup, Pause
from ivr.flows import validate
from ivr.flows.nodes import (
    OPERATOR_KEY,
    REPEAT_KEY,
    DialNode,
    GotoNode,
    HangupNode,
    MenuNode,
    Node,
    PromptNode,
    QueueNode,
    ScheduleNode,
    normalise_speech,
)


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


# Spoken option numbers, for profiles that accept speech at every menu.
SPOKEN_KEYS = {
    "ru": {
        "один": "1",
        "одну": "1",
        "первый": "1",
        "два": "2",
        "второй": "2",
        "три": "3",
        "третий": "3",
        "четыре": "4",
        "пять": "5",
        "шесть": "6",
        "семь": "7",
        "восемь": "8",
        "девять": "9",
        "ноль": "0",
    },
    "en": {
        "one": "1",
        "two": "2",
        "three": "3",
        "four": "4",
        "five": "5",
        "six": "6",
        "seven": "7",
        "eight": "8",
        "nine": "9",
        "zero": "0",
    },
}
SILENCES = "_silences"


class MenuHandler:
    def enter(self, node_id: str, node: MenuNode, run: Run) -> Outcome:
        run.reset_attempts(node_id)
        self._ask(node, run)
        return WAIT

    def resume(self, node_id: str, node: MenuNode, event: Event, run: Run) -> Outcome:
        defaults = run.flow.defaults
        if event.kind != "timeout":
            run.state.vars.pop(SILENCES, None)
        if event.kind == "digits" and event.digits:
            key = event.digits[0]
            if key == REPEAT_KEY:
                self._ask(node, run)
                return WAIT
            if key in node.options:
                return self._choose(node_id, node, key, run)
            if key == OPERATOR_KEY:
                return self._to_operator(node_id, node, run)
            return self._fail(node_id, node, run, node.no_match or defaults.no_match)
        if event.kind == "speech":
            heard = normalise_speech(event.speech)
            spoken = SPOKEN_KEYS.get(run.state.lang) if run.profile.speech == "everywhere" else None
            chosen = speech_option(node, heard, run.state.lang, spoken)
            if chosen is not None:
                return self._choose(node_id, node, chosen, run)
            if mentions(heard, defaults.repeat_keywords):
                self._ask(node, run)
                return WAIT
            if mentions(heard, defaults.operator_keywords):
                return self._to_operator(node_id, node, run)
            return self._fail(node_id, node, run, node.no_match or defaults.no_match)
        if event.kind == "timeout":
            return self._silence(node_id, node, run)
        # Anything else (a stray webhook) asks the question again without counting a miss.
        self._ask(node, run)
        return WAIT

    def _silence(self, node_id: str, node: MenuNode, run: Run) -> Outcome:
        """No answer. After a few silences in a row the call slows down and the caller hears
        that staying on the line brings a person; it is never dropped."""
        defaults = run.flow.defaults
        silences = int(run.state.vars.get(SILENCES, "0")) + 1
        run.state.vars[SILENCES] = str(silences)
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
        keywords = [word for option in node.options.values() for word in option.keywords_for(lang)]
        if profile.speech == "off":
            speech = False
        else:
            speech = bool(keywords) or profile.speech == "everywhere"
        hints = (*keywords, *defaults.operator_keywords) if speech else ()
        prompts = run.prompts(node.say)
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


def speech_option(
    node: MenuNode,
    heard: str,
    lang: str | None = None,
    spoken_keys: Mapping[str, str] | None = None,
) -> str | None:
    """The option a caller's (normalised) words choose, or None.

    Keywords of the call's ``lang`` count (None: of every language). An option's keyword
    wins over "repeat" («повторно не приходит смс» is about SMS); with ``spoken_keys``
    (profiles that take speech everywhere) a said option number counts too.
    """
    for key, option in node.options.items():
        if mentions(heard, option.keywords_for(lang)):
            return key
    if spoken_keys:
        for word in heard.split():
            key = spoken_keys.get(word, "")
            if key in node.options:
                return key
    return None


def mentions(heard: str, keywords: list[str]) -> bool:
    """True when the caller said a keyword. Keywords are word stems («оплат» matches «оплата»,
    «оплатой»), because Russian words change their endings; a keyword of several words must
    appear in that order."""
    words = heard.split()
    for keyword in keywords:
        stems = keyword.split()
        for i in range(len(words) - len(stems) + 1):
            if all(words[i + j].startswith(stem) for j, stem in enumerate(stems)):
                return True
    return False


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
    "menu": MenuHandler(),
    "queue": QueueHandler(),
    "dial": DialHandler(),
}


def handler_for(node: Node) -> NodeHandler:
    """The handler registered for a node's kind."""
    return HANDLERS[node.kind]

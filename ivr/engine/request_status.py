"""Engine behaviour of the request-status node.

Ask for the number (keys, or speech recorded and recognised offline by the web layer), read it
back in groups and confirm, then tell the status. Two misses and the keypad alone is offered;
three and the caller goes to a person. Side effects are actions: ``recognize_number``,
``lookup_request``, ``escalate_request``.
"""

from __future__ import annotations

import re
from datetime import datetime

from ivr.domain.schedule import Schedule, describe_slot
from ivr.domain.spoken import digits_in_groups
from ivr.engine.handlers import HANDLERS
from ivr.engine.run import WAIT, Goto, Outcome, Run
from ivr.engine.service_handlers import remember_request
from ivr.engine.state import Event
from ivr.engine.steps import ActionRequest, Gather, Record, Say
from ivr.flows.service_nodes import RequestStatusNode
from ivr.flows.words import normalise_speech

STAGE, MISSES, CANDIDATE = "_rs_stage", "_rs_misses", "_rs_candidate"
MIN_DIGITS, MAX_DIGITS = 6, 10
# Misses after which speech is no longer offered, and after which a person takes over.
KEYPAD_ONLY_AFTER, OPERATOR_AFTER = 2, 3
YES_WORDS = ("да", "верно", "правильно", "yes", "correct")
NO_WORDS = ("нет", "неверно", "no")
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def speech_available(run: Run) -> bool:
    """True when this server recognises speech (set at call start by the web layer)."""
    return run.state.vars.get("asr") == "1"


def _said(text: str, words: tuple[str, ...]) -> bool:
    heard = normalise_speech(text).split()
    return any(word in heard for word in words)


class RequestStatusHandler:
    """ask → (recognise) → confirm → lookup → status (→ escalation offer)."""

    def enter(self, node_id: str, node: RequestStatusNode, run: Run) -> Outcome:
        run.state.vars[MISSES] = "0"
        return self._ask(node, run)

    def resume(self, node_id: str, node: RequestStatusNode, event: Event, run: Run) -> Outcome:
        stage = run.state.vars.get(STAGE, "ask")
        if event.kind == "action":
            return self._on_result(node, event, run)
        if stage == "ask":
            if event.kind == "digits":
                number = event.digits.rstrip("#")
                if number.isdigit() and MIN_DIGITS <= len(number) <= MAX_DIGITS:
                    return self._confirm(node, run, number)
                return self._miss(node, run, node.not_understood)
            if event.kind == "recording" and event.data.get("sid"):
                return ActionRequest("recognize_number", {"recording_sid": event.data["sid"]})
            return self._miss(node, run, node.not_understood)
        if stage == "confirm":
            key = event.digits[:1] if event.kind == "digits" else ""
            if key == "1" or (event.kind == "speech" and _said(event.speech, YES_WORDS)):
                return ActionRequest("lookup_request", {"number": run.state.vars[CANDIDATE]})
            if key == "2" or (event.kind == "speech" and _said(event.speech, NO_WORDS)):
                return self._miss(node, run, [])
            if key == "*":
                return self._confirm(node, run, run.state.vars[CANDIDATE])
            return self._miss(node, run, node.not_understood)
        if stage == "escalated":
            # ✱ says the new request number (and when we call) again; anything else goes on.
            if event.kind == "digits" and event.digits[:1] == "*":
                return self._tell_escalation(node, run)
            return self._leave(node, run)
        # stage == "overdue"
        if event.kind == "digits" and event.digits[:1] == "1":
            return ActionRequest("escalate_request", {"number": run.state.vars[CANDIDATE]})
        return self._leave(node, run)

    def _ask(self, node: RequestStatusNode, run: Run) -> Outcome:
        run.state.vars[STAGE] = "ask"
        misses = int(run.state.vars.get(MISSES, "0"))
        spoken = (
            node.speech
            and speech_available(run)
            and run.profile.speech != "off"
            and misses < KEYPAD_ONLY_AFTER
        )
        record = (
            Record(max_length=node.max_speech, timeout=3, purpose="request_number")
            if spoken
            else None
        )
        run.steps.append(
            Gather(
                prompts=tuple(run.prompts(node.say if spoken else node.ask_keys)),
                lang=run.state.lang,
                timeout=5 if spoken else node.timeout,
                num_digits=None,
                finish_on_key="#",
                then_record=record,
            )
        )
        return WAIT

    def _confirm(self, node: RequestStatusNode, run: Run, number: str) -> Outcome:
        run.state.vars[STAGE] = "confirm"
        run.state.vars[CANDIDATE] = number
        run.state.vars["candidate_number"] = digits_in_groups(number, run.state.lang)
        # «да» is heard unless the caller chose keys only (the keypad profile).
        speech = run.profile.speech != "off"
        run.steps.append(
            Gather(
                prompts=tuple(run.prompts(node.confirm, keys_only=not speech)),
                lang=run.state.lang,
                timeout=node.timeout,
                num_digits=1,
                speech=speech,
                hints=(("да", "нет") if run.state.lang == "ru" else ("yes", "no"))
                if speech
                else (),
            )
        )
        return WAIT

    def _miss(self, node: RequestStatusNode, run: Run, prompts: list[str]) -> Outcome:
        misses = int(run.state.vars.get(MISSES, "0")) + 1
        run.state.vars[MISSES] = str(misses)
        if misses >= OPERATOR_AFTER:
            # Say what went wrong before handing over, never a silent transfer.
            run.say(prompts)
            target = node.operator or run.flow.defaults.operator or node.next
            return self._leave(node, run, target)
        run.say(prompts)
        return self._ask(node, run)

    def _on_result(self, node: RequestStatusNode, event: Event, run: Run) -> Outcome:
        data = event.data
        action = data.get("action")
        if action == "recognize_number":
            digits = str(data.get("digits") or "")
            if digits and MIN_DIGITS <= len(digits) <= MAX_DIGITS:
                return self._confirm(node, run, digits)
            return self._miss(
                node, run, node.ambiguous if data.get("ambiguous") else node.not_understood
            )
        if action == "lookup_request":
            if not data.get("found"):
                return self._miss(node, run, node.unknown)
            remember_request(run, run.state.vars[CANDIDATE])
            code = str(data.get("status", ""))
            status_prompt = node.status_texts.get(code)
            run.state.vars["request_status"] = run.text(status_prompt) if status_prompt else code
            run.say(node.found)
            if data.get("due"):
                run.state.vars["request_due"] = str(data["due"])
                passed = data.get("due_passed") or data.get("overdue")
                run.say(node.due_passed if passed else node.due)
            self._say_next_step(node, run, str(data.get("category", "")), data.get("next_step"))
            if data.get("overdue"):
                run.state.vars[STAGE] = "overdue"
                run.steps.append(
                    Gather(
                        prompts=tuple(run.prompts(node.overdue)),
                        lang=run.state.lang,
                        timeout=node.timeout,
                        num_digits=1,
                    )
                )
                return WAIT
            return self._leave(node, run)
        # escalate_request
        remember_request(run, str(data["request_number"]))
        run.state.vars.pop("slot", None)
        if data.get("slot_start"):
            start = datetime.fromisoformat(str(data["slot_start"]))
            end = datetime.fromisoformat(str(data["slot_end"]))
            schedule = run.flow.runtime_schedule or Schedule(weekly={})
            run.state.vars["slot"] = describe_slot(schedule, run.now, start, end, run.state.lang)
        return self._tell_escalation(node, run)

    def _tell_escalation(self, node: RequestStatusNode, run: Run) -> Outcome:
        """The new request number and when the senior specialist calls, in a short wait
        for ✱ (say it again)."""
        run.state.vars[STAGE] = "escalated"
        call = node.escalated_call if run.state.vars.get("slot") else node.escalated_no_call
        run.steps.append(
            Gather(
                prompts=tuple(run.prompts([*node.escalated, *call, *node.repeat_offer])),
                lang=run.state.lang,
                timeout=node.repeat_timeout,
                num_digits=1,
            )
        )
        return WAIT

    def _say_next_step(
        self, node: RequestStatusNode, run: Run, category: str, text: object
    ) -> None:
        """What happens next: our own prompt for the requests we register, else the back
        office's text, said only when it is in the call's language."""
        prompt = node.next_step_texts.get(category)
        if prompt is not None:
            run.say([prompt])
        elif text:
            # The back office writes Russian; an English voice cannot read it.
            if run.state.lang == "ru" or not _CYRILLIC.search(str(text)):
                run.steps.append(Say(str(text), run.state.lang))
            else:
                run.say(node.next_step_untranslated)

    def _leave(self, node: RequestStatusNode, run: Run, target: str | None = None) -> Outcome:
        for key in (STAGE, MISSES):
            run.state.vars.pop(key, None)
        return Goto(target or node.next)


HANDLERS["request_status"] = RequestStatusHandler()
__all__ = ["RequestStatusHandler"]

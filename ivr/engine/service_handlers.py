"""Engine behaviour of the voicemail and callback nodes.

Each asks the web layer for its side effects by name (``save_voicemail``,
``find_callback_slot``, ``book_callback``) and continues when the result comes back as an
``action`` event, so it stays pure.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ivr.domain.phones import is_valid_russian, to_e164
from ivr.domain.schedule import Schedule, describe_slot
from ivr.domain.spoken import digits_in_groups, phone_in_groups
from ivr.engine.handlers import HANDLERS
from ivr.engine.run import END, WAIT, Goto, Outcome, Run
from ivr.engine.state import Event
from ivr.engine.steps import ActionRequest, Gather, Record
from ivr.flows.service_nodes import CallbackNode, TextAlternativeNode, VoicemailNode

STAGE = "_stage"
LAST_EVENT = "_last_event"


def remember_request(run: Run, number: str) -> None:
    """Keep a request number for prompts: digits, and the words a voice reads them as."""
    run.state.vars["request_digits"] = number
    run.state.vars["request_number"] = digits_in_groups(number, run.state.lang)


class VoicemailHandler:
    """Record → too short? record again → save (action) → tell the request number."""

    def enter(self, node_id: str, node: VoicemailNode, run: Run) -> Outcome:
        run.reset_attempts(node_id)
        run.say(node.say)
        self._record(node, run)
        return WAIT

    def resume(self, node_id: str, node: VoicemailNode, event: Event, run: Run) -> Outcome:
        if event.kind == "action":
            remember_request(run, str(event.data["request_number"]))
            run.say(node.saved)
            return Goto(node.next)
        sid = str(event.data.get("sid", "")) if event.kind == "recording" else ""
        duration = _int(event.data.get("duration")) if event.kind == "recording" else 0
        if sid and duration >= node.min_length:
            # The SMS text goes as a template: only the web layer knows the request number.
            sms = "".join(run.flow.prompt_text(run.state.lang, pid) for pid in node.sms)
            return ActionRequest(
                "save_voicemail", {"recording_sid": sid, "duration": duration, "sms": sms}
            )
        if run.attempt(node_id) > node.retries:
            run.reset_attempts(node_id)
            return Goto(node.on_failure or node.next)
        run.say(node.too_short)
        self._record(node, run)
        return WAIT

    def _record(self, node: VoicemailNode, run: Run) -> None:
        run.steps.append(
            Record(max_length=node.max_length, purpose="voicemail", min_length=node.min_length)
        )


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


class CallbackHandler:
    """Confirm the number (or key one in) → offer the next free slot → book it."""

    def enter(self, node_id: str, node: CallbackNode, run: Run) -> Outcome:
        run.reset_attempts(node_id)
        caller = to_e164(run.state.vars.get("caller", "")) or ""
        if node.immediate and caller and is_valid_russian(caller):
            run.state.vars["callback_phone"] = caller
            run.state.vars["slot_minutes"] = str(node.slot_minutes)
            # If it cannot be now, the next free slot after this moment is offered instead.
            run.state.vars["slot_start"] = run.now.isoformat()
            return ActionRequest(
                "book_callback",
                {
                    "phone": caller,
                    "slot_start": run.now.isoformat(),
                    "slot_end": (run.now + timedelta(minutes=node.slot_minutes)).isoformat(),
                    "capacity": node.capacity,
                    "callback_flow": node.callback_flow,
                    "immediate": True,
                },
            )
        if caller and is_valid_russian(caller):
            run.state.vars["caller_number"] = phone_in_groups(caller, run.state.lang)
            return self._ask(node, run, "confirm", node.say)
        return self._ask(node, run, "number", node.enter_number)

    def resume(self, node_id: str, node: CallbackNode, event: Event, run: Run) -> Outcome:
        if event.kind == "action":
            return self._on_result(node_id, node, event, run)
        stage = run.state.vars.get(STAGE, "confirm")
        # Remembered for the retry: silence and a wrong key are answered differently.
        run.state.vars[LAST_EVENT] = event.kind
        key = event.digits[:1] if event.kind == "digits" else ""
        if stage == "confirm":
            if key == "1":
                return self._find(node, run, to_e164(run.state.vars["caller"]) or "", "")
            if key == "2":
                return self._ask(node, run, "number", node.enter_number)
            if key == "*":
                return self._ask(node, run, "confirm", node.say)
            return self._retry(node_id, node, run, "confirm", node.say)
        if stage == "number":
            number = to_e164(event.digits.rstrip("#")) if event.kind == "digits" else None
            if number is not None and is_valid_russian(number):
                return self._find(node, run, number, "")
            if event.kind == "digits":
                run.say(node.bad_number)
            return self._retry(node_id, node, run, "number", node.enter_number)
        # stage == "offer"
        if key == "1":
            return ActionRequest("book_callback", self._slot_args(node, run))
        if key == "2":
            return self._find(
                node, run, run.state.vars["callback_phone"], run.state.vars["slot_end"]
            )
        return self._retry(node_id, node, run, "offer", node.offer)

    def _ask(self, node: CallbackNode, run: Run, stage: str, prompts: list[str]) -> Outcome:
        run.state.vars[STAGE] = stage
        keyed_number = stage == "number"
        run.steps.append(
            Gather(
                prompts=tuple(run.prompts(prompts)),
                lang=run.state.lang,
                timeout=node.timeout + (7 if keyed_number else 0),
                num_digits=None if keyed_number else 1,
                finish_on_key="#" if keyed_number else None,
            )
        )
        return WAIT

    def _retry(
        self, node_id: str, node: CallbackNode, run: Run, stage: str, prompts: list[str]
    ) -> Outcome:
        if run.attempt(node_id) > node.retries:
            run.reset_attempts(node_id)
            run.state.vars.pop(STAGE, None)
            run.say(node.not_booked)
            return Goto(node.on_failure or node.next)
        if stage != "number":
            silent = run.state.vars.get(LAST_EVENT) == "timeout"
            run.say(run.flow.defaults.no_input if silent else run.flow.defaults.no_match)
        return self._ask(node, run, stage, prompts)

    def _find(self, node: CallbackNode, run: Run, phone: str, after: str) -> Outcome:
        run.state.vars["callback_phone"] = phone
        return ActionRequest(
            "find_callback_slot",
            {
                "phone": phone,
                "after": after,
                "slot_minutes": node.slot_minutes,
                "capacity": node.capacity,
                "lead_minutes": node.lead_minutes,
                "horizon_days": node.horizon_days,
            },
        )

    def _slot_args(self, node: CallbackNode, run: Run) -> dict[str, object]:
        return {
            "phone": run.state.vars["callback_phone"],
            "slot_start": run.state.vars["slot_start"],
            "slot_end": run.state.vars["slot_end"],
            "capacity": node.capacity,
            "callback_flow": node.callback_flow,
        }

    def _on_result(self, node_id: str, node: CallbackNode, event: Event, run: Run) -> Outcome:
        data = event.data
        if data.get("existing"):
            self._remember_slot(run, str(data["slot_start"]), str(data["slot_end"]))
            remember_request(run, str(data["request_number"]))
            run.say(node.already_booked)
            return self._done(node, run)
        if data.get("action") == "book_callback" and data.get("ok"):
            remember_request(run, str(data["request_number"]))
            immediate = node.immediate and STAGE not in run.state.vars
            run.say(node.booked_now if immediate else node.booked)
            return self._done(node, run)
        if data.get("action") == "book_callback":
            # The slot filled up meanwhile: offer the next one.
            return self._find(
                node, run, run.state.vars["callback_phone"], run.state.vars["slot_start"]
            )
        if not data.get("slot_start"):
            run.say(node.no_slots)
            return self._done(node, run, failed=True)
        self._remember_slot(run, str(data["slot_start"]), str(data["slot_end"]))
        return self._ask(node, run, "offer", node.offer)

    def _remember_slot(self, run: Run, start_iso: str, end_iso: str) -> None:
        start, end = datetime.fromisoformat(start_iso), datetime.fromisoformat(end_iso)
        schedule = run.flow.runtime_schedule or Schedule(weekly={})
        run.state.vars["slot"] = describe_slot(schedule, run.now, start, end, run.state.lang)
        run.state.vars["slot_start"], run.state.vars["slot_end"] = start_iso, end_iso

    def _done(self, node: CallbackNode, run: Run, failed: bool = False) -> Outcome:
        run.state.vars.pop(STAGE, None)
        if failed and node.on_failure is not None:
            return Goto(node.on_failure)
        return Goto(node.next)


class TextAlternativeHandler:
    """Offer (or just send) an SMS with the channels; tell the caller whether it went."""

    def enter(self, node_id: str, node: TextAlternativeNode, run: Run) -> Outcome:
        if not node.ask:
            return self._send(node, run)
        run.steps.append(
            Gather(
                prompts=tuple(run.prompts(node.say)),
                lang=run.state.lang,
                timeout=node.timeout,
                num_digits=1,
            )
        )
        return WAIT

    def resume(self, node_id: str, node: TextAlternativeNode, event: Event, run: Run) -> Outcome:
        if event.kind == "action":
            run.say(node.sent if event.data.get("sent") else node.not_sent)
            return Goto(node.next)
        if event.kind == "digits" and event.digits[:1] == "1":
            return self._send(node, run)
        return Goto(node.next)

    def _send(self, node: TextAlternativeNode, run: Run) -> Outcome:
        text = " ".join(run.text(pid, spoken=False) for pid in node.sms)
        return ActionRequest("send_text", {"text": text})


HANDLERS["voicemail"] = VoicemailHandler()
HANDLERS["text_alternative"] = TextAlternativeHandler()
HANDLERS["callback"] = CallbackHandler()
__all__ = ["END", "CallbackHandler", "VoicemailHandler", "remember_request"]

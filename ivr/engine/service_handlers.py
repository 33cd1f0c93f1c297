"""Engine behaviour of the voicemail and callback nodes.

Each asks the web layer for its side effects by name (``save_voicemail``,
``find_callback_slot``, ``book_callback``) and continues when the result comes back as an
``action`` event, so it stays pure.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from ivr.domain.phones import is_callable, keyed_in, to_e164
from ivr.domain.schedule import MOSCOW, Schedule, describe_slot
from ivr.domain.spoken import digits_in_groups, phone_in_groups
from ivr.engine.handlers import HANDLERS
from ivr.engine.run import END, WAIT, Goto, Outcome, Run
from ivr.engine.state import Event
from ivr.engine.steps import ActionRequest, Gather, Record
from ivr.flows.service_nodes import CallbackNode, TextAlternativeNode, VoicemailNode

STAGE = "_stage"
VOICEMAIL_TOLD = "_voicemail_told"
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
            run.state.vars[VOICEMAIL_TOLD] = "sms" if event.data.get("sms") else "told"
            return self._tell(node, run)
        if run.state.vars.get(VOICEMAIL_TOLD):
            # After the request number: ✱ says it again, anything else goes on.
            if event.kind == "digits" and event.digits[:1] == "*":
                return self._tell(node, run)
            run.state.vars.pop(VOICEMAIL_TOLD, None)
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

    def _tell(self, node: VoicemailNode, run: Run) -> Outcome:
        sms = run.state.vars.get(VOICEMAIL_TOLD) == "sms"
        prompts = [*node.saved, *(node.sms_coming if sms else []), *node.repeat_offer]
        run.steps.append(
            Gather(
                prompts=tuple(run.prompts(prompts)),
                lang=run.state.lang,
                timeout=node.repeat_timeout,
                num_digits=1,
            )
        )
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


TOLD = "_told"
KEYED = "_keyed"
SMS_SENT = "_sms"
LATER = "_later"


def _international(run: Run) -> bool:
    return run.flow.defaults.callback_numbers == "international"


def _enter_number(node: CallbackNode, run: Run) -> list[str]:
    return node.enter_number_international if _international(run) else node.enter_number


def later_than(node: CallbackNode, run: Run) -> str:
    """Where «более позднее время» looks from: the next of the node's day parts after the
    slot offered, and at least ``later_gap_minutes`` after it (Moscow time, ISO)."""
    offered = datetime.fromisoformat(run.state.vars["slot_start"]).astimezone(MOSCOW)
    gap = offered + timedelta(minutes=node.later_gap_minutes)
    starts = [
        datetime.combine(offered.date() + timedelta(days=days), time.fromisoformat(part), MOSCOW)
        for days in (0, 1)
        for part in node.later_day_parts
    ]
    next_part = min((start for start in starts if start > offered), default=gap)
    return max(gap, next_part).isoformat()


class CallbackHandler:
    """Confirm the number (or key one in) → offer the next free slot → book it → tell the
    time and the request number (✱ repeats them).

    An ``immediate`` node books the caller's own number for right away; when nobody can call
    now it books the next free slot by itself and tells it: the caller may refuse (2)."""

    def enter(self, node_id: str, node: CallbackNode, run: Run) -> Outcome:
        run.reset_attempts(node_id)
        run.state.vars.pop(TOLD, None)
        run.state.vars.pop(LATER, None)
        caller = to_e164(run.state.vars.get("caller", "")) or ""
        callable_caller = bool(caller) and is_callable(caller, _international(run))
        if node.immediate and callable_caller:
            run.state.vars["callback_phone"] = caller
            run.state.vars["slot_minutes"] = str(node.slot_minutes)
            # If it cannot be now, the next free slot after this moment is booked instead.
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
                    "sms": self._sms(node, run),
                },
            )
        if callable_caller:
            run.state.vars["caller_number"] = phone_in_groups(caller, run.state.lang)
            return self._ask(node, run, "confirm", node.say)
        return self._ask(node, run, "number", _enter_number(node, run))

    def resume(self, node_id: str, node: CallbackNode, event: Event, run: Run) -> Outcome:
        if event.kind == "action":
            return self._on_result(node_id, node, event, run)
        stage = run.state.vars.get(STAGE, "confirm")
        # Remembered for the retry: silence and a wrong key are answered differently.
        run.state.vars[LAST_EVENT] = event.kind
        key = event.digits[:1] if event.kind == "digits" else ""
        if stage == "told":
            return self._after_telling(node, run, key)
        if stage == "confirm":
            if key == "1":
                return self._find(node, run, to_e164(run.state.vars["caller"]) or "", "")
            if key == "2":
                return self._ask(node, run, "number", _enter_number(node, run))
            if key == "*":
                return self._ask(node, run, "confirm", node.say)
            return self._retry(node_id, node, run, "confirm", node.say)
        if stage == "number":
            intl = _international(run)
            number = keyed_in(event.digits, intl) if event.kind == "digits" else None
            if number is not None and is_callable(number, intl):
                # Read back in groups before it is used: a digit mistyped is heard.
                run.state.vars[KEYED] = number
                run.state.vars["keyed_number"] = phone_in_groups(number, run.state.lang)
                return self._ask(node, run, "readback", node.confirm_keyed)
            if event.kind == "digits":
                run.say(node.bad_number_international if intl else node.bad_number)
            return self._retry(node_id, node, run, "number", _enter_number(node, run))
        if stage == "readback":
            if key == "1":
                return self._find(node, run, run.state.vars[KEYED], "")
            if key == "2":
                return self._ask(node, run, "number", _enter_number(node, run))
            if key == "*":
                return self._ask(node, run, "readback", node.confirm_keyed)
            return self._retry(node_id, node, run, "readback", node.confirm_keyed)
        # stage == "offer"
        offer = node.offer_later if run.state.vars.get(LATER) else node.offer
        if key == "1":
            return ActionRequest("book_callback", self._slot_args(node, run))
        if key == "2":
            run.state.vars[LATER] = "1"
            return self._find(node, run, run.state.vars["callback_phone"], later_than(node, run))
        return self._retry(node_id, node, run, "offer", offer)

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
            "sms": self._sms(node, run),
        }

    def _sms(self, node: CallbackNode, run: Run) -> str:
        # A template: only the web layer knows the request number ({request_digits}).
        return "".join(run.flow.prompt_text(run.state.lang, pid) for pid in node.sms)

    def _on_result(self, node_id: str, node: CallbackNode, event: Event, run: Run) -> Outcome:
        data = event.data
        auto = run.state.vars.get(STAGE) == "auto"
        if data.get("action") == "cancel_callback":
            run.state.vars.pop(STAGE, None)
            run.state.vars.pop(TOLD, None)
            run.say(node.refused)
            return Goto(node.on_refuse or node.next)
        if data.get("existing"):
            self._remember_slot(run, str(data["slot_start"]), str(data["slot_end"]))
            remember_request(run, str(data["request_number"]))
            return self._tell(node, run, "already_booked", sms=False)
        if data.get("action") == "book_callback" and data.get("ok"):
            remember_request(run, str(data["request_number"]))
            sms = bool(data.get("sms"))
            if auto:
                return self._tell(node, run, "booked_auto", sms=sms)
            immediate = node.immediate and STAGE not in run.state.vars
            return self._tell(node, run, "booked_now" if immediate else "booked", sms=sms)
        if data.get("action") == "book_callback":
            if node.immediate and STAGE not in run.state.vars:
                # Nobody can call right now: the next free slot is booked by itself, as the
                # line promises, and the caller may refuse it.
                run.state.vars[STAGE] = "auto"
            # The slot filled up meanwhile (or it cannot be now): find the next one.
            return self._find(
                node, run, run.state.vars["callback_phone"], run.state.vars["slot_start"]
            )
        if not data.get("slot_start"):
            run.say(node.no_slots)
            return self._done(node, run, failed=True)
        self._remember_slot(run, str(data["slot_start"]), str(data["slot_end"]))
        if auto:
            return ActionRequest("book_callback", self._slot_args(node, run))
        later = bool(run.state.vars.get(LATER))
        return self._ask(node, run, "offer", node.offer_later if later else node.offer)

    def _told_prompts(self, node: CallbackNode, run: Run) -> list[str]:
        told = run.state.vars.get(TOLD, "booked")
        prompts = list(getattr(node, told))
        if run.state.vars.get(SMS_SENT):
            prompts += node.sms_coming
        if told == "booked_auto":
            prompts += node.refuse_offer
        return [*prompts, *node.repeat_offer]

    def _tell(self, node: CallbackNode, run: Run, told: str, *, sms: bool) -> Outcome:
        """Say the booking and its request number in a short wait for ✱ (say it again)
        or, for a booking the caller did not ask for, 2 (refuse it)."""
        run.state.vars[TOLD] = told
        if sms:
            run.state.vars[SMS_SENT] = "1"
        else:
            run.state.vars.pop(SMS_SENT, None)
        run.state.vars[STAGE] = "told"
        run.steps.append(
            Gather(
                prompts=tuple(run.prompts(self._told_prompts(node, run))),
                lang=run.state.lang,
                timeout=node.repeat_timeout,
                num_digits=1,
            )
        )
        return WAIT

    def _after_telling(self, node: CallbackNode, run: Run, key: str) -> Outcome:
        told = run.state.vars.get(TOLD, "booked")
        if key == "*":
            return self._tell(node, run, told, sms=bool(run.state.vars.get(SMS_SENT)))
        if key == "2" and told == "booked_auto":
            return ActionRequest(
                "cancel_callback", {"request_number": run.state.vars["request_digits"]}
            )
        run.state.vars.pop(TOLD, None)
        run.state.vars.pop(SMS_SENT, None)
        return self._done(node, run)

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


# Why ``send_text`` sent nothing (its result's ``reason``): the caller's number is not a
# mobile one (a landline: no SMS can go there, ever), the caller's number is unknown, or no
# SMS sender is configured.
NOT_MOBILE = "not_mobile"
NO_NUMBER = "no_number"
NO_SENDER = "no_sender"


class TextAlternativeHandler:
    """Offer (or just send) an SMS with the channels; tell the caller whether it went, and
    a caller on a landline what the node says instead (``landline``)."""

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
            if event.data.get("sent"):
                run.say(node.sent)
            elif event.data.get("reason") == NOT_MOBILE and node.landline:
                run.say(node.landline_prompts())
            else:
                run.say(node.not_sent)
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
__all__ = [
    "END",
    "NOT_MOBILE",
    "NO_NUMBER",
    "NO_SENDER",
    "CallbackHandler",
    "VoicemailHandler",
    "remember_request",
]

"""Answering one webhook of a call: load its state, run the engine, save, render TwiML.

This is the only place that joins the pure engine to the database and to TwiML. A turn is
stored at most once: a webhook that Twilio retries, or two that race for the same turn, are
answered with the TwiML the call's turn was answered with, never moving the call on twice; and
anything a turn stores is committed before the answer goes back to Twilio.

Most turns (a menu, a prompt, a queue) only read and write the call's row (``Database.turn``):
read without a lock, worked out, stored only if the call is still at the turn that was read.
A call's first turn is the same: it looks for the row, works the start out, and inserts the
row only if no other delivery of the webhook has inserted it meanwhile; it takes an ORM
session only for a callback's booking, a flow version's first snapshot, or an action.
Side effects are named actions (``ActionTable``):

* actions that write the database run inside the turn's transaction, in an ORM session, with
  the call's row locked;
* slow actions (fetching and recognising a recording) never run while the row is locked:
  the transaction is given up, the action runs, and the turn starts again with its result.

Starting again is safe because the engine is pure: the same state, event and time reach the
same action again, and this time its result is at hand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from ivr.config import Settings
from ivr.domain.privacy import mask_input, mask_phone, mask_text
from ivr.domain.spoken import digits_in_groups
from ivr.engine.interpreter import Turn, advance, new_state
from ivr.engine.queue_wait import wait_steps, wants_to_leave
from ivr.engine.state import CallState, Event
from ivr.engine.steps import ActionRequest, LeaveQueue, Pause, Step
from ivr.errors import IvrError
from ivr.flows.model import Flow
from ivr.flows.nodes import QueueNode
from ivr.flows.registry import FlowRegistry
from ivr.services.events import NO_EVENTS, UNKNOWN_LINE, CallEvents, direction_label, line_label
from ivr.store.call_records import CallRecord, NewCall, call_rows, read_call
from ivr.store.db import Database, Statements, TurnStatements
from ivr.store.models import Call, Callback, FlowVersion
from ivr.store.upsert import insert_ignore
from ivr.telephony.carrier_fields import confidence, whole_seconds
from ivr.telephony.recordings import is_recording_sid
from ivr.telephony.twiml import TwimlRenderer, language_tag

log = logging.getLogger(__name__)

# An engine turn that asks for more actions than this in a row is a flow bug.
MAX_ACTIONS = 10

# Last-resort texts, used when the flows themselves cannot be (an unknown number, a crash).
UNKNOWN_NUMBER_TEXT = (
    "Здравствуйте! К сожалению, этот номер не обслуживается. "
    "Позвоните, пожалуйста, по номеру 8 800 555 35 35. До свидания!"
)


@dataclass(frozen=True)
class TurnResult:
    """A turn's TwiML and new state."""

    twiml: str
    state: CallState
    # Work for after the commit (text messages): never inside the write transaction.
    after_commit: tuple[Callable[[], object], ...] = ()


@dataclass
class ActionContext:
    """What a side-effect handler may use: the open transaction, the call, the time."""

    session: Session
    call: CallRecord
    flow: Flow
    state: CallState
    now: datetime
    settings: Settings
    # Network work a handler needs done once the turn is committed (e.g. an SMS), so that
    # neither a slow API holds the database lock nor a rolled-back turn sends anything.
    after_commit: list[Callable[[], object]] = field(default_factory=list)


ActionHandler = Callable[[ActionRequest, ActionContext], Mapping[str, Any]]


@dataclass(frozen=True)
class SlowActionContext:
    """What a slow action may use: the call as it stood, the time; no database."""

    call: CallRecord
    now: datetime
    settings: Settings


SlowActionHandler = Callable[[ActionRequest, SlowActionContext], Mapping[str, Any]]


@dataclass(frozen=True)
class ActionTable:
    """The side-effect handlers, by action name.

    ``in_transaction`` handlers store things, inside the turn's transaction (an ORM session,
    the call's row locked). ``slow`` handlers do network or heavy work and touch no database:
    they run before the transaction, so that no other turn waits for them.
    """

    in_transaction: Mapping[str, ActionHandler] = field(default_factory=dict)
    slow: Mapping[str, SlowActionHandler] = field(default_factory=dict)
    # In-transaction actions that store nothing a caller left (a lookup; a text, which
    # goes out after the commit): a turn that runs nothing else commits without waiting
    # for the disk (``Database.transaction(durable=False)``). A power cut could then lose
    # the call's last turn, never a voicemail, booking or request.
    read_only: frozenset[str] = frozenset()


class CallError(IvrError):
    """A webhook that cannot be matched to a call."""


# A turn that needs what its transaction cannot give raises one of these (control flow, not
# errors, hence not IvrError): the transaction is rolled back and the turn tried again.
class _NeedsSlowAction(Exception):
    """Run this slow action first, outside any transaction."""

    def __init__(self, action: ActionRequest, call: CallRecord) -> None:
        super().__init__(action.name)
        self.action = action
        self.call = call


class _NeedsSession(Exception):
    """An action needs an ORM session: run the turn in one, ``durable`` when the action
    stores something a caller left (SQLite sets how a commit is synced before it begins)."""

    def __init__(self, durable: bool) -> None:
        super().__init__("durable" if durable else "session")
        self.durable = durable


# How an attempt at a turn runs: plain statements (None), or an ORM session that is
# durable (True) or not (False).
SessionMode = bool | None


def _action_key(action: ActionRequest) -> str:
    return f"{action.name}{sorted(action.args.items())!r}"


# Results of the slow actions a turn has run so far, by action and arguments.
SlowResults = Mapping[str, Mapping[str, Any]]
# A turn's TwiML, and the work to do once it is committed.
Answer = tuple[str, tuple[Callable[[], object], ...]]


# A turn starts again at most once per slow action, once for an ORM session and once more
# for a durable one.
MAX_ATTEMPTS = MAX_ACTIONS + 3
# How long a process trusts its memo that a flow version's snapshot is stored.
SNAPSHOT_REFRESH_SECONDS = 60.0


def event_from(params: Mapping[str, str], ev: str | None) -> Event:
    """The engine event a webhook carries, from Twilio's form fields.

    A malformed field is no input (the caller is asked again), never an exception: a
    recording whose RecordingSid is not Twilio's, or a duration or confidence that is not
    a number, is logged and heard as silence or as speech of unknown confidence.
    """
    if ev == "timeout":
        return Event.timeout()
    # A <Record> action also carries Digits (the key that ended it): a recording first.
    if params.get("RecordingSid") or params.get("RecordingUrl"):
        sid = params.get("RecordingSid", "")
        duration = whole_seconds(params.get("RecordingDuration", "0"))
        if not is_recording_sid(sid) or duration is None:
            log.warning(
                "call %s: a recording with a malformed RecordingSid or RecordingDuration; "
                "taken as no input",
                params.get("CallSid", "?"),
            )
            return Event.timeout()
        return Event(
            "recording",
            data={
                "sid": sid,
                "url": params.get("RecordingUrl", ""),
                "duration": str(duration),
                # The key that ended the recording (# or "hangup"), not an answer.
                "finish_key": params.get("Digits", ""),
            },
        )
    if params.get("Digits"):
        return Event("digits", digits=params["Digits"])
    if params.get("SpeechResult"):
        return Event(
            "speech",
            speech=params["SpeechResult"],
            confidence=confidence(params.get("Confidence")),
        )
    if params.get("QueueResult"):
        return Event("queue", data={"result": params["QueueResult"]})
    if params.get("DialCallStatus"):
        return Event("dial", data={"status": params["DialCallStatus"]})
    return Event.timeout()


def _run_after_commit(sid: str, work: tuple[Callable[[], object], ...]) -> None:
    """Run what a committed turn left to do; a failure is logged, the caller is answered."""
    for job in work:
        try:
            job()
        except Exception:
            log.exception("call %s: work after the turn failed", sid)


def _seconds(value: str | None) -> int:
    return whole_seconds(value) or 0


def _log_input(event: Event) -> dict[str, Any] | None:
    if event.kind == "digits":
        return {"kind": "digits", "value": mask_input(event.digits)}
    if event.kind == "speech":
        return {"kind": "speech", "value": mask_text(event.speech)}
    if event.kind in ("timeout", "queue", "dial"):
        return {"kind": event.kind, **{k: str(v) for k, v in event.data.items()}}
    if event.kind == "recording":
        return {"kind": "recording", "duration": str(event.data.get("duration", ""))}
    return None


class CallService:
    """Answers the voice webhooks of every call, on any worker."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        registry: FlowRegistry,
        renderer: TwimlRenderer,
        actions: ActionTable | None = None,
        speech_available: bool = False,
        events: CallEvents = NO_EVENTS,
    ) -> None:
        self.speech_available = speech_available
        # Told of every call started and ended and every turn, once each, after its commit.
        self.events = events
        self.settings = settings
        self.db = db
        self.registry = registry
        self.renderer = renderer
        self.actions = actions or ActionTable()
        self.rows = call_rows(db.dialect, db.driver)
        # Flow versions this process has stored, with the monotonic time it last did: a new
        # call of a version stored within SNAPSHOT_REFRESH_SECONDS skips the INSERT … ON
        # CONFLICT DO NOTHING of its snapshot. Storing stays idempotent, so other processes
        # and a lost memo need nothing; refreshing the memo lets a database emptied or
        # restored under a running server get its snapshots back within that time.
        self._stored_versions: dict[str, float] = {}

    # -- the webhooks ---------------------------------------------------------------------

    def incoming(
        self,
        params: Mapping[str, str],
        now: datetime,
        flow_name: str | None = None,
        callback_id: int | None = None,
    ) -> str:
        """A new call: find the flow of the dialled number and run it from the start.

        Outbound calls placed by the dispatcher name their flow (and the callback booking)
        instead, since the number they dial is the caller's, not one of our lines.
        """
        sid = params.get("CallSid", "")
        if not sid:
            raise CallError("the webhook has no CallSid")

        def attempt(mode: SessionMode, slow_results: SlowResults) -> Answer:
            if mode is None:
                # As a menu turn: plain statements, the row inserted only if no delivery of
                # this webhook has inserted it meanwhile (``INSERT … ON CONFLICT DO NOTHING``).
                with self.db.turn() as plain:
                    if self.rows.read(plain, sid) is not None:
                        log.info("call %s: incoming webhook repeated, answering as before", sid)
                        return self._last_answer(plain, sid), ()
                    return self._start(
                        plain, None, sid, params, now, flow_name, callback_id, slow_results
                    )
            # A booking to read, a flow snapshot to store, or an action at the start: an ORM
            # session, with the row locked against a second delivery.
            with self.db.transaction(mode) as session:
                statements = TurnStatements.of(session)
                if self.rows.lock(statements, sid) is not None:
                    log.info("call %s: incoming webhook repeated, answering as before", sid)
                    return self._last_answer(statements, sid), ()
                return self._start(
                    statements,
                    (session, mode),
                    sid,
                    params,
                    now,
                    flow_name,
                    callback_id,
                    slow_results,
                )

        return self._settle(sid, attempt, now)

    def _start(
        self,
        statements: Statements,
        in_session: tuple[Session, bool] | None,
        sid: str,
        params: Mapping[str, str],
        now: datetime,
        flow_name: str | None,
        callback_id: int | None,
        slow_results: SlowResults,
    ) -> Answer:
        """One attempt at a call's first turn: without a session (``in_session`` None) it
        asks for one (``_NeedsSession``) when the turn needs more than the call's row."""
        line, caller = params.get("To", ""), params.get("From", "")
        direction = direction_label(params.get("Direction", "inbound"))
        variables = {"caller": caller, "line": line}
        if self.speech_available:
            variables["asr"] = "1"
        flows = self.registry.current()
        lang: str | None = None
        if flow_name is None:
            flow = flows.for_line(line)
        else:
            if in_session is None:
                raise _NeedsSession(durable=False)
            flow = flows.flows.get(flow_name)
            # An outbound call: the person we call is the "caller" of the flow.
            variables["caller"], variables["line"] = line, caller
            session = in_session[0]
            booking = session.get(Callback, callback_id) if callback_id is not None else None
            if booking is not None:
                # Called back in the language they booked in, when the flow speaks it.
                if flow is not None and booking.lang in flow.languages:
                    lang = booking.lang
                variables["request_digits"] = booking.request_number
                variables["request_number"] = digits_in_groups(booking.request_number, lang or "ru")
        call = NewCall(
            sid=sid,
            account_sid=params.get("AccountSid", ""),
            line=line,
            caller=caller,
            direction=params.get("Direction", "inbound"),
            flow="",
            flow_version="",
            status="in-progress",
            started_at=now.astimezone(UTC),
            state={},
            path=[],
            inputs=[],
            turn=1,
            last_twiml="",
        )
        if flow is None:
            log.warning(
                "call %s to unknown line %s from %s", sid, mask_phone(line), mask_phone(caller)
            )
            twiml = self._say_and_hang_up(UNKNOWN_NUMBER_TEXT, "ru")
            call = replace(call, status="unknown-line", last_twiml=twiml)
            if not self.rows.insert(statements, call):
                return self._last_answer(statements, sid), ()
            return twiml, (lambda: self.events.call_started(UNKNOWN_LINE, direction),)
        stored = self._stored_versions.get(flow.version)
        remember: tuple[Callable[[], None], ...] = ()
        if stored is None or time.monotonic() - stored > SNAPSHOT_REFRESH_SECONDS:
            if in_session is None:
                raise _NeedsSession(durable=False)
            insert_ignore(
                in_session[0],
                FlowVersion,
                {
                    "version": flow.version,
                    "name": flow.name,
                    "snapshot": flow.to_snapshot(),
                    "created_at": now.astimezone(UTC),
                },
            )
            version = flow.version

            def remember_stored() -> None:
                # Only once committed: a rolled-back attempt stored nothing.
                self._stored_versions[version] = time.monotonic()

            remember = (remember_stored,)
        state = new_state(flow, variables, lang)
        log.info(
            "call %s: line %s from %s, flow %s@%s",
            sid,
            mask_phone(line),
            mask_phone(caller),
            flow.name,
            flow.version,
        )
        record = CallRecord(sid, caller, line, flow.version, 1, {}, [])
        result = self._turn(in_session, record, flow, state, Event.start(), now, 1, slow_results)
        call = replace(
            call,
            flow=flow.name,
            flow_version=flow.version,
            state=result.state.to_json(),
            path=list(result.state.path),
            last_twiml=result.twiml,
        )
        if not self.rows.insert(statements, call):
            # Another delivery of this webhook started the call while this one worked it out.
            log.info("call %s: incoming webhook answered twice at once", sid)
            return self._last_answer(statements, sid), ()
        # Our side of the call: the number dialled, or the one a callback is placed from.
        label = line_label(flows, caller if direction == "outbound" else line)
        name = flow.name

        def started() -> None:
            self.events.call_started(label, direction)
            self.events.turn(name)

        return result.twiml, (*remember, *result.after_commit, started)

    def step(self, params: Mapping[str, str], turn: int, ev: str | None, now: datetime) -> str:
        """The caller answered (or did not): move the call on by one turn."""
        sid = params.get("CallSid", "")
        event = event_from(params, ev)

        def attempt(mode: SessionMode, slow_results: SlowResults) -> Answer:
            if mode is not None:
                with self.db.transaction(mode) as session:
                    statements = TurnStatements.of(session)
                    return self._step(
                        statements, (session, mode), sid, turn, event, now, slow_results
                    )
            with self.db.turn() as plain:
                return self._step(plain, None, sid, turn, event, now, slow_results)

        return self._settle(sid, attempt, now)

    def _settle(
        self, sid: str, attempt: Callable[[SessionMode, SlowResults], Answer], now: datetime
    ) -> str:
        """Run attempts at a turn until one is answered: a slow action the turn needs runs
        between two attempts, outside any transaction; a turn that runs in-transaction
        actions is tried again in an ORM session, a durable one if they store something a
        caller left. Work left for after the commit runs at the end."""
        slow_results: dict[str, Mapping[str, Any]] = {}
        mode: SessionMode = None
        for _ in range(MAX_ATTEMPTS):
            try:
                twiml, later = attempt(mode, slow_results)
            except _NeedsSession as needed:
                mode = needed.durable
                continue
            except _NeedsSlowAction as needed:
                pending = needed
            else:
                _run_after_commit(sid, later)
                return twiml
            # Outside the except block: a failure here is not chained to the restart.
            slow_results[_action_key(pending.action)] = self._run_slow(sid, pending, now)
        raise CallError(f"a turn of call {sid!r} did not settle")

    def _step(
        self,
        statements: Statements,
        in_session: tuple[Session, bool] | None,
        sid: str,
        turn: int,
        event: Event,
        now: datetime,
        slow_results: SlowResults,
    ) -> Answer:
        """One attempt at a turn. Without a session the call's row is read unlocked and the
        turn stored only if the call is still where it was; with one (side effects) the row
        stays locked until the session commits."""
        if in_session is None:
            call = self.rows.read(statements, sid)
        else:
            call = self.rows.lock(statements, sid)
        if call is None or not call.flow_version:
            raise CallError(f"no call {sid!r} to continue")
        if turn != call.turn:
            # A retry of a turn already answered (or a stale one): same answer again.
            log.info("call %s: webhook for turn %s repeated (now at %s)", sid, turn, call.turn)
            return self._last_answer(statements, sid), ()
        flow = self.registry.version(call.flow_version)
        if flow is None:
            raise CallError(f"flow version {call.flow_version} is not available")
        state = CallState.from_json(call.state)
        entry = _log_input(event)
        inputs = call.inputs if entry is None else [*call.inputs, {"node": state.node, **entry}]
        result = self._turn(in_session, call, flow, state, event, now, call.turn + 1, slow_results)
        stored = self.rows.save(
            statements,
            call,
            state=result.state.to_json(),
            path=list(result.state.path),
            inputs=inputs,
            twiml=result.twiml,
        )
        if not stored:
            # Another delivery of this webhook was answered while this one was worked out.
            log.info("call %s: webhook for turn %s answered twice at once", sid, turn)
            return self._last_answer(statements, sid), ()
        return result.twiml, (*result.after_commit, lambda: self.events.turn(flow.name))

    def _last_answer(self, statements: Statements, sid: str) -> str:
        """The TwiML the call's latest turn was answered with."""
        twiml = self.rows.answer(statements, sid)
        if twiml is None:
            raise CallError(f"call {sid!r} went away during its turn")
        return twiml

    def _turn(
        self,
        in_session: tuple[Session, bool] | None,
        call: CallRecord,
        flow: Flow,
        state: CallState,
        event: Event,
        now: datetime,
        turn: int,
        slow_results: SlowResults,
    ) -> TurnResult:
        """The engine's turn with its actions run; raises ``_NeedsSlowAction`` for a slow
        action's result it does not have yet, ``_NeedsSession`` for a session (or a durable
        one) it was not given. ``in_session`` is the ORM session and whether it is durable."""
        result: Turn = advance(flow, state, event, now)
        steps: list[Step] = list(result.steps)
        later: list[Callable[[], object]] = []
        for _ in range(MAX_ACTIONS):
            action = result.action
            if action is None:
                break
            if action.name in self.actions.slow:
                outcome = slow_results.get(_action_key(action))
                if outcome is None:
                    raise _NeedsSlowAction(action, call)
            else:
                handler = self.actions.in_transaction.get(action.name)
                if handler is None:
                    raise CallError(f"no handler for action '{action.name}'")
                stores = action.name not in self.actions.read_only
                if in_session is None or (stores and not in_session[1]):
                    raise _NeedsSession(durable=stores)
                session = in_session[0]
                context = ActionContext(
                    session, call, flow, result.state, now, self.settings, later
                )
                outcome = handler(action, context)
                session.flush()
            event = Event("action", data={**outcome, "action": action.name})
            result = advance(flow, result.state, event, now)
            steps += result.steps
        else:
            raise CallError("too many actions in one turn")
        twiml = self.renderer.render(steps, turn)
        return TurnResult(twiml, result.state, tuple(later))

    def _run_slow(self, sid: str, needed: _NeedsSlowAction, now: datetime) -> Mapping[str, Any]:
        """Run a slow action outside any transaction. When it fails, the turn goes on without
        its result (``failed``): the engine asks again or offers the keypad, as for a recording
        that said nothing."""
        action = needed.action
        handler = self.actions.slow[action.name]
        try:
            return handler(action, SlowActionContext(needed.call, now, self.settings))
        except Exception:
            log.exception("call %s: action %s failed; going on without it", sid, action.name)
            return {"failed": True}

    def status(self, params: Mapping[str, str], now: datetime) -> None:
        """Twilio's status callback: record how and when the call ended."""
        sid = params.get("CallSid", "")
        ended: tuple[str, str, str] | None = None
        with self.db.transaction() as session:
            call = session.get(Call, sid, with_for_update=True)
            if call is None:
                log.warning("status callback for unknown call %s", sid)
                return
            call.status = params.get("CallStatus", call.status)
            if call.status in ("completed", "busy", "failed", "no-answer", "canceled"):
                if call.ended_at is None:
                    # The first word of its end: a repeated callback is not a second end.
                    direction = direction_label(call.direction)
                    ours = call.caller if direction == "outbound" else call.line
                    ended = (line_label(self.registry.current(), ours), direction, call.status)
                call.ended_at = call.ended_at or now.astimezone(UTC)
                duration = params.get("CallDuration")
                if duration and duration.isdigit():
                    call.duration = int(duration)
                log.info(
                    "call %s ended: %s after %ss, path %s",
                    sid,
                    call.status,
                    call.duration,
                    " → ".join(call.path),
                )
        if ended is not None:
            self.events.call_ended(*ended)

    def _waiting(self, sid: str) -> tuple[CallRecord, Flow, CallState, QueueNode] | None:
        with self.db.sessions() as session:
            call = read_call(session, sid)
        flow = self.registry.version(call.flow_version) if call is not None else None
        if call is None or flow is None:
            return None
        state = CallState.from_json(call.state)
        node = flow.nodes.get(state.node or "")
        if not isinstance(node, QueueNode):
            return None
        return call, flow, state, node

    def reached_a_person(self, sid: str) -> bool:
        """Did this call get through a queue or a dial to a person (from its call log)?"""
        with self.db.sessions() as session:
            call = read_call(session, sid)
        if call is None:
            return False
        return any(
            (entry.get("kind") == "queue" and entry.get("result") == "bridged")
            or (entry.get("kind") == "dial" and entry.get("status") in ("completed", "answered"))
            for entry in call.inputs
        )

    def queue_wait(self, params: Mapping[str, str], now: datetime) -> str:
        """What a caller waiting in a queue hears, in turn, until a person answers."""
        found = self._waiting(params.get("CallSid", ""))
        if found is None:
            return self.renderer.render([Pause(20)], 0)
        call, flow, state, node = found
        waited = _seconds(params.get("QueueTime"))
        average = _seconds(params.get("AvgQueueTime"))
        steps = wait_steps(flow, state, node, waited, average, now)
        return self.renderer.render(steps, call.turn)

    def queue_key(
        self, params: Mapping[str, str], now: datetime, offered_at: int | None = None
    ) -> str:
        """A waiting caller pressed a key: leave the queue if it is the leave key.

        Another key is answered like the wait URL: ``offered_at`` is the wait (in seconds)
        when the offer was made, from the offer's own action URL, so the offer is made again
        even when the key's request carries no ``QueueTime``.
        """
        found = self._waiting(params.get("CallSid", ""))
        if found is None:
            return self.renderer.render([Pause(20)], 0)
        call, flow, state, node = found
        if wants_to_leave(node, params.get("Digits", "")):
            log.info("call %s: left queue %s by key", call.sid, node.queue_for(state.lang))
            return self.renderer.render([LeaveQueue()], call.turn)
        waited = max(_seconds(params.get("QueueTime")), offered_at or 0)
        steps = wait_steps(flow, state, node, waited, 0, now)
        return self.renderer.render(steps, call.turn)

    # -- last resorts ---------------------------------------------------------------------

    def _say_and_hang_up(self, text: str, lang: str) -> str:
        response = VoiceResponse()
        response.say(text, voice=self.settings.voice_for(lang), language=language_tag(lang))
        response.hangup()
        return str(response)

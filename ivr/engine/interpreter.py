"""The engine's one entry point: ``advance(flow, state, event, now) -> Turn``.

Pure: the same flow, state, event and time always give the same steps and new state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ivr.engine.request_status
import ivr.engine.service_handlers  # noqa: F401  (registers their handlers)
from ivr.engine.handlers import SILENCES, handler_for
from ivr.engine.run import Goto, Outcome, Run, Wait
from ivr.engine.state import CallState, Event
from ivr.engine.steps import ActionRequest, Hangup, Step
from ivr.errors import IvrError
from ivr.flows.model import Flow

# A turn that passes more nodes than this without waiting is a bug in a flow the validator
# missed; stop rather than spin.
MAX_HOPS = 200


class EngineError(IvrError):
    """The engine cannot go on with this call."""


@dataclass(frozen=True)
class Turn:
    """The result of one turn: steps to perform, the new state, maybe an action to run."""

    steps: list[Step]
    state: CallState
    action: ActionRequest | None = None


def new_state(
    flow: Flow, variables: dict[str, str] | None = None, lang: str | None = None
) -> CallState:
    """The state of a call that has not started yet, in ``lang`` (default: the flow's first
    language)."""
    return CallState(
        flow=flow.name,
        version=flow.version,
        lang=lang or flow.languages[0],
        profile=flow.profile,
        vars=dict(variables or {}),
    )


def advance(flow: Flow, state: CallState, event: Event, now: datetime) -> Turn:
    """Move a call on by one event; ``state`` is not modified (a new one is returned)."""
    if now.tzinfo is None:
        raise EngineError("the engine needs an aware datetime (Moscow time)")
    run = Run(flow, state.copy(), now)
    if run.state.done:
        return Turn([Hangup()], run.state)
    if event.kind == "start" or run.state.node is None:
        outcome: Outcome = Goto(flow.start)
    else:
        if (event.kind == "digits" and event.digits) or (event.kind == "speech" and event.speech):
            # The caller answered something: silences are counted in a row (``silence_limit``).
            run.state.vars.pop(SILENCES, None)
        node = flow.node(run.state.node)
        outcome = handler_for(node).resume(run.state.node, node, event, run)
    hops = 0
    while isinstance(outcome, Goto):
        hops += 1
        if hops > MAX_HOPS:
            raise EngineError(f"flow '{flow.name}' passed {MAX_HOPS} nodes without waiting")
        node_id = outcome.node
        run.state.node = node_id
        run.state.path.append(node_id)
        node = flow.node(node_id)
        outcome = handler_for(node).enter(node_id, node, run)
    if isinstance(outcome, ActionRequest):
        return Turn(run.steps, run.state, outcome)
    if not isinstance(outcome, Wait):
        run.state.node = None
        run.state.done = True
    return Turn(run.steps, run.state)

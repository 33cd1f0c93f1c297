""" "What happens at": a flow run from its start at a chosen moment, as the caller hears it.

Nothing is rebuilt here: the engine itself answers the call (``ivr.engine.interpreter``) at
that moment, and the schedule code says which kind of day it is, the hours, and the next
opening in the words the after-hours prompt uses (``ivr.domain.schedule``). The run stops
where the caller would first be asked something (a menu, a recording), put through, or
where the flow needs something done (a booking): what the caller hears up to there is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.domain.schedule import (
    MIDNIGHT,
    MOSCOW,
    LineState,
    TimeRange,
    day_kind,
    describe_next_opening,
    hours_on,
    next_opening,
    state_at,
)
from ivr.engine.interpreter import advance, new_state
from ivr.engine.state import Event
from ivr.engine.steps import Dial, Enqueue, Gather, Hangup, Record, Say
from ivr.flows.model import Flow
from ivr.flows.nodes import ScheduleNode

STATE_NAMES = {
    LineState.OPEN: "линия открыта",
    LineState.CLOSED: "линия закрыта",
    LineState.HOLIDAY: "линия закрыта: праздничный или выходной день",
}
DAY_KINDS = {
    "workday": "рабочий день",
    "weekend": "выходной",
    "holiday": "праздник или перенесённый выходной",
    "working_saturday": "рабочий выходной день (перенос по календарю)",
    "day_off": "выходной, назначенный администратором",
    "special": "особые часы, назначенные администратором",
}
BRANCH_NAMES = {"open": "открыто", "closed": "закрыто", "holiday": "праздник"}


@dataclass(frozen=True)
class Branch:
    """A schedule node the call passed and the branch it took."""

    node: str
    branch: str
    target: str

    @property
    def branch_name(self) -> str:
        """The branch in Russian."""
        return BRANCH_NAMES.get(self.branch, self.branch)


@dataclass(frozen=True)
class Preview:
    """What a caller of the flow meets at ``moment``."""

    moment: datetime
    lang: str
    has_schedule: bool
    state: str
    day_kind: str
    hours: list[str]
    next_opening: datetime | None
    next_opening_words: str
    branches: list[Branch]
    path: list[str]
    heard: list[str]
    stops_at: str


def _stop(steps: list[object], action: str | None) -> str:
    if action is not None:
        return f"дальше сценарий выполняет действие «{action}» (например, бронь звонка)"
    for step in reversed(steps):
        if isinstance(step, Gather):
            return "ждёт, что звонивший нажмёт кнопку или скажет"
        if isinstance(step, Record):
            return "записывает голосовое сообщение"
        if isinstance(step, Enqueue):
            return f"ставит в очередь к специалисту «{step.queue}»"
        if isinstance(step, Dial):
            return f"переводит на номер {step.number}"
        if isinstance(step, Hangup):
            return "прощается и завершает звонок"
    return "ждёт звонивший"


def _branch(node: ScheduleNode, taken: str, line_state: LineState) -> str:
    """The branch the engine took to ``taken``; when two branches lead there (a holiday and
    a closed day often do), the one the line's state names."""
    labels = [edge.label for edge in node.edges() if edge.target == taken]
    if str(line_state) in labels:
        return str(line_state)
    return labels[0] if labels else ""


def _range_text(hours: TimeRange) -> str:
    end = "24:00" if hours.end == MIDNIGHT else f"{hours.end:%H:%M}"
    return f"{hours.start:%H:%M}–{end}"


def _heard(steps: list[object]) -> list[str]:
    texts: list[str] = []
    for step in steps:
        if isinstance(step, Say):
            texts.append(step.text)
        elif isinstance(step, Gather):
            texts += [p.text for p in step.prompts if isinstance(p, Say)]
    return texts


def what_happens_at(flow: Flow, moment: datetime, lang: str | None = None) -> Preview:
    """Run ``flow`` from its start at ``moment`` (aware) in ``lang`` (default: its first)."""
    lang = lang if lang in flow.languages else flow.languages[0]
    schedule = flow.runtime_schedule
    line = flow.lines[0] if flow.lines else ""
    turn = advance(flow, new_state(flow, {"line": line}, lang), Event.start(), moment)
    path = list(turn.state.path)
    line_state = LineState.OPEN if schedule is None else state_at(schedule, moment)
    branches = []
    for index, node_id in enumerate(path[:-1]):
        node = flow.nodes.get(node_id)
        if isinstance(node, ScheduleNode):
            taken = path[index + 1]
            branches.append(Branch(node_id, _branch(node, taken, line_state), taken))
    if schedule is None:
        state, kind, hours, opening, words = "линия работает круглосуточно", "", [], None, ""
    else:
        local = moment.astimezone(MOSCOW)
        state = STATE_NAMES[state_at(schedule, local)]
        kind = DAY_KINDS.get(str(day_kind(schedule, local.date())), "")
        hours = [_range_text(r) for r in hours_on(schedule, local.date())]
        opening = next_opening(schedule, local)
        words = describe_next_opening(schedule, local, lang) if opening is not None else ""
    steps: list[object] = list(turn.steps)
    return Preview(
        moment=moment,
        lang=lang,
        has_schedule=schedule is not None,
        state=state,
        day_kind=kind,
        hours=hours,
        next_opening=opening,
        next_opening_words=words,
        branches=branches,
        path=path,
        heard=_heard(steps),
        stops_at=_stop(steps, turn.action.name if turn.action else None),
    )

"""What callers were told, checked against the database afterwards.

A caller who books a callback, leaves a voicemail or has an overdue request escalated hears a
request number. After a run of many calls (the durability tests, ``benchmarks.calls``) every
number heard must exist exactly once, with its booking or voicemail, and nothing may exist
beyond what callers were told: ``problems`` says, in plain sentences, what does not hold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from ivr.harness.simulator import CallResult
from ivr.speech.numbers import parse_number
from ivr.store.db import Database
from ivr.store.models import Callback, Request, Voicemail

TOLD = "Номер обращения: "
TOLD_ESCALATION = "Номер нового обращения: "
# The request's source for each kind of call that is told a number.
SOURCES = {"booking": "callback", "voicemail": "voicemail", "escalation": "escalation"}


@dataclass(frozen=True)
class Told:
    """One call that should have left a request behind, and the number its caller heard."""

    kind: str  # booking, voicemail or escalation
    caller: str
    number: str | None


def told_number(result: CallResult) -> str | None:
    """The request number the caller heard, as digits (said in groups: «сто, семьдесят
    семь» is 100 77, so each group is read on its own); None when none was said."""
    for line in result.heard():
        for marker in (TOLD, TOLD_ESCALATION):
            if marker in line:
                said = line.split(marker, 1)[1].split(".", 1)[0]
                readings = [parse_number(g, min_digits=1) for g in said.split(",")]
                if any(r.reason != "ok" for r in readings):
                    return None
                return "".join(r.digits or "" for r in readings)
    return None


def problems(database_url: str, told: Sequence[Told]) -> list[str]:
    """Everything wrong between what callers were told and what the database holds: an
    empty list when each number heard exists once with its row, and nothing more does."""
    found: list[str] = []
    for item in told:
        if item.number is None:
            found.append(f"the {item.kind} call from {item.caller} was told no request number")
    heard = Counter(item.number for item in told if item.number is not None)
    found += [f"{count} callers were told request {n}" for n, count in heard.items() if count > 1]
    db = Database(database_url)
    try:
        with db.sessions() as session:
            requests = {r.number: r for r in session.scalars(select(Request)).all()}
            callbacks = session.scalars(select(Callback)).all()
            voicemails = session.scalars(select(Voicemail)).all()
            counted = select(Request.source, func.count()).group_by(Request.source)
            by_source = {source: count for source, count in session.execute(counted)}
    finally:
        db.dispose()
    kinds = Counter(item.kind for item in told)
    for kind, source in SOURCES.items():
        # Exactly once: no request beyond what callers were told.
        if by_source.get(source, 0) != kinds[kind]:
            found.append(
                f"{kinds[kind]} {kind} calls, but {by_source.get(source, 0)} requests"
                f" with source {source}"
            )
    for item in told:
        if item.number is None:
            continue
        request = requests.get(item.number)
        if request is None:
            found.append(f"request {item.number} told to {item.caller} is not in the database")
        elif (request.source, request.caller) != (SOURCES[item.kind], item.caller):
            found.append(
                f"request {item.number} is ({request.source}, {request.caller}), not"
                f" ({SOURCES[item.kind]}, {item.caller})"
            )
    booked = Counter(c.request_number for c in callbacks)
    found += [f"request {n} has {count} callbacks" for n, count in booked.items() if count > 1]
    for item in told:
        if item.number is not None and item.kind != "voicemail" and item.number not in booked:
            found.append(f"request {item.number} ({item.kind}) has no callback")
    stored = sorted(v.request_number for v in voicemails)
    expected = sorted(i.number for i in told if i.kind == "voicemail" and i.number is not None)
    if stored != expected:
        found.append(f"voicemails for requests {stored}, callers were told {expected}")
    # Each recording downloaded once it was reported, by the server or by the worker.
    for voicemail in voicemails:
        if voicemail.status != "stored" or not Path(voicemail.file_path or "").is_file():
            found.append(
                f"voicemail of request {voicemail.request_number} is {voicemail.status},"
                f" file {voicemail.file_path}"
            )
    return found

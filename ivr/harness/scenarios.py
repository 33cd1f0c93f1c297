"""Scenario files: calls with their inputs and what must happen, run by ``ivr test-calls``.

A scenario file is YAML::

    # Optional values every call of the file starts from.
    defaults:
      to: "+78005553535"
      at: "2026-11-25T10:00"        # Moscow time
    calls:
      - name: working hours, tech menu, site errors → tech queue
        inputs: ["1", "2"]           # keys; or {say: оплата}, {say_file: x.wav}, silence, hangup
        expect:
          heard: ["Технические проблемы", "Ошибки пятьсот"]   # in this order
          reaches: [tip_errors]
          ends: queue tech
      - name: payments queue, 1 at the callback offer during the wait → callback booked
        inputs: ["5", {wait_press: "1"}, "1", "1"]
        queue_waits: 6               # the offer comes after a minute's wait
        expect:
          callback: true

Requests («обращения») the calls look up are listed under a top-level ``requests:`` key, as the
back office would have imported them, and stored before each call of the file (in-process
runs only)::

    requests:
      - {number: "777888", status: in_work, due: "2026-11-20T18:00", category: services,
         next_step: "Дождитесь ответа специалиста в личном кабинете."}

Inputs are used in order, one per ``<Gather>``/``<Record>``, then the caller is silent. A
``<Gather>`` in a queue's wait music (the ``waitUrl`` documents, and what their ``<Gather>``
action answers) takes only ``{wait_press: KEYS}``: until that is the next input the caller
holds silently and the wait goes on, so the keys for the menus after the queue are kept; a
``wait_press`` that meets an ordinary ``<Gather>`` first ends the call as an error.

Call keys: ``name`` (required), ``to``, ``from``, ``at``, ``inputs``, ``queue_result``,
``dial_result``, ``queue_waits``, ``confidence``, ``sid``, ``bad_signature``, ``direction``
(``outbound-api`` for a call the server had Twilio place), ``voice_path`` (the voice URL's
path and query, e.g. ``/voice/incoming?flow=callback``), ``expect``. ``queue_waits`` (default
2) is how many times a queue's ``waitUrl`` is requested, each a later ``QueueTime``; the caller
stays in the queue after the last one unless a ``<Leave>`` took them out or ``queue_result``
says how the queue let them go.

Expectations (``expect``): ``heard`` (phrases heard in that order, case-insensitive),
``not_heard``, ``reaches`` / ``not_reaches`` (nodes), ``path`` (the exact node path),
``ends`` (``hangup``, ``queue NAME``, ``dial NUMBER``, ``caller-hangup``, ``refused``,
``error`` …), ``queue`` (a queue entered), ``dial`` (a number dialled), ``recordings`` (how many
recordings the caller left), ``transcript`` (the exact transcript lines, shown as a diff).
``voicemail`` (a voicemail saved by this call: ``true``/``false`` or its status, e.g.
``stored``) and ``callback`` (a callback booked by this call: ``true``/``false`` or its status)
read the server's tables in-process; where the server has no such table they fail with a clear
message. More keys are added with ``register_expectation``. Against a running server
(``--url``) the expectations that read the server's database (``path``, ``reaches``,
``not_reaches``, ``voicemail``, ``callback``) are reported as not checked.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from ivr.harness import inputs as caller_inputs
from ivr.harness.local import LocalApp
from ivr.harness.protocol import DEFAULT_FROM, DIAL_RESULTS, INBOUND, OUTBOUND, QUEUE_RESULTS
from ivr.harness.simulator import (
    CallHarness,
    CallResult,
    CallSpec,
    moscow,
    parse_moment,
)

CALL_KEYS = {
    "name",
    "to",
    "from",
    "at",
    "inputs",
    "queue_result",
    "dial_result",
    "queue_waits",
    "confidence",
    "sid",
    "bad_signature",
    "direction",
    "voice_path",
    "expect",
}
DEFAULT_KEYS = CALL_KEYS - {"name", "expect", "sid"}


class ScenarioError(Exception):
    """A scenario file that cannot be read."""


class NotCheckable(Exception):
    """An expectation that needs the server's database, which this run cannot read (--url)."""


@dataclass(frozen=True)
class Scenario:
    """One call of a scenario file and what it must do."""

    name: str
    source: Path
    spec: CallSpec
    expect: dict[str, Any]
    # Requests to store before the call (the file's ``requests:``).
    requests: tuple[dict[str, Any], ...] = ()

    @property
    def title(self) -> str:
        """``file.yaml: name``."""
        return f"{self.source.name}: {self.name}"


@dataclass(frozen=True)
class CheckContext:
    """What an expectation checker may use besides the call's result."""

    scenario: Scenario
    local: LocalApp | None


Checker = Callable[[Any, CallResult, CheckContext], list[str]]
EXPECTATIONS: dict[str, Checker] = {}
# Reserved keys whose checkers come with the server features they check: key → what it means.
PENDING_EXPECTATIONS: dict[str, str] = {}


def register_expectation(name: str) -> Callable[[Checker], Checker]:
    """Make ``expect: {name: …}`` checkable; the checker returns a list of problems.

    For a server-side outcome (``voicemail``, ``callback``), the checker reads the database
    through ``context.local.services.db`` with ``result.sid``.
    """

    def decorator(checker: Checker) -> Checker:
        EXPECTATIONS[name] = checker
        PENDING_EXPECTATIONS.pop(name, None)
        return checker

    return decorator


# -- reading ---------------------------------------------------------------------------------


def _text(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ScenarioError(f"{what} must be text, not {value!r}")
    if isinstance(value, int) and what.endswith(("to", "from")):
        raise ScenarioError(f'{what}: quote phone numbers ("+78005553535"), YAML reads {value}')
    return str(value)


def _moment(value: Any, what: str) -> datetime:
    if isinstance(value, datetime):
        return moscow(value)
    try:
        return parse_moment(_text(value, what))
    except ValueError as exc:
        raise ScenarioError(f"{what}: {exc}") from exc


def _strings(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise ScenarioError(f"{what} must be a list of texts")
    return [_text(item, what) for item in value]


REQUEST_KEYS = {"number", "status", "due", "category", "next_step"}


def _requests(raw: Any, source: Path) -> tuple[dict[str, Any], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ScenarioError(f"{source}: requests is a list of requests (number, status, due …)")
    seeded = []
    for index, item in enumerate(raw):
        where = f"{source}: request {index + 1}"
        if not isinstance(item, dict) or "number" not in item:
            raise ScenarioError(f"{where}: a request is a mapping with at least a number")
        unknown = sorted(set(item) - REQUEST_KEYS)
        if unknown:
            raise ScenarioError(f"{where}: unknown keys {', '.join(unknown)}")
        request: dict[str, Any] = {
            key: _text(item[key], f"{where}: {key}") for key in item if key != "due"
        }
        if item.get("due") is not None:
            request["due"] = _moment(item["due"], f"{where}: due")
        seeded.append(request)
    return tuple(seeded)


def _scenario(raw: Any, defaults: dict[str, Any], source: Path, index: int) -> Scenario:
    where = f"{source}: call {index + 1}"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: a call is a mapping with name, inputs, expect …")
    unknown = sorted(set(raw) - CALL_KEYS)
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {', '.join(unknown)}")
    if not raw.get("name"):
        raise ScenarioError(f"{where}: every call needs a name")
    name = _text(raw["name"], f"{where}: name")
    where = f"{source}: {name}"
    values = {**defaults, **raw}
    if "to" not in values:
        raise ScenarioError(f'{where}: no number to call (to: "+78005553535")')
    try:
        items = tuple(
            caller_inputs.from_data(item, source.parent) for item in values.get("inputs") or []
        )
    except caller_inputs.InputError as exc:
        raise ScenarioError(f"{where}: inputs: {exc}") from exc
    queue_result = values.get("queue_result")
    if queue_result is not None and queue_result not in QUEUE_RESULTS:
        raise ScenarioError(f"{where}: queue_result is one of {', '.join(QUEUE_RESULTS)}")
    dial_result = values.get("dial_result")
    if dial_result is not None and dial_result not in DIAL_RESULTS:
        raise ScenarioError(f"{where}: dial_result is one of {', '.join(DIAL_RESULTS)}")
    direction = values.get("direction", INBOUND)
    if direction not in (INBOUND, OUTBOUND):
        raise ScenarioError(f"{where}: direction is {INBOUND} or {OUTBOUND}")
    expect = raw.get("expect") or {}
    if not isinstance(expect, dict):
        raise ScenarioError(f"{where}: expect is a mapping")
    known = set(EXPECTATIONS) | set(PENDING_EXPECTATIONS)
    unknown = sorted(set(expect) - known)
    if unknown:
        names = ", ".join(sorted(known))
        raise ScenarioError(f"{where}: unknown expectations {', '.join(unknown)} (known: {names})")
    spec = CallSpec(
        to=_text(values["to"], f"{where}: to"),
        caller=_text(values.get("from", DEFAULT_FROM), f"{where}: from"),
        at=_moment(values["at"], f"{where}: at") if values.get("at") is not None else None,
        inputs=items,
        sid=_text(raw["sid"], f"{where}: sid") if raw.get("sid") else None,
        seed=f"{source.name}:{name}",
        queue_result=queue_result,
        dial_result=dial_result,
        queue_waits=int(values.get("queue_waits", 2)),
        confidence=float(values.get("confidence", 0.92)),
        bad_signature=bool(values.get("bad_signature", False)),
        direction=direction,
        voice_path=_text(values["voice_path"], f"{where}: voice_path")
        if values.get("voice_path")
        else None,
    )
    return Scenario(name, source, spec, expect)


def load_file(path: Path) -> list[Scenario]:
    """The scenarios of one file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from exc
    if isinstance(data, list):
        data = {"calls": data}
    if not isinstance(data, dict) or not isinstance(data.get("calls"), list):
        raise ScenarioError(f"{path}: expected a mapping with a list of calls under 'calls'")
    unknown = sorted(set(data) - {"defaults", "calls", "requests"})
    if unknown:
        raise ScenarioError(f"{path}: unknown top-level keys {', '.join(unknown)}")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict) or set(defaults) - DEFAULT_KEYS:
        raise ScenarioError(f"{path}: defaults may set {', '.join(sorted(DEFAULT_KEYS))}")
    requests = _requests(data.get("requests"), path)
    scenarios = [
        replace(_scenario(raw, defaults, path, i), requests=requests)
        for i, raw in enumerate(data["calls"])
    ]
    names = [scenario.name for scenario in scenarios]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ScenarioError(f"{path}: call names used twice: {', '.join(twice)}")
    return scenarios


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, and those in the directories named (recursively), sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        elif path.exists():
            files.append(path)
        else:
            raise ScenarioError(f"{path}: no such file or directory")
    return files


def load_paths(paths: Iterable[Path]) -> list[Scenario]:
    """Every scenario in the files and directories named."""
    return [scenario for path in scenario_files(paths) for scenario in load_file(path)]


# -- checking --------------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    """A scenario's call and what did not go as expected."""

    scenario: Scenario
    result: CallResult | None
    problems: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    # Expectations that need the server's database, not checked against a remote server.
    unchecked: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every expectation held."""
        return not self.problems


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


def _heard_block(result: CallResult) -> list[str]:
    return ["what was heard:", *(f"  {line}" for line in result.transcript())]


@register_expectation("heard")
def _check_heard(expected: Any, result: CallResult, context: CheckContext) -> list[str]:
    phrases = _strings(expected, "heard")
    heard = [_norm(text) for text in result.heard()]
    line, offset, problems = 0, 0, []
    for phrase in phrases:
        wanted = _norm(phrase)
        found = False
        for index in range(line, len(heard)):
            at = heard[index].find(wanted, offset if index == line else 0)
            if at >= 0:
                line, offset, found = index, at + len(wanted), True
                break
        if not found:
            anywhere = any(wanted in text for text in heard)
            problems.append(
                f"heard: «{phrase}» "
                + ("was heard, but not after the phrases before it" if anywhere else "not heard")
            )
    return problems


@register_expectation("not_heard")
def _check_not_heard(expected: Any, result: CallResult, context: CheckContext) -> list[str]:
    heard = [_norm(text) for text in result.heard()]
    return [
        f"not_heard: «{phrase}» was heard"
        for phrase in _strings(expected, "not_heard")
        if any(_norm(phrase) in text for text in heard)
    ]


def _path(result: CallResult, key: str) -> list[str]:
    if result.call_log is None:
        raise NotCheckable(key)
    return [str(node) for node in result.call_log.get("path", [])]


@register_expectation("reaches")
def _check_reaches(expected: Any, result: CallResult, context: CheckContext) -> list[str]:
    path = _path(result, "reaches")
    return [
        f"reaches: node {node} not reached (path: {' → '.join(path)})"
        for node in _strings(expected, "reaches")
        if node not in path
    ]


@register_expectation("not_reaches")
def _check_not_reaches(expected: Any, result: CallResult, context: CheckContext) -> list[str]:
    path = _path(result, "not_reaches")
    return [
        f"not_reaches: node {node} was reached"
        for node in _strings(expected, "not_reaches")
        if node in path
    ]


@register_expectation("path")
def _check_path(expected: Any, result: CallResult, context: CheckContext) -> list[str]:
    path = _path(result, "path")
    wanted = _strings(expected, "path")
    if path == wanted:
        return []
    return [f"path: expected {' → '.join(wanted)}, got {' → '.join(path)}"]


@register_expectation("ends")
def _check_ends(expected: Any, result: CallResult, context: CheckContext) -> list[str]:
    wanted = _text(expected, "ends").strip()
    kind, _, target = wanted.partition(" ")
    outcome = result.outcome
    if outcome.kind == kind and (not target or outcome.target == target.strip()):
        return []
    return [f"ends: expected {wanted}, got {outcome.label()}"]


@register_expectation("queue")
def _check_queue(expected: Any, result: CallResult, context: CheckContext) -> list[str]:
    wanted = _text(expected, "queue")
    if wanted in result.queues:
        return []
    return [f"queue: expected queue {wanted}, entered {', '.join(result.queues) or 'none'}"]


@register_expectation("dial")
def _check_dial(expected: Any, result: CallResult, context: CheckContext) -> list[str]:
    wanted = _text(expected, "dial")
    if wanted in result.dialled:
        return []
    return [f"dial: expected {wanted}, dialled {', '.join(result.dialled) or 'nothing'}"]


@register_expectation("recordings")
def _check_recordings(expected: Any, result: CallResult, context: CheckContext) -> list[str]:
    if len(result.recordings) == int(expected):
        return []
    return [f"recordings: expected {int(expected)}, the caller left {len(result.recordings)}"]


@register_expectation("transcript")
def _check_transcript(expected: Any, result: CallResult, context: CheckContext) -> list[str]:
    wanted = _strings(expected, "transcript")
    got = result.transcript()
    if wanted == got:
        return []
    return ["transcript: differs from what was heard (diff below)"]


def _stored_rows(
    model_name: str, column: str, result: CallResult, context: CheckContext, key: str
) -> list[Any] | str:
    """Rows of a server table that belong to this call, or why they cannot be read."""
    from sqlalchemy import select

    from ivr.store import models

    model = getattr(models, model_name, None)
    if model is None:
        return f"{key}: cannot be checked: the server has no {model_name} table"
    if context.local is None:
        raise NotCheckable(key)
    with context.local.services.db.sessions() as session:
        query = select(model).where(getattr(model, column) == result.sid)
        return list(session.scalars(query).all())


def _check_stored(expected: Any, rows: list[Any] | str, key: str, what: str) -> list[str]:
    if isinstance(rows, str):
        return [rows]
    statuses = [str(getattr(row, "status", "")) for row in rows]
    if isinstance(expected, bool):
        if bool(rows) == expected:
            return []
        return [f"{key}: expected {'a' if expected else 'no'} {what}, found {len(rows)}"]
    wanted = _text(expected, key)
    if wanted in statuses:
        return []
    return [f"{key}: expected a {what} with status {wanted}, found {statuses or 'none'}"]


@register_expectation("voicemail")
def _check_voicemail(expected: Any, result: CallResult, context: CheckContext) -> list[str]:
    rows = _stored_rows("Voicemail", "call_sid", result, context, "voicemail")
    return _check_stored(expected, rows, "voicemail", "voicemail saved by this call")


@register_expectation("callback")
def _check_callback(expected: Any, result: CallResult, context: CheckContext) -> list[str]:
    rows = _stored_rows("Callback", "booked_call_sid", result, context, "callback")
    return _check_stored(expected, rows, "callback", "callback booked by this call")


def _details(scenario: Scenario, result: CallResult) -> list[str]:
    if "transcript" in scenario.expect:
        wanted = _strings(scenario.expect["transcript"], "transcript")
        diff = difflib.unified_diff(
            wanted, result.transcript(), "expected", "heard", lineterm="", n=2
        )
        return list(diff)
    return _heard_block(result)


def check(scenario: Scenario, result: CallResult, local: LocalApp | None) -> ScenarioResult:
    """Every expectation of a scenario against its call."""
    context = CheckContext(scenario, local)
    outcome = ScenarioResult(scenario, result)
    for key, expected in scenario.expect.items():
        if key in PENDING_EXPECTATIONS:
            outcome.problems.append(
                f"{key}: cannot be checked yet: {PENDING_EXPECTATIONS[key]}; register a "
                f"checker with ivr.harness.scenarios.register_expectation('{key}')"
            )
            continue
        try:
            outcome.problems += EXPECTATIONS[key](expected, result, context)
        except NotCheckable:
            outcome.unchecked.append(key)
        except (ScenarioError, ValueError, TypeError) as exc:
            outcome.problems.append(f"{key}: {exc}")
    if "ends" not in scenario.expect and not result.outcome.ok:
        outcome.problems.append(f"the call failed: {result.outcome.label()}")
    if outcome.problems:
        outcome.details = _details(scenario, result)
    return outcome


def seed(scenario: Scenario, local: LocalApp | None) -> None:
    """Store the scenario's requests (those not stored yet) in the in-process server's
    database; against a running server there is none to write to."""
    if local is None or not scenario.requests:
        return
    from datetime import UTC

    from ivr.store import models

    with local.services.db.transaction() as session:
        for item in scenario.requests:
            if session.get(models.Request, item["number"]) is not None:
                continue
            due = item.get("due")
            session.add(
                models.Request(
                    number=item["number"],
                    category=item.get("category", "services"),
                    status=item.get("status", "in_work"),
                    source="import",
                    created_at=datetime(2026, 1, 1, tzinfo=UTC),
                    due_at=due.astimezone(UTC) if due is not None else None,
                    next_step=item.get("next_step", ""),
                    caller="",
                    line="",
                    call_sid="",
                )
            )


def run(
    scenarios: Iterable[Scenario], harness: CallHarness, local: LocalApp | None = None
) -> list[ScenarioResult]:
    """Store each scenario's requests, place its call and check it."""
    results = []
    for scenario in scenarios:
        seed(scenario, local)
        results.append(check(scenario, harness.place(scenario.spec), local))
    return results


def report(results: list[ScenarioResult]) -> list[str]:
    """PASS/FAIL per scenario, the problems and a diff of what was heard, then a summary."""
    lines = []
    for item in results:
        unchecked = (
            f" (not checked without the server's database: {', '.join(item.unchecked)})"
            if item.unchecked
            else ""
        )
        lines.append(f"{'PASS' if item.passed else 'FAIL'}  {item.scenario.title}{unchecked}")
        for problem in item.problems:
            lines.append(f"      {problem}")
        for detail in item.details:
            lines.append(f"        {detail}")
    failed = sum(1 for item in results if not item.passed)
    lines.append(f"{len(results)} scenarios: {len(results) - failed} passed, {failed} failed")
    return lines

"""``ivr call`` and ``ivr test-calls``: the harness from the command line.

``ivr.cli`` registers these commands at its end, so this module imports ``ivr.cli`` (for the
settings and the environment) only inside the commands.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ivr.cli.common import load_settings
from ivr.harness import inputs as caller_inputs
from ivr.harness.inputs import CallerInput, HangUp, Press, Silence, Speak, SpeakFile, Talk
from ivr.harness.protocol import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_FROM,
    DIAL_RESULTS,
    INBOUND,
    OUTBOUND,
    QUEUE_RESULTS,
    STATUS_PATH,
)

if TYPE_CHECKING:
    from ivr.harness.inputs import InputSource
    from ivr.harness.simulator import CallHarness, CallResult, CallSpec, Line

_INPUTS_KEY = "ivr.harness.inputs"
_VALUE_INPUTS = {
    "--press": "press",
    "--wait-press": "wait-press",
    "--say": "say",
    "--say-file": "say-file",
    "--talk": "talk",
}
_FLAG_INPUTS = {"--silence": "silence", "--hangup": "hangup"}
DEFAULT_SCENARIOS = Path("tests/scenarios")


def scan_inputs(args: Sequence[str], value_options: set[str]) -> list[tuple[str, str]]:
    """The caller inputs in command-line order: ``[("press", "1"), ("silence", "")]``.

    Click groups repeated options by name; the order across ``--press``/``--say``/``--silence``
    is what the caller does, so it is read from the arguments themselves.
    """
    found: list[tuple[str, str]] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            break
        name, has_value, value = arg.partition("=")
        if name in _VALUE_INPUTS:
            if has_value:
                found.append((_VALUE_INPUTS[name], value))
            elif index + 1 < len(args):
                found.append((_VALUE_INPUTS[name], args[index + 1]))
                index += 1
        elif arg in _FLAG_INPUTS:
            found.append((_FLAG_INPUTS[arg], ""))
        elif arg in value_options:
            index += 1  # skip the option's value
        index += 1
    return found


class _OrderedInputsCommand(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        value_options = {
            opt
            for param in self.params
            if isinstance(param, click.Option) and not param.is_flag and not param.count
            for opt in (*param.opts, *param.secondary_opts)
        }
        ctx.meta[_INPUTS_KEY] = scan_inputs(args, value_options)
        return super().parse_args(ctx, args)


def _to_input(kind: str, value: str) -> CallerInput:
    if kind == "press":
        return Press(value)
    if kind == "wait-press":
        return Press(value, in_queue=True)
    if kind == "say":
        return Speak(value)
    if kind == "say-file":
        return SpeakFile(Path(value))
    if kind == "talk":
        if not value.isdigit():
            raise caller_inputs.InputError(f"--talk takes whole seconds, not '{value}'")
        return Talk(int(value))
    if kind == "hangup":
        return HangUp()
    return Silence()


@contextmanager
def _harness(
    url: str | None,
    public_url: str | None,
    recordings_port: int,
    status_path: str,
) -> Iterator[tuple[CallHarness, str]]:
    """A harness for ``--url`` (real HTTP) or for the app in this process."""
    from ivr.harness.local import LazyRecordingHost, LocalApp, supports_api_base
    from ivr.harness.simulator import CallHarness
    from ivr.harness.transport import HttpTransport, RewritingTransport, Transport

    if url:
        settings = load_settings()
        # A development server (make run) without an account checks the same default token.
        token = settings.twilio_auth_token or DEFAULT_AUTH_TOKEN
        account = settings.twilio_account_sid or DEFAULT_ACCOUNT_SID
        recordings = LazyRecordingHost(account, token, recordings_port)
        recordings.on_start = lambda host: click.echo(
            f"(recording host at {host.base_url}: the server fetches recordings there when "
            f"its IVR_TWILIO_API_BASE is {host.base_url})",
            err=True,
        )
        transport: Transport = HttpTransport()
        base = url
        if public_url:
            transport, base = RewritingTransport(transport, public_url, url), public_url
        try:
            yield (
                CallHarness(
                    transport,
                    base,
                    token,
                    account_sid=account,
                    recordings=recordings,
                    status_path=status_path,
                ),
                f"server {url}",
            )
        finally:
            recordings.close()
        return
    with LocalApp.start(load_settings()) as local:
        if not supports_api_base():
            local.recordings.on_start = lambda host: click.echo(
                f"(recording host at {host.base_url}; the server's Settings has no "
                "twilio_api_base yet, so it is not pointed there)",
                err=True,
            )
        harness = local.harness()
        harness.status_path = status_path
        yield harness, "in-process app"


def _header(spec: CallSpec, sid: str, where: str) -> str:
    at = spec.at.strftime("%Y-%m-%d %H:%M (Moscow)") if spec.at else "now"
    return f"Call {sid} from {spec.caller} to {spec.to} at {at}, {where}"


def _footer(result: CallResult) -> list[str]:
    lines = []
    for rec in result.recordings:
        fetched = result.recordings_fetched.get(rec.sid, 0)
        lines.append(
            f"recording {rec.sid}: {rec.duration} s ({rec.source}), "
            f"fetched by the server {fetched} time(s)"
        )
    if result.call_log is not None:
        lines.append("path: " + " → ".join(str(n) for n in result.call_log.get("path", [])))
    lines.append(f"duration: {result.duration} s (estimated)")
    return lines


def _read_line(prompt: str) -> str | None:
    click.echo(prompt, nl=False, err=True)
    line = sys.stdin.readline()
    if not line:
        click.echo("", err=True)
        return None
    return line.rstrip("\n")


@click.command("call", cls=_OrderedInputsCommand)
@click.option("--to", "to", required=True, help="The number called, e.g. +78005553535.")
@click.option("--from", "caller", default=DEFAULT_FROM, show_default=True, help="The caller.")
@click.option("--at", "at", help="Moscow time of the call, e.g. 2026-12-31T21:30.")
@click.option("--press", multiple=True, help="Keys pressed at the next <Gather> (1, 123456#).")
@click.option(
    "--wait-press",
    multiple=True,
    help="Keys pressed while waiting in a queue, at the next <Gather> of its wait music.",
)
@click.option("--say", multiple=True, help="Words said at the next <Gather>/<Record>.")
@click.option(
    "--say-file",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A WAV spoken at the next <Record>.",
)
@click.option(
    "--talk",
    multiple=True,
    type=int,
    help="Talk this many seconds at the next <Record>, without words (a voicemail).",
)
@click.option("--silence", count=True, help="Stay silent at the next <Gather>/<Record>.")
@click.option("--hangup", count=True, help="Hang up at the next <Gather>/<Record>.")
@click.option(
    "--queue-result",
    type=click.Choice(QUEUE_RESULTS),
    help="Leave a queue this way (sent with the <Enqueue> action); default: stay in it.",
)
@click.option(
    "--dial-result",
    type=click.Choice(DIAL_RESULTS),
    help="How a <Dial> ends (sent with its action); default: the caller talks, the call ends.",
)
@click.option("--queue-waits", default=2, show_default=True, help="waitUrl requests per queue.")
@click.option("--confidence", default=0.92, show_default=True, help="Speech Confidence sent.")
@click.option("--sid", help="The CallSid (default: derived from the call, or random with --url).")
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable transcript.")
@click.option("--url", help="Call a running server (e.g. http://127.0.0.1:5000), not in-process.")
@click.option("--public-url", help="With --url: the URL Twilio would call (what it signs).")
@click.option("--recordings-port", default=0, help="Port of the recording host (0 = any).")
@click.option("--status-path", default=STATUS_PATH, show_default=True, help="Status callback.")
@click.option(
    "--direction",
    type=click.Choice([INBOUND, OUTBOUND]),
    default=INBOUND,
    show_default=True,
    help="outbound-api: a call the server had Twilio place (use with --voice-path).",
)
@click.option(
    "--voice-path",
    help="The voice URL's path and query, e.g. '/voice/incoming?flow=callback&callback=1'.",
)
@click.option("--bad-signature", is_flag=True, help="Sign with a wrong token (must be refused).")
@click.option("--interactive", is_flag=True, help="Type the caller's keys or words at prompts.")
def call_command(
    to: str,
    caller: str,
    at: str | None,
    sid: str | None,
    as_json: bool,
    url: str | None,
    public_url: str | None,
    recordings_port: int,
    status_path: str,
    direction: str,
    voice_path: str | None,
    bad_signature: bool,
    interactive: bool,
    queue_result: str | None,
    dial_result: str | None,
    queue_waits: int,
    confidence: float,
    **_inputs: Any,
) -> None:
    """Place one call as Twilio would, offline, and print what the caller heard.

    Inputs (--press, --wait-press, --say, --say-file, --talk, --silence, --hangup) are used in
    the order given, one per <Gather>/<Record>; after the last one the caller stays silent. A
    <Gather> in a queue's wait music takes only a --wait-press (the caller holds silently
    until then). Without --url the app runs in this process on a throwaway database.
    """
    from ivr.harness.simulator import CallSpec, parse_moment

    ctx = click.get_current_context()
    try:
        items = tuple(_to_input(kind, value) for kind, value in ctx.meta.get(_INPUTS_KEY, []))
        moment = parse_moment(at) if at else None
    except (ValueError, caller_inputs.InputError) as exc:
        raise click.BadParameter(str(exc)) from exc
    if url and not sid:
        # A running server keeps its calls: a repeated CallSid would be answered as a retry.
        sid = "CA" + uuid.uuid4().hex
    spec = CallSpec(
        to=to,
        caller=caller,
        at=moment,
        inputs=items,
        sid=sid,
        seed="interactive" if interactive else "",
        queue_result=queue_result,
        dial_result=dial_result,
        queue_waits=queue_waits,
        confidence=confidence,
        bad_signature=bad_signature,
        direction=direction,
        voice_path=voice_path,
    )
    with _harness(url, public_url, recordings_port, status_path) as (harness, where):
        source: InputSource | None = None
        on_line: Callable[[Line], None] | None = None
        if interactive:
            click.echo(_header(spec, spec.call_sid(), where), err=as_json)
            source = caller_inputs.InteractiveInputs(
                _read_line, lambda message: click.echo(f"  {message}", err=True)
            )

            def on_line(line: Line) -> None:
                click.echo(line.render(), err=as_json)

        result = harness.place(spec, source, on_line)
    if as_json:
        click.echo(result.to_json_text())
    else:
        if not interactive:
            click.echo(_header(spec, result.sid, where))
            for text in result.transcript():
                click.echo(text)
        for text in _footer(result):
            click.echo(text)
    if not result.outcome.ok:
        ctx.exit(1)


@click.command("test-calls")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--coverage", "with_coverage", is_flag=True, help="Report the flow coverage.")
@click.option("-k", "keyword", help="Only scenarios whose name contains this text.")
@click.option("--url", help="Run against a running server instead of in-process.")
@click.option("--public-url", help="With --url: the URL Twilio would call (what it signs).")
@click.option("--recordings-port", default=0, help="With --url: the recording host's port.")
def test_calls_command(
    paths: tuple[Path, ...],
    with_coverage: bool,
    keyword: str | None,
    url: str | None,
    public_url: str | None,
    recordings_port: int,
) -> None:
    """Run scenario files (default: tests/scenarios) and report pass/fail per call."""
    from dataclasses import replace

    from ivr.harness import coverage, scenarios
    from ivr.harness.local import LocalApp

    if with_coverage and url:
        raise click.UsageError("--coverage reads the server's call log: run it in-process")
    targets = list(paths) or [DEFAULT_SCENARIOS]
    try:
        found = scenarios.load_paths(targets)
    except scenarios.ScenarioError as exc:
        raise click.ClickException(str(exc)) from exc
    if keyword:
        found = [item for item in found if keyword.lower() in item.name.lower()]
    if not found:
        raise click.ClickException("no scenarios found in " + ", ".join(map(str, targets)))
    if url:
        # A running server keeps its calls: give this run's calls CallSids of their own.
        run_id = uuid.uuid4().hex
        found = [
            replace(item, spec=replace(item.spec, seed=f"{item.spec.seed}:{run_id}"))
            for item in found
        ]
        with _harness(url, public_url, recordings_port, STATUS_PATH) as (harness, _):
            results = scenarios.run(found, harness)
        report = scenarios.report(results)
    else:
        with LocalApp.start(load_settings()) as local:
            results = scenarios.run(found, local.harness(), local)
            report = scenarios.report(results)
            if with_coverage:
                report += ["", *coverage.render(coverage.compute(local.flows(), local.calls()))]
    for line in report:
        click.echo(line)
    if any(not item.passed for item in results):
        raise SystemExit(1)

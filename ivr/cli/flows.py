"""``ivr validate`` and ``ivr reload``: check the flow files, and have servers load them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ivr.cli.common import explain_missing_dirs, load_settings
from ivr.engine.timing import CHARS_PER_SECOND, flow_timing, render
from ivr.flows.registry import FlowRegistry, load_flow_set
from ivr.speech.lemmas import dictionary_words

__all__ = ["reload", "validate"]


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--timing",
    is_flag=True,
    help="Also print, per flow, the worst-case seconds before the first choice and before "
    "a person for a silent caller (an uncalibrated estimate).",
)
@click.option(
    "--chars-per-second",
    type=click.FloatRange(min=1, max=50),
    default=CHARS_PER_SECOND,
    show_default=True,
    help="Speaking speed the --timing estimate assumes at rate 100%.",
)
def validate(paths: tuple[Path, ...], timing: bool, chars_per_second: float) -> None:
    """Check flow files (default: the flows directory); one line per problem."""
    settings = load_settings()
    targets = list(paths) or [settings.flows_dir]
    flow_set, problems = load_flow_set(targets, settings.prompts_dir, dictionary_words())
    if flow_set is None:
        explain_missing_dirs(settings)
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(problems)} problem(s) found.", err=True)
        sys.exit(1)
    for name, flow in sorted(flow_set.flows.items()):
        lines = ", ".join(flow.lines) or "no lines"
        click.echo(f"ok  {name} ({flow.source}): {len(flow.nodes)} nodes, {lines}")
    if timing:
        timings = [
            flow_timing(flow, chars_per_second) for _, flow in sorted(flow_set.flows.items())
        ]
        for line in render(timings, chars_per_second):
            click.echo(line)


@click.command()
def reload() -> None:
    """Ask running servers to load the flow files again (after checking them)."""
    settings = load_settings()
    flow_set, problems = load_flow_set(
        [settings.flows_dir], settings.prompts_dir, dictionary_words()
    )
    if flow_set is None:
        explain_missing_dirs(settings)
        for problem in problems:
            click.echo(str(problem))
        click.echo("Not reloaded: the running servers keep their current flows.", err=True)
        sys.exit(1)
    registry = FlowRegistry(settings.flows_dir, settings.prompts_dir, marker_dir=settings.var_dir)
    registry.request_reload()
    click.echo(
        f"Reload requested ({len(flow_set.flows)} flows); servers pick it up within "
        f"{settings.reload_interval:g} s."
    )

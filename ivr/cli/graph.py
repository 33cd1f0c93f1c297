"""``ivr graph FLOW [-o file.svg|.png|.pdf|.dot]``: a call flow drawn with Graphviz."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click
import graphviz

from ivr.cli.common import load_settings
from ivr.flows.graph import flow_graph, node_files
from ivr.flows.model import Flow
from ivr.flows.problems import Problem
from ivr.flows.registry import display, load_flow_set

# Output file suffix → the format Graphviz renders (None: the DOT source itself).
FORMATS: dict[str, str | None] = {
    ".dot": None,
    ".gv": None,
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
}
_FLOW_SUFFIXES = (".yaml", ".yml")


class NoGraphviz(click.ClickException):
    """Graphviz's ``dot`` program is needed to draw a picture and is not installed."""

    exit_code = 2


@click.command("graph")
@click.argument("flow")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write here instead of printing DOT: .svg, .png or .pdf (drawn by Graphviz) or .dot.",
)
def graph_command(flow: str, output: Path | None) -> None:
    """Draw a call flow: FLOW is a flow name (from the flows directory) or a flow file.

    Without -o the DOT source is printed, e.g. to keep beside the YAML and diff in review.
    """
    if output is not None and output.suffix.lower() not in FORMATS:
        raise click.BadParameter(
            f"cannot write '{output.suffix or output.name}' files; "
            "use .svg, .png or .pdf (a picture) or .dot (the Graphviz source)",
            param_hint="'-o' / '--output'",
        )
    found = _load(flow)
    graph = flow_graph(found, node_files(found))
    if output is None:
        click.echo(graph.source, nl=False)
        return
    fmt = FORMATS[output.suffix.lower()]
    if fmt is None:
        output.write_text(graph.source, encoding="utf-8")
    else:
        output.write_bytes(_render(graph, fmt, output))
    click.echo(f"Wrote {output}: flow '{found.name}', {len(found.nodes)} nodes.")


def _load(flow: str) -> Flow:
    """The flow named (or the flow file given) on the command line, validated.

    A broken flow prints its problems and exits 1; a name or file that does not exist is a
    usage error (exit 2).
    """
    settings = load_settings()
    given = Path(flow)
    if _looks_like_path(flow):
        if not given.is_file():
            raise click.BadParameter(f"there is no flow file '{flow}'", param_hint="'FLOW'")
        return _only_flow(_load_or_exit([given], settings.prompts_dir))
    flows_dir = settings.flows_dir
    if not flows_dir.is_dir():
        raise click.BadParameter(
            f"there is no flow named '{flow}': the flows directory {display(flows_dir)} "
            "does not exist (set IVR_FLOWS_DIR, or give the path of a flow file)",
            param_hint="'FLOW'",
        )
    # Most flows are named after their file: read just that one, so that a mistake in
    # another flow does not keep this one from being drawn.
    for suffix in _FLOW_SUFFIXES:
        candidate = flows_dir / f"{flow}{suffix}"
        if candidate.is_file():
            loaded = _only_flow(_load_or_exit([candidate], settings.prompts_dir))
            if loaded.name == flow:
                return loaded
    flows = _load_or_exit([flows_dir], settings.prompts_dir)
    if flow not in flows:
        known = ", ".join(sorted(flows)) or "none"
        raise click.BadParameter(
            f"there is no flow named '{flow}' in {display(flows_dir)}/ (known flows: {known})",
            param_hint="'FLOW'",
        )
    return flows[flow]


def _looks_like_path(flow: str) -> bool:
    return (
        "/" in flow or "\\" in flow or flow.lower().endswith(_FLOW_SUFFIXES) or Path(flow).is_file()
    )


def _load_or_exit(paths: list[Path], prompts_dir: Path) -> dict[str, Flow]:
    """Read and validate flows; on any problem print them (``path:line: message``), exit 1."""
    flow_set, problems = load_flow_set(paths, prompts_dir)
    if flow_set is None:
        _report(problems)
        sys.exit(1)
    return flow_set.flows


def _only_flow(flows: dict[str, Flow]) -> Flow:
    # One flow file read on its own gives one flow.
    return next(iter(flows.values()))


def _report(problems: list[Problem]) -> None:
    unique = sorted(set(problems))
    for problem in unique:
        click.echo(str(problem))
    click.echo(f"{len(unique)} problem(s) found; nothing drawn.", err=True)


def _render(graph: graphviz.Digraph, fmt: str, output: Path) -> bytes:
    """The picture drawn by Graphviz's ``dot``, or a clear message when it is missing."""
    hint = (
        f"Graphviz's 'dot' program is needed to draw {output.name} but is not installed "
        "(or not on PATH). Install Graphviz (apt-get install graphviz, brew install "
        f"graphviz, https://graphviz.org/download/), or write the DOT source with "
        f"-o {output.with_suffix('.dot').name} and draw it elsewhere."
    )
    if shutil.which("dot") is None:
        raise NoGraphviz(hint)
    try:
        picture: bytes = graph.pipe(format=fmt)
        return picture
    except graphviz.ExecutableNotFound as exc:
        raise NoGraphviz(hint) from exc
    except graphviz.CalledProcessError as exc:
        stderr = exc.stderr.decode(errors="replace").strip() if exc.stderr else ""
        raise click.ClickException(f"Graphviz could not draw {output.name}: {stderr}") from exc

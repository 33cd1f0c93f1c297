"""A call flow drawn as a graph (Graphviz), for admins who would rather look than read YAML.

``flow_graph`` turns a ``Flow`` into a ``graphviz.Digraph``: one box per node, shaped and
coloured by kind (menus as tabs, schedules as diamonds, the ends of the automated part of a
call with a double border), labelled with the node's id, its kind and the first words it
says; edges carry the menu keys and their keywords, the schedule's branches and the other
exits (``next``, ``on_leave``, ``failure`` …). The output is deterministic (nodes sorted by
id, no generated names) so that the DOT source of a flow can be diffed in a review.

``node_files`` tells which file (the flow's own or an included part) each node is written
in; ``flow_graph`` draws the nodes of each part inside a box named by that file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import graphviz

from ivr.flows.model import Flow
from ivr.flows.nodes import (
    OPERATOR_KEY,
    MenuNode,
    Node,
    QueueNode,
    ScheduleNode,
    SpokenChoice,
)
from ivr.flows.reader import read_flow
from ivr.flows.service_nodes import RequestStatusNode
from ivr.flows.validate import menu_failure, menu_operator

# How much of a node's first prompt its label shows.
PROMPT_WORDS = 8
PROMPT_CHARS = 48
# Width (characters) of the lines of a label and of an edge's keyword list.
LABEL_WIDTH = 26
EDGE_WIDTH = 28

FONT = "Helvetica"
START_ID = "_start"


@dataclass(frozen=True)
class KindStyle:
    """How the nodes of one kind look."""

    shape: str
    fill: str
    style: str = "filled"
    # Two outlines mark the nodes where the automated part of the call ends.
    peripheries: int = 1


KIND_STYLES: dict[str, KindStyle] = {
    "prompt": KindStyle("box", "#e8f0fb", "rounded,filled"),
    "goto": KindStyle("box", "#f4f4f4", "rounded,dashed,filled"),
    "menu": KindStyle("tab", "#fff2b3"),
    "schedule": KindStyle("diamond", "#e6dcf5"),
    "queue": KindStyle("box", "#d6f0d6", peripheries=2),
    "dial": KindStyle("box", "#d6f0d6", peripheries=2),
    "voicemail": KindStyle("box", "#fde3c8", peripheries=2),
    "hangup": KindStyle("octagon", "#f7d4d4", peripheries=2),
    "callback": KindStyle("box", "#d5eeee", "rounded,filled"),
    "request_status": KindStyle("box", "#e3e3f7", "rounded,filled"),
    "text_alternative": KindStyle("note", "#eeeeee"),
}
DEFAULT_STYLE = KindStyle("box", "#ffffff")

# Edge looks: the caller's choices, the schedule's branches, and the ways out that are taken
# when something does not work (drawn dashed so the main paths stand out).
_CHOICE = {"color": "#333333"}
_NEXT = {"color": "#666666", "fontcolor": "#666666"}
_FALLBACK = {"color": "#999999", "fontcolor": "#777777", "style": "dashed"}
_BRANCH_COLORS = {"open": "#2e7d32", "closed": "#c62828", "holiday": "#ef6c00"}

# The order in which a menu's keys are drawn: as on a phone's keypad.
_KEY_ORDER = "123456789*0#"
_DASHES = ("—", "–", "-")
_PLAIN_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class _Exit:
    """One drawn way out of a node (several to the same target are drawn as one edge)."""

    target: str
    label: str
    attrs: Mapping[str, str]


def to_dot(flow: Flow, files: Mapping[str, str] | None = None) -> str:
    """The DOT source of ``flow_graph(flow, files)``."""
    source: str = flow_graph(flow, files).source
    return source


def flow_graph(flow: Flow, files: Mapping[str, str] | None = None) -> graphviz.Digraph:
    """The flow as a Graphviz digraph.

    ``files`` maps node ids to the file each is written in (see ``node_files``); nodes from a
    file other than the flow's own are drawn in a box named by that file. Without it (or for
    nodes it does not name) every node is drawn at the top level.
    """
    ids = _dot_ids(flow)
    graph = graphviz.Digraph(name=flow.name)
    graph.attr(
        label=_title(flow),
        labelloc="t",
        fontname=FONT,
        fontsize="18",
        rankdir="TB",
        nodesep="0.35",
        ranksep="0.5",
    )
    graph.attr("node", fontname=FONT, fontsize="11", margin="0.12,0.06")
    graph.attr("edge", fontname=FONT, fontsize="10", arrowsize="0.7")

    start = _unused_id(START_ID, set(ids.values()))
    graph.node(
        start,
        label="call",
        shape="circle",
        style="filled",
        fillcolor="#333333",
        fontcolor="#ffffff",
        fontsize="10",
        width="0.45",
        fixedsize="true",
    )

    clusters: dict[str, list[str]] = {}
    top: list[str] = []
    for node_id in sorted(flow.nodes):
        part = _part_label(flow, (files or {}).get(node_id))
        if part is None:
            top.append(node_id)
        else:
            clusters.setdefault(part, []).append(node_id)
    for node_id in top:
        _add_node(graph, flow, node_id, ids[node_id])
    for part in sorted(clusters):
        with graph.subgraph(name="cluster_" + re.sub(r"\W", "_", part, flags=re.ASCII)) as sub:
            sub.attr(
                label=part,
                labeljust="l",
                style="rounded,dashed",
                color="#aaaaaa",
                fontcolor="#777777",
                fontsize="11",
            )
            for node_id in clusters[part]:
                _add_node(sub, flow, node_id, ids[node_id])

    if flow.start in ids:
        graph.edge(start, ids[flow.start], color="#333333", penwidth="1.5")
    for node_id in sorted(flow.nodes):
        for exit_ in _exits(flow, node_id):
            if exit_.target not in ids:
                continue  # a broken link: ``ivr validate`` reports it, the drawing skips it
            graph.edge(
                ids[node_id], ids[exit_.target], label=_plain(exit_.label), **dict(exit_.attrs)
            )
    return graph


def node_files(flow: Flow) -> dict[str, str]:
    """Node id → the file (as the reader shows paths) each node of ``flow`` is written in.

    Reads the flow's file again (``flow.source``, relative to the working directory as the
    loader showed it); empty when there is no such file any more.
    """
    if not flow.source:
        return {}
    path = Path(flow.source)
    if not path.is_file():
        return {}
    _, source, _ = read_flow(path, {}, flow.source)
    if source is None:
        return {}
    return {node_id: where.path for node_id, where in source.nodes.items()}


def _dot_ids(flow: Flow) -> dict[str, str]:
    """The DOT id of every node: the node id itself when DOT can take it as it is."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    plain = [nid for nid in sorted(flow.nodes) if _is_plain(nid)]
    for node_id in plain:
        ids[node_id] = node_id
        taken.add(node_id)
    for node_id in sorted(set(flow.nodes) - set(plain)):
        # Colons mean ports to DOT and <…> an HTML label: spell such ids out in hex.
        dot_id = _unused_id("n_" + node_id.encode().hex(), taken)
        ids[node_id] = dot_id
        taken.add(dot_id)
    return ids


def _is_plain(node_id: str) -> bool:
    return bool(_PLAIN_ID.fullmatch(node_id)) and node_id.lower() not in graphviz.quoting.KEYWORDS


def _unused_id(wanted: str, taken: set[str]) -> str:
    while wanted in taken:
        wanted += "_"
    return wanted


def _part_label(flow: Flow, file: str | None) -> str | None:
    """The name of an included part's box, relative to the flow file's folder."""
    if file is None or file == flow.source:
        return None
    if flow.source:
        try:
            return Path(file).relative_to(Path(flow.source).parent).as_posix()
        except ValueError:
            pass
    return Path(file).as_posix()


def _title(flow: Flow) -> str:
    """The graph's heading: name and title, the lines, the hours."""
    rows = [f"<B>{_html(flow.name)}</B>" + (f" — {_html(flow.title)}" if flow.title else "")]
    details = [", ".join(flow.lines) if flow.lines else "no lines"]
    if len(flow.languages) > 1:
        details.append("languages " + ", ".join(flow.languages))
    if flow.profile:
        details.append(f"profile {flow.profile}")
    rows.append(_small(_html(" · ".join(details)), 12))
    hours = _hours(flow)
    if hours:
        rows.append(_small(_html(hours), 12))
    return "<" + "<BR/>".join(rows) + ">"


def _hours(flow: Flow) -> str:
    """The schedule in one line: ``mon-fri 08:00-20:00 · sat 09:00-18:00 · holidays …``."""
    spec = flow.schedule
    if spec is None:
        return ""
    if isinstance(spec.hours, str):
        return f"hours {spec.hours}"
    parts = [f"{days} {ranges}" for days, ranges in spec.hours.items()]
    parts.append(f"holidays {spec.holidays}")
    return "hours: " + " · ".join(parts)


def _add_node(graph: graphviz.Digraph, flow: Flow, node_id: str, dot_id: str) -> None:
    node = flow.nodes[node_id]
    style = KIND_STYLES.get(node.kind, DEFAULT_STYLE)
    attrs = {
        "shape": style.shape,
        "style": style.style,
        "fillcolor": style.fill,
    }
    if style.peripheries != 1:
        attrs["peripheries"] = str(style.peripheries)
    if node_id == flow.start:
        attrs["penwidth"] = "2"
    graph.node(dot_id, label=_node_label(flow, node_id, node), **attrs)


def _node_label(flow: Flow, node_id: str, node: Node) -> str:
    """``<B>id</B>``, the kind (and what sets it apart), the first words it says."""
    rows = [f"<B>{_html(node_id)}</B>", _small(_html(_kind_text(node)))]
    said = _first_words(flow, node)
    if said:
        rows += [f"<I>{_html(line)}</I>" for line in _wrap(said, LABEL_WIDTH)]
    return "<" + "<BR/>".join(rows) + ">"


def _kind_text(node: Node) -> str:
    if isinstance(node, MenuNode):
        return "menu · * repeats"
    if isinstance(node, QueueNode):
        others = "".join(f", {lang}: {q}" for lang, q in sorted(node.queue_by_language.items()))
        return f"queue {node.queue}{others}"
    number = getattr(node, "number", None)
    if node.kind == "dial" and isinstance(number, str):
        return f"dial {number}"
    return node.kind


def _first_words(flow: Flow, node: Node) -> str:
    """The first words of the node's first prompt in the flow's first language, in «»."""
    prompt_ids = node.prompt_ids()
    if not prompt_ids or not flow.languages:
        return ""
    words = flow.prompt_text(flow.languages[0], prompt_ids[0]).split()
    if not words:
        return ""
    text = " ".join(words[:PROMPT_WORDS])
    cut = len(words) > PROMPT_WORDS
    if len(text) > PROMPT_CHARS:
        head = text[: PROMPT_CHARS + 1]
        text = head.rsplit(" ", 1)[0] if " " in head else text[:PROMPT_CHARS]
        cut = True
    return "«" + (text.rstrip(" ,.;:—-") + "…" if cut else text) + "»"


def _exits(flow: Flow, node_id: str) -> list[_Exit]:
    """The drawn edges out of a node, parallel ones merged into one label."""
    node = flow.nodes[node_id]
    if isinstance(node, MenuNode):
        found = _menu_exits(flow, node)
    elif isinstance(node, ScheduleNode):
        found = [
            _Exit(edge.target, edge.label, {"color": _BRANCH_COLORS[edge.label]})
            for edge in node.edges()
        ]
    else:
        found = [_other_exit(edge.label, edge.target) for edge in node.edges()]
        if (
            isinstance(node, RequestStatusNode)
            and node.operator is None
            and flow.defaults.operator is not None
        ):
            # After three misses the engine sends the caller to the flow's operator node.
            found.append(_Exit(flow.defaults.operator, "operator", _FALLBACK))
    return _merge(found)


def _menu_exits(flow: Flow, node: MenuNode) -> list[_Exit]:
    found = []
    for key in sorted(node.options, key=_key_rank):
        option = node.options[key]
        notes = []
        if option.lang is not None:
            notes.append(f"→ language {option.lang}")
        if option.profile is not None:
            notes.append(f"→ profile {option.profile}")
        if option.more:
            notes.append("(more options)")
        lines = _wrap(key + _said(flow, option), EDGE_WIDTH)
        found.append(_Exit(option.go, "\n".join(lines + notes), _CHOICE))
    for shortcut in node.shortcuts:
        found.append(
            _Exit(
                shortcut.go, "\n".join(_wrap("said" + _said(flow, shortcut), EDGE_WIDTH)), _CHOICE
            )
        )
    operator = menu_operator(flow, node)
    if OPERATOR_KEY not in node.options and operator is not None:
        attrs = _CHOICE if node.operator is not None else _FALLBACK
        found.append(_Exit(operator, "0 · operator", attrs))
    failure = menu_failure(flow, node)
    if failure is not None:
        found.append(_Exit(failure, "failure", _FALLBACK))
    return found


# Keywords drawn on an edge: enough to recognise the choice, not the whole list.
EDGE_KEYWORDS = 4


def _said(flow: Flow, choice: SpokenChoice) -> str:
    """`` · word, word, …``: the first keywords of the flow's own languages, each once."""
    keywords = list(dict.fromkeys(w for lang in flow.languages for w in choice.keywords_for(lang)))
    if not keywords:
        return ""
    more = ", …" if len(keywords) > EDGE_KEYWORDS else ""
    return " · " + ", ".join(keywords[:EDGE_KEYWORDS]) + more


def _other_exit(label: str, target: str) -> _Exit:
    if label in ("on_failure", "on_fail"):
        return _Exit(target, "failure", _FALLBACK)
    if label in ("on_leave", "operator"):
        return _Exit(target, label, _FALLBACK)
    return _Exit(target, label, _NEXT)


def _merge(found: list[_Exit]) -> list[_Exit]:
    """One edge per target, in the order first seen; a solid look wins over a dashed one."""
    merged: dict[str, _Exit] = {}
    for exit_ in found:
        seen = merged.get(exit_.target)
        if seen is None:
            merged[exit_.target] = exit_
            continue
        attrs = seen.attrs if seen.attrs is not _FALLBACK else exit_.attrs
        merged[exit_.target] = _Exit(seen.target, f"{seen.label}\n{exit_.label}", attrs)
    return list(merged.values())


def _key_rank(key: str) -> tuple[int, str]:
    return (_KEY_ORDER.index(key) if key in _KEY_ORDER else len(_KEY_ORDER), key)


def _wrap(text: str, width: int) -> list[str]:
    """Break ``text`` at spaces into lines of about ``width`` characters (a longer word, or
    one followed by a dash, makes a longer line)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        # A dash stays with the word before it: a line never starts with «—».
        if current and len(current) + 1 + len(word) > width and word not in _DASHES:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def _plain(label: str) -> str:
    """A plain DOT label: lines joined with DOT's centred line break, never read as HTML."""
    escaped = label.replace("\\", "\\\\").replace("\n", "\\n")
    # ``nohtml`` marks the string (a ``str`` subclass) so that quoting never reads it as HTML.
    return cast(str, graphviz.nohtml(escaped))


def _html(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _small(html: str, size: int = 10) -> str:
    return f'<FONT POINT-SIZE="{size}" COLOR="#555555">{html}</FONT>'

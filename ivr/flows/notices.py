"""The safety notices rule of ``ivr validate``: nobody reaches a person unwarned.

A flow names its safety notices in ``defaults: notices`` (the recording notice and the
warning that staff never ask for passwords or SMS codes). Every path from the start to a
queue or a dial must pass a node that says each of them. A flow that names no notices is not
checked (sketches and test flows); tests/flows/test_notices.py makes sure every shipped flow
that can reach a person names them.

The walk follows every exit a call can take (menu keys, 0 and spoken "operator", the way out
after too many failed attempts, a status check's fallback to a person) and counts only the
prompts a node always says on entry (its ``say``): a no-input or retry prompt may never be
heard.
"""

from __future__ import annotations

from collections import deque

from ivr.flows.model import Flow
from ivr.flows.nodes import DialNode, QueueNode, split_prompt_ref
from ivr.flows.problems import Problem
from ivr.flows.reader import FlowSource
from ivr.flows.service_nodes import RequestStatusNode

# A path shown in a message: this many node ids at most, then «…».
PATH_SHOWN = 8


def check_notices(flow: Flow, source: FlowSource) -> list[Problem]:
    """A problem for each queue or dial some path reaches without every safety notice."""
    people = [nid for nid, node in flow.nodes.items() if isinstance(node, QueueNode | DialNode)]
    if not people:
        return []
    notices = {split_prompt_ref(ref)[0] for ref in flow.defaults.notices}
    if not notices:
        # Small test and sketch flows name none; every shipped flow does (a test checks it).
        return []
    problems = []
    for node_id, (missing, path) in sorted(_unwarned(flow, notices).items()):
        where = source.nodes[node_id]
        shown = path if len(path) <= PATH_SHOWN else [*path[: PATH_SHOWN - 1], "…", path[-1]]
        problems.append(
            Problem(
                where.path,
                where.node_line,
                f"node '{node_id}': a caller reaches a person here without hearing the "
                f"safety notice{'s' if len(missing) > 1 else ''} "
                f"{' and '.join(repr(m) for m in missing)}, on the path {' → '.join(shown)}",
            )
        )
    return problems


def _said_notices(flow: Flow, node_id: str, notices: set[str]) -> frozenset[str]:
    return frozenset(
        pid
        for pid in (split_prompt_ref(ref)[0] for ref in flow.nodes[node_id].say)
        if pid in notices
    )


def _exits(flow: Flow, node_id: str) -> list[str]:
    # ivr.flows.validate calls this module: import its edge helper late, as caller_rules does.
    from ivr.flows.validate import successors

    targets = successors(flow, node_id)
    node = flow.nodes[node_id]
    if (
        isinstance(node, RequestStatusNode)
        and node.operator is None
        and flow.defaults.operator is not None
    ):
        # After three misses the engine sends the caller to the flow's operator node.
        targets.append(flow.defaults.operator)
    return targets


def _unwarned(flow: Flow, notices: set[str]) -> dict[str, tuple[list[str], list[str]]]:
    """Queue or dial node → (the notices missing, the shortest path that misses them).

    A breadth-first walk over (node, notices heard so far): few notices make few states.
    """
    found: dict[str, tuple[list[str], list[str]]] = {}
    first = (flow.start, _said_notices(flow, flow.start, notices))
    came_from: dict[tuple[str, frozenset[str]], tuple[str, frozenset[str]] | None] = {first: None}
    todo = deque([first])
    while todo:
        state = todo.popleft()
        node_id, heard = state
        node = flow.nodes[node_id]
        if isinstance(node, QueueNode | DialNode) and heard != notices and node_id not in found:
            path = []
            at: tuple[str, frozenset[str]] | None = state
            while at is not None:
                path.append(at[0])
                at = came_from[at]
            found[node_id] = (sorted(notices - heard), path[::-1])
        for target in _exits(flow, node_id):
            if target not in flow.nodes:
                continue
            nxt = (target, heard | _said_notices(flow, target, notices))
            if nxt not in came_from:
                came_from[nxt] = state
                todo.append(nxt)
    return found

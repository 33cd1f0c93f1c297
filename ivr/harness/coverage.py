"""Flow coverage: which nodes and menu options a set of calls reached, per flow.

Read from the server's own call log (``Call.path`` and ``Call.inputs``), so it counts what the
server did, not what the harness believes it asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ivr.engine.handlers import speech_choice
from ivr.flows.model import Flow
from ivr.flows.nodes import MenuNode
from ivr.flows.words import spoken_key
from ivr.harness.local import CallRecord


@dataclass
class FlowCoverage:
    """What the calls reached of one flow."""

    flow: str
    source: str
    nodes: list[str]
    menus: dict[str, list[str]]
    reached_nodes: set[str] = field(default_factory=set)
    reached_options: dict[str, set[str]] = field(default_factory=dict)
    calls: int = 0

    @property
    def missing_nodes(self) -> list[str]:
        """Nodes no call passed, in the flow's order."""
        return [node for node in self.nodes if node not in self.reached_nodes]

    @property
    def missing_options(self) -> list[tuple[str, str]]:
        """``(menu, key)`` options no call chose."""
        return [
            (menu, key)
            for menu, keys in self.menus.items()
            for key in keys
            if key not in self.reached_options.get(menu, set())
        ]

    @property
    def option_count(self) -> int:
        """How many menu options the flow has."""
        return sum(len(keys) for keys in self.menus.values())

    @property
    def complete(self) -> bool:
        """Every node and every menu option reached."""
        return not self.missing_nodes and not self.missing_options


def option_chosen(flow: Flow, menu: MenuNode, entry: dict[str, object]) -> str | None:
    """The option key an input at a menu chose, or None (repeat, operator, a miss)."""
    kind, value = entry.get("kind"), str(entry.get("value", ""))
    if kind == "digits":
        key = value[:1]
        return key if key in menu.options else None
    if kind == "speech":
        # The engine's own rule, so coverage counts what a call really chose (the call log
        # does not keep the language, so every language's keywords count).
        heard = flow.words.heard(value)
        choice = speech_choice(flow, menu, heard, None)
        if choice is not None:
            return choice.key
        said = [spoken_key(heard, lang) for lang in flow.languages]
        return next((key for key in said if key is not None and key in menu.options), None)
    return None


def compute(flows: dict[str, Flow], calls: Iterable[CallRecord]) -> list[FlowCoverage]:
    """Coverage of every flow by the calls, sorted by flow name."""
    coverages = {
        name: FlowCoverage(
            flow=name,
            source=flow.source,
            nodes=list(flow.nodes),
            menus={
                node_id: list(node.options)
                for node_id, node in flow.nodes.items()
                if isinstance(node, MenuNode)
            },
        )
        for name, flow in flows.items()
    }
    for call in calls:
        coverage = coverages.get(call.flow)
        if coverage is None:
            continue
        flow = flows[call.flow]
        coverage.calls += 1
        coverage.reached_nodes.update(node for node in call.path if node in flow.nodes)
        for entry in call.inputs:
            node = flow.nodes.get(str(entry.get("node", "")))
            if isinstance(node, MenuNode):
                key = option_chosen(flow, node, entry)
                if key is not None:
                    coverage.reached_options.setdefault(str(entry["node"]), set()).add(key)
    return [coverages[name] for name in sorted(coverages)]


def render(coverages: list[FlowCoverage]) -> list[str]:
    """The coverage report: per flow, what was reached and what never was."""
    lines = ["Flow coverage:"]
    for cov in coverages:
        reached_options = cov.option_count - len(cov.missing_options)
        where = f" ({cov.source})" if cov.source else ""
        lines.append(
            f"{cov.flow}{where}: {cov.calls} calls, "
            f"nodes {len(cov.nodes) - len(cov.missing_nodes)}/{len(cov.nodes)}, "
            f"menu options {reached_options}/{cov.option_count}"
        )
        reached = [node for node in cov.nodes if node in cov.reached_nodes]
        lines.append(f"  nodes reached: {', '.join(reached) or '-'}")
        for menu, keys in cov.menus.items():
            got = [key for key in keys if key in cov.reached_options.get(menu, set())]
            lines.append(
                f"  menu {menu}: options reached {' '.join(got) or '-'} of {' '.join(keys)}"
            )
        if cov.complete:
            lines.append("  never reached: nothing")
            continue
        if cov.missing_nodes:
            lines.append(f"  nodes never reached: {', '.join(cov.missing_nodes)}")
        if cov.missing_options:
            missing = ", ".join(f"{menu} {key}" for menu, key in cov.missing_options)
            lines.append(f"  menu options never reached: {missing}")
    return lines

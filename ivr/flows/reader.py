"""Read flow files (and the prompt files they speak) into typed ``Flow`` models.

Every mistake becomes a ``Problem`` with the file and line it stands on; the reader keeps
going after a mistake so that an admin sees all of them at once.
"""

from __future__ import annotations

import string
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ivr.flows.model import WEEKDAYS, Defaults, Flow, Profile, parse_ranges, parse_weekdays
from ivr.flows.nodes import (
    NODE_KINDS,
    SUPPORT_EMAIL,
    Node,
    keys_only_variant,
    prompt_fields,
    split_prompt_ref,
)
from ivr.flows.problems import Problem
from ivr.flows.yamlio import LocatedList, LocatedMap, line_of, parse_yaml

FLOW_KEYS = (
    "name",
    "title",
    "lines",
    "languages",
    "start",
    "schedule",
    "defaults",
    "include",
    "profiles",
    "profile",
    "nodes",
)
PART_KEYS = ("nodes", "profiles")


@dataclass
class NodeSource:
    """Where a node was written: its file and its YAML mapping (for line numbers)."""

    path: str
    tree: LocatedMap
    # The line of the node's id (``greeting:``), where messages about the whole node point.
    id_line: int | None = None

    @property
    def node_line(self) -> int:
        """The line to show for a problem of the node as a whole."""
        return self.id_line if self.id_line is not None else self.tree.line

    def line(self, *loc: str | int) -> int:
        """The line of a key path inside the node, e.g. ``("options", "1", "go")``."""
        return line_of(self.tree, loc)


@dataclass
class FlowSource:
    """Line information for a whole flow, kept beside the model for the validator."""

    path: str
    tree: LocatedMap
    nodes: dict[str, NodeSource] = field(default_factory=dict)

    def line(self, *loc: str | int) -> int:
        """The line of a top-level key path in the flow file."""
        return line_of(self.tree, loc)


@dataclass
class PromptCatalog:
    """The prompt texts of one language, with the line of each id."""

    lang: str
    path: str
    texts: dict[str, str]
    lines: dict[str, int]


def _plain(message: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def pydantic_problems(
    exc: ValidationError,
    model: type[BaseModel],
    tree: Any,
    path: str,
    where: str,
    covered: Collection[tuple[str | int, ...]] = (),
) -> list[Problem]:
    """Turn pydantic's errors into plain sentences at the right line.

    Value errors at a location in ``covered`` are left out: they were already reported, each
    at its own line.
    """
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        kind = err["type"]
        # Discriminated or nested unions add the member's name to the location, and a bad
        # dict key adds "[key]"; drop both.
        loc = tuple(
            p
            for p in loc
            if not (isinstance(p, str) and (p.startswith("function-") or p == "[key]"))
        )
        if kind == "value_error" and loc in covered:
            continue
        name = ".".join(str(p) for p in loc)
        if kind == "extra_forbidden":
            allowed = ", ".join(_allowed_keys(model, loc[:-1]))
            message = f"unknown key '{loc[-1]}'" + (f" (allowed: {allowed})" if allowed else "")
        elif kind == "missing":
            message = f"'{name}' is missing"
        elif kind in ("dict_type", "model_type"):
            message = f"'{name}' must be a mapping of keys to values"
        elif kind == "list_type":
            message = f"'{name}' must be a list"
        else:
            message = f"'{name}': {_plain(err['msg'])}" if name else _plain(err["msg"])
        problems.append(Problem(path, line_of(tree, loc), f"{where}{message}"))
    return problems


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys a model (or the sub-model at ``loc``) accepts, for 'unknown key' messages."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        info = current.model_fields.get(str(part))
        if info is None:
            # A dict of models: skip the user's key and keep the value type.
            return []
        current = _model_in(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [k for k in current.model_fields if k != "kind"]
    return []


def _model_in(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def read_node(node_id: str, raw: Any, path: str, line: int) -> tuple[Node | None, list[Problem]]:
    """Build one node of its declared kind."""
    where = f"node '{node_id}': "
    if not isinstance(raw, LocatedMap):
        return None, [Problem(path, line, f"{where}a node must be a mapping with a 'kind'")]
    kind = raw.get("kind")
    if kind is None:
        return None, [Problem(path, raw.line, f"{where}'kind' is missing")]
    cls = NODE_KINDS.get(str(kind))
    if cls is None:
        known = ", ".join(sorted(NODE_KINDS))
        return None, [
            Problem(path, raw.key_lines["kind"], f"{where}unknown kind '{kind}' (known: {known})")
        ]
    try:
        return cls.model_validate(raw), []
    except ValidationError as exc:
        return None, pydantic_problems(exc, cls, raw, path, where)


def _read_nodes(
    raw_nodes: Any, path: str, line: int, source: FlowSource, nodes: dict[str, Node]
) -> list[Problem]:
    if not isinstance(raw_nodes, LocatedMap):
        return [Problem(path, line, "'nodes' must be a mapping of node ids to nodes")]
    problems: list[Problem] = []
    for node_id, raw in raw_nodes.items():
        key_line = raw_nodes.key_lines[node_id]
        if node_id in source.nodes:
            first = source.nodes[node_id]
            problems.append(
                Problem(
                    path,
                    key_line,
                    f"node '{node_id}' is defined twice (also at {first.path}:{first.node_line})",
                )
            )
            continue
        node, node_problems = read_node(node_id, raw, path, key_line)
        problems.extend(node_problems)
        if isinstance(raw, LocatedMap):
            source.nodes[node_id] = NodeSource(path, raw, key_line)
        if node is not None:
            nodes[node_id] = node
    return problems


def _unknown_keys(
    tree: LocatedMap, allowed: tuple[str, ...], path: str, what: str
) -> list[Problem]:
    return [
        Problem(
            path,
            tree.key_lines[key],
            f"unknown key '{key}' in {what} (allowed: {', '.join(allowed)})",
        )
        for key in tree
        if key not in allowed
    ]


def read_flow(
    path: Path, prompts: dict[str, PromptCatalog], display_path: str | None = None
) -> tuple[Flow | None, FlowSource | None, list[Problem]]:
    """Read a flow file and its includes into a ``Flow`` with its prompt texts."""
    shown = display_path or str(path)
    doc = parse_yaml(path.read_text(encoding="utf-8"), shown)
    problems = list(doc.problems)
    if doc.data is None:
        return None, None, problems
    tree = doc.data
    if not isinstance(tree, LocatedMap):
        return None, None, [*problems, Problem(shown, 1, "a flow file must be a mapping")]
    source = FlowSource(shown, tree)
    problems += _unknown_keys(tree, FLOW_KEYS, shown, "the flow")
    schedule_problems = _schedule_problems(tree.get("schedule"), shown)
    problems += schedule_problems

    nodes: dict[str, Node] = {}
    if "nodes" in tree:
        problems += _read_nodes(tree["nodes"], shown, tree.key_lines["nodes"], source, nodes)
    else:
        problems.append(Problem(shown, tree.line, "'nodes' is missing"))
    profiles: dict[str, Profile] = {}
    if "profiles" in tree:
        problems += _read_profiles(tree["profiles"], shown, tree.key_lines["profiles"], profiles)
    problems += _read_includes(path, shown, tree, source, nodes, profiles)

    fields = {
        k: v
        for k, v in tree.items()
        if k in FLOW_KEYS and k not in ("nodes", "include", "profiles")
    }
    fields["profiles"] = profiles
    fields.setdefault("name", path.stem)
    languages = fields.get("languages") or ["ru"]
    if isinstance(languages, str):
        languages = [languages]
    # Every catalog: a prompt may be spoken in a language the flow does not offer
    # ("for_english@en"); what the flow does not speak is trimmed below.
    fields["prompts"] = {lang: dict(catalog.texts) for lang, catalog in prompts.items()}
    fields["source"] = shown
    try:
        flow = Flow.model_validate({**fields, "nodes": nodes})
    except ValidationError as exc:
        covered = _SCHEDULE_TEXTS if schedule_problems else ()
        problems += pydantic_problems(exc, Flow, tree, shown, "", covered)
        return None, source, problems
    if problems:
        return None, source, problems
    # Keep only the prompts this flow speaks, so its snapshot and version depend on nothing else.
    spoken = _prompts_spoken(flow)
    trimmed = {
        lang: kept
        for lang, texts in flow.prompts.items()
        if (kept := {k: v for k, v in texts.items() if (lang, k) in spoken})
    }
    return flow.model_copy(update={"prompts": trimmed}), source, problems


# The schedule texts ``_schedule_problems`` checks line by line.
_SCHEDULE_TEXTS = (("schedule", "hours"), ("schedule", "holidays"), ("schedule", "special"))


def _schedule_problems(schedule: Any, path: str) -> list[Problem]:
    """Check the schedule's weekdays and hours entry by entry, each at its own line.

    The model checks them too, but it stops at the first mistake and can only point at the
    ``hours:`` key; an admin should see every bad entry where it is written.
    """
    if not isinstance(schedule, LocatedMap):
        return []
    problems: list[Problem] = []

    def check_ranges(text: Any, line: int, what: str) -> None:
        if isinstance(text, str):
            try:
                parse_ranges(text)
            except ValueError as exc:
                problems.append(Problem(path, line, f"schedule: {what}: {exc}"))

    hours = schedule.get("hours")
    if isinstance(hours, LocatedMap):
        seen: dict[int, str] = {}
        for days, ranges in hours.items():
            line = hours.key_lines[days]
            try:
                weekdays = parse_weekdays(days)
            except ValueError as exc:
                problems.append(Problem(path, line, f"schedule: {exc}"))
                weekdays = []
            for day in weekdays:
                if day in seen:
                    problems.append(
                        Problem(
                            path,
                            line,
                            f"schedule: {WEEKDAYS[day]} is given hours twice "
                            f"('{seen[day]}' and '{days}')",
                        )
                    )
                else:
                    seen[day] = days
            check_ranges(ranges, line, f"hours for '{days}'")
    if "holidays" in schedule:
        check_ranges(schedule["holidays"], schedule.key_lines["holidays"], "holiday hours")
    special = schedule.get("special")
    if isinstance(special, LocatedMap):
        for day_text, ranges in special.items():
            check_ranges(ranges, special.key_lines[day_text], f"hours for {day_text}")
    return problems


def _prompts_spoken(flow: Flow) -> set[tuple[str, str]]:
    """(language, prompt id) of every text the flow may speak."""
    refs = {ref for name in prompt_fields(Defaults) for ref in getattr(flow.defaults, name)}
    for node in flow.nodes.values():
        refs.update(node.prompt_ids())
    spoken: set[tuple[str, str]] = set()
    for ref in refs:
        prompt_id, fixed = split_prompt_ref(ref)
        spoken.update((lang, prompt_id) for lang in ([fixed] if fixed else flow.languages))
    # A prompt's keys-only wording, said when the call cannot answer by voice there.
    spoken.update(
        (lang, keys_only_variant(prompt_id))
        for lang, prompt_id in list(spoken)
        if keys_only_variant(prompt_id) in flow.prompts.get(lang, {})
    )
    # A text naming {support_email} needs the prompt that holds the address.
    if any(
        "{" + SUPPORT_EMAIL + "}" in flow.prompts.get(lang, {}).get(prompt_id, "")
        for lang, prompt_id in spoken
    ):
        spoken.update((lang, SUPPORT_EMAIL) for lang in flow.prompts)
    return spoken


def _read_profiles(raw: Any, path: str, line: int, profiles: dict[str, Profile]) -> list[Problem]:
    """Accessibility profiles, by name; a name defined twice is a problem."""
    if not isinstance(raw, LocatedMap):
        return [Problem(path, line, "'profiles' must map profile names to their settings")]
    problems: list[Problem] = []
    for name, settings in raw.items():
        where = f"profile '{name}': "
        if name in profiles:
            problems.append(Problem(path, raw.key_lines[name], f"{where}defined twice"))
            continue
        try:
            profiles[name] = Profile.model_validate(settings or {})
        except ValidationError as exc:
            problems += pydantic_problems(exc, Profile, settings, path, where)
    return problems


def _read_includes(
    path: Path,
    shown: str,
    tree: LocatedMap,
    source: FlowSource,
    nodes: dict[str, Node],
    profiles: dict[str, Profile],
) -> list[Problem]:
    if "include" not in tree:
        return []
    includes = tree["include"]
    line = tree.key_lines["include"]
    if isinstance(includes, str):
        includes = LocatedList([includes])
        includes.line, includes.item_lines = line, [line]
    if not isinstance(includes, LocatedList):
        return [Problem(shown, line, "'include' must be a list of file paths")]
    problems: list[Problem] = []
    for rel, item_line in zip(includes, includes.item_lines, strict=True):
        part_path = path.parent / str(rel)
        part_shown = str(Path(shown).parent / str(rel))
        if not part_path.is_file():
            problems.append(Problem(shown, item_line, f"included file '{rel}' does not exist"))
            continue
        doc = parse_yaml(part_path.read_text(encoding="utf-8"), part_shown)
        problems += doc.problems
        if doc.data is None:
            continue
        if not isinstance(doc.data, LocatedMap):
            problems.append(Problem(part_shown, 1, "an included file must be a mapping"))
            continue
        problems += _unknown_keys(doc.data, PART_KEYS, part_shown, "an included file")
        if "nodes" in doc.data:
            problems += _read_nodes(
                doc.data["nodes"], part_shown, doc.data.key_lines["nodes"], source, nodes
            )
        if "profiles" in doc.data:
            problems += _read_profiles(
                doc.data["profiles"], part_shown, doc.data.key_lines["profiles"], profiles
            )
    return problems


def read_prompts(
    path: Path, lang: str, display_path: str | None = None
) -> tuple[PromptCatalog | None, list[Problem]]:
    """Read ``prompts/<lang>.yaml``: a mapping of prompt id to the text spoken."""
    shown = display_path or str(path)
    doc = parse_yaml(path.read_text(encoding="utf-8"), shown)
    problems = list(doc.problems)
    if doc.data is None:
        return None, problems
    if not isinstance(doc.data, LocatedMap):
        return None, [*problems, Problem(shown, 1, "a prompt file maps prompt ids to texts")]
    texts: dict[str, str] = {}
    for key, value in doc.data.items():
        if not isinstance(value, str) or not value.strip():
            problems.append(
                Problem(shown, doc.data.key_lines[key], f"prompt '{key}' must be a non-empty text")
            )
            continue
        mistake = _template_mistake(value)
        if mistake is not None:
            problems.append(Problem(shown, doc.data.key_lines[key], f"prompt '{key}': {mistake}"))
            continue
        texts[key] = " ".join(value.split())
    return PromptCatalog(lang, shown, texts, dict(doc.data.key_lines)), problems


def _template_mistake(text: str) -> str | None:
    """Why the engine could not fill the ``{values}`` of a prompt text, or None.

    Caught here, a stray brace is a message for the admin; missed, it would end live calls.
    """
    hint = "values are written like {next_opening}; write {{ or }} for a brace itself"
    try:
        fields = [
            (n, spec, conv) for _, n, spec, conv in string.Formatter().parse(text) if n is not None
        ]
    except ValueError:
        return f"a '{{' or '}}' is not paired; {hint}"
    for name, spec, conversion in fields:
        # Values are plain text: no attributes, indexes, conversions or format specs.
        if not name.isidentifier() or spec or conversion:
            written = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            return f"'{{{written}}}' is not a value name; {hint}"
    return None

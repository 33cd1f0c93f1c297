"""Checks of a flow as a whole: the graph, the menus, the prompts.

The typed models already refuse unknown kinds, unknown keys and malformed values; what is left
needs the whole flow at once: links to missing nodes, nodes nobody reaches, loops that never
wait for the caller, nodes from which no path reaches an end, menu keys that YAML 1.1 would
misread, duplicate keywords and prompts missing in a language.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

from ivr.domain.phones import to_e164
from ivr.flows.caller_rules import check_caller_rules
from ivr.flows.model import Defaults, Flow
from ivr.flows.nodes import (
    ANY_LANGUAGE,
    COMPUTED_VALUES,
    KEYPAD_KEYS,
    OPERATOR_KEY,
    REPEAT_KEY,
    SUPPORT_EMAIL,
    LineNode,
    MenuNode,
    SpokenChoice,
    prompt_fields,
    split_prompt_ref,
)
from ivr.flows.notices import check_notices
from ivr.flows.problems import Problem
from ivr.flows.reader import FlowSource, NodeSource, PromptCatalog
from ivr.flows.words import Phrase, same_phrase
from ivr.flows.yamlio import LocatedList, LocatedMap

_YAML11_TYPES = {"bool": "a yes/no value", "int": "a number", "float": "a number"}


def validate_flow(
    flow: Flow, source: FlowSource, prompts: dict[str, PromptCatalog]
) -> list[Problem]:
    """Every problem of one flow that the models alone cannot see."""
    problems: list[Problem] = []
    problems += _check_links(flow, source)
    if problems:
        # The graph checks below would only repeat the broken links in other words.
        return problems
    problems += _check_menus(flow, source)
    problems += _check_line_branches(flow, source)
    problems += _check_reachable(flow, source)
    loop_problems, in_loops = _check_loops(flow, source)
    problems += loop_problems
    # A node in such a loop never reaches an end either; saying so again would only repeat
    # the loop in other words.
    problems += _check_ends(flow, source, skip=in_loops)
    problems += _check_prompts(flow, source, prompts)
    if not problems:
        # Caller-experience rules judge a sound flow; on a broken one they would only add noise.
        problems += check_caller_rules(flow, source, prompts)
        problems += check_notices(flow, source)
    return problems


def successors(flow: Flow, node_id: str) -> list[str]:
    """Every node ``node_id`` can lead to, including a menu's implicit operator (0) and
    failure exits."""
    node = flow.nodes[node_id]
    targets = [edge.target for edge in node.edges()]
    if isinstance(node, MenuNode):
        for implicit in (menu_operator(flow, node), menu_failure(flow, node)):
            if implicit is not None:
                targets.append(implicit)
    return targets


def menu_operator(flow: Flow, menu: MenuNode) -> str | None:
    """Where 0 leads in this menu."""
    if OPERATOR_KEY in menu.options:
        return menu.options[OPERATOR_KEY].go
    return menu.operator or flow.defaults.operator


def menu_failure(flow: Flow, menu: MenuNode) -> str | None:
    """Where the caller goes after too many failed attempts."""
    return menu.on_failure or menu_operator(flow, menu)


def _check_links(flow: Flow, source: FlowSource) -> list[Problem]:
    problems = []
    if flow.start not in flow.nodes:
        problems.append(
            Problem(
                source.path, source.line("start"), f"the start node '{flow.start}' is not defined"
            )
        )
    if flow.defaults.operator is not None and flow.defaults.operator not in flow.nodes:
        problems.append(
            Problem(
                source.path,
                source.line("defaults", "operator"),
                f"the default operator node '{flow.defaults.operator}' is not defined",
            )
        )
    for node_id, node in flow.nodes.items():
        where = source.nodes[node_id]
        for edge in node.edges():
            if edge.target not in flow.nodes:
                # A key name is quoted ('next'); a described exit (option '1') already is.
                label = f"'{edge.label}'" if edge.label.isidentifier() else edge.label
                problems.append(
                    Problem(
                        where.path,
                        where.line(*edge.loc),
                        f"node '{node_id}': {label} points to '{edge.target}', "
                        "which is not a node in this flow",
                    )
                )
    return problems


def _check_line_branches(flow: Flow, source: FlowSource) -> list[Problem]:
    """A ``line`` node branches only on numbers the flow serves: any other is never dialled."""
    served = {to_e164(number) for number in flow.lines}
    problems = []
    for node_id, node in flow.nodes.items():
        if not isinstance(node, LineNode):
            continue
        where = source.nodes[node_id]
        for number in node.lines:
            if to_e164(number) not in served:
                problems.append(
                    Problem(
                        where.path,
                        where.line("lines", number),
                        f"node '{node_id}': '{number}' is not one of the flow's lines "
                        f"({', '.join(flow.lines) or 'none'})",
                    )
                )
    return problems


def _check_menus(flow: Flow, source: FlowSource) -> list[Problem]:
    problems = []
    for node_id, node in flow.nodes.items():
        if not isinstance(node, MenuNode):
            continue
        where = source.nodes[node_id]
        options_tree = where.tree.get("options")
        implicit_types = (
            options_tree.key_implicit_types if isinstance(options_tree, LocatedMap) else {}
        )
        as_yaml11: dict[str, str] = {}
        for key, option in node.options.items():
            line = where.line("options", key)
            yaml_type = implicit_types.get(key)
            if yaml_type == "bool":
                problems.append(
                    Problem(
                        where.path,
                        line,
                        f"node '{node_id}': menu key '{key}' is read by YAML as a yes/no value; "
                        "menu keys are keypad keys, written in quotes like '1'",
                    )
                )
                continue
            if yaml_type in ("int", "float"):
                number = _yaml11_number(key)
                if number in as_yaml11:
                    problems.append(
                        Problem(
                            where.path,
                            line,
                            f"node '{node_id}': menu keys '{as_yaml11[number]}' and '{key}' are "
                            "the same number to YAML; write keys in quotes like '1'",
                        )
                    )
                    continue
                as_yaml11[number] = key
            if len(key) != 1 or key not in KEYPAD_KEYS:
                problems.append(
                    Problem(
                        where.path,
                        line,
                        f"node '{node_id}': menu key '{key}' is not a keypad key "
                        "(use one of 1-9, 0, # written in quotes)",
                    )
                )
            elif key == REPEAT_KEY:
                problems.append(
                    Problem(
                        where.path,
                        line,
                        f"node '{node_id}': '*' always repeats the menu and cannot be an option",
                    )
                )
            problems += _check_language(
                flow,
                option.lang,
                where.line("options", key, "lang"),
                where.path,
                f"node '{node_id}': option '{key}'",
            )
        for index, shortcut in enumerate(node.shortcuts):
            problems += _check_language(
                flow,
                shortcut.lang,
                where.line("shortcuts", index, "lang"),
                where.path,
                f"node '{node_id}': shortcut {index + 1}",
            )
        problems += _check_keywords(flow, node_id, node, where)
        if menu_operator(flow, node) is None:
            problems.append(
                Problem(
                    where.path,
                    where.node_line,
                    f"node '{node_id}': there is nowhere to send a caller who presses 0 or "
                    "fails to choose; set 'operator' here or in the flow's defaults",
                )
            )
    return problems


def _yaml11_number(text: str) -> str:
    """What YAML 1.1 would make of a plain numeric key, as a comparable string."""
    cleaned = text.replace("_", "")
    try:
        if cleaned.lower().startswith("0x"):
            return str(int(cleaned, 16))
        if cleaned.startswith("0o"):
            return str(int(cleaned[2:], 8))
        if len(cleaned) > 1 and cleaned.startswith("0") and cleaned.isdigit():
            return str(int(cleaned, 8))
        return str(float(cleaned)) if any(c in cleaned for c in ".eE") else str(int(cleaned))
    except ValueError:
        return text


def _check_reachable(flow: Flow, source: FlowSource) -> list[Problem]:
    seen = _reach(flow, [flow.start])
    return [
        Problem(
            source.nodes[node_id].path,
            source.nodes[node_id].node_line,
            f"node '{node_id}' cannot be reached from the start node '{flow.start}'",
        )
        for node_id in flow.nodes
        if node_id not in seen
    ]


def _reach(flow: Flow, roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        node_id = stack.pop()
        if node_id in seen or node_id not in flow.nodes:
            continue
        seen.add(node_id)
        stack.extend(successors(flow, node_id))
    return seen


def _check_loops(flow: Flow, source: FlowSource) -> tuple[list[Problem], set[str]]:
    """Cycles made only of nodes that never wait for the caller would spin forever.

    Returns the problems and the nodes of the loops found."""
    passive = {nid for nid, node in flow.nodes.items() if not node.waits_for_input}
    graph = {nid: [t for t in successors(flow, nid) if t in passive] for nid in passive}
    problems = []
    members: set[str] = set()
    for cycle in _cycles(graph):
        first = cycle[0]
        where = source.nodes[first]
        route = " → ".join([*cycle, first])
        members.update(cycle)
        problems.append(
            Problem(
                where.path,
                where.node_line,
                f"nodes {route} form a loop that never waits for the caller",
            )
        )
    return problems, members


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """One representative cycle per strongly connected component (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(_cycle_in(graph, sorted(component)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _cycle_in(graph: dict[str, list[str]], component: list[str]) -> list[str]:
    members = set(component)
    path = [component[0]]
    while True:
        nxt = next(w for w in graph[path[-1]] if w in members)
        if nxt == path[0]:
            return path
        if nxt in path:
            return path[path.index(nxt) :]
        path.append(nxt)


def _check_ends(flow: Flow, source: FlowSource, skip: set[str]) -> list[Problem]:
    """From every node some path must reach an end: a person, a hang-up, a voicemail."""
    reverse: dict[str, list[str]] = {nid: [] for nid in flow.nodes}
    for nid in flow.nodes:
        for target in successors(flow, nid):
            reverse[target].append(nid)
    good = {nid for nid, node in flow.nodes.items() if node.is_end}
    stack = list(good)
    while stack:
        for parent in reverse[stack.pop()]:
            if parent not in good:
                good.add(parent)
                stack.append(parent)
    return [
        Problem(
            source.nodes[nid].path,
            source.nodes[nid].node_line,
            f"node '{nid}': no path from here reaches an end "
            "(an operator, a hang-up or a voicemail)",
        )
        for nid in flow.nodes
        if nid not in good and nid not in skip
    ]


def _check_language(flow: Flow, lang: str | None, line: int, path: str, what: str) -> list[Problem]:
    """A menu choice that switches the call to ``lang`` names a language the flow offers."""
    if lang is None or lang in flow.languages:
        return []
    return [
        Problem(
            path,
            line,
            f"{what} switches to language '{lang}', which the flow does not offer "
            f"({', '.join(flow.languages)})",
        )
    ]


def _check_keywords(flow: Flow, node_id: str, node: MenuNode, where: NodeSource) -> list[Problem]:
    """Two choices of one menu must not listen for the same words: compared as lemmas, so
    «забыл пароль» and «забыть пароли» are the same phrase (a keyword for every language
    clashes with one in any language)."""
    problems = []
    words = flow.words
    seen: list[tuple[str, Phrase, str, str]] = []  # language, phrase, owner, as written
    choices: list[tuple[str, tuple[str | int, ...], SpokenChoice]] = [
        (f"option '{key}'", ("options", key, "keywords"), option)
        for key, option in node.options.items()
    ] + [
        (f"shortcut {index + 1}", ("shortcuts", index, "keywords"), shortcut)
        for index, shortcut in enumerate(node.shortcuts)
    ]
    for owner, loc, choice in choices:
        for lang, texts in choice.keywords.items():
            for text in texts:
                phrase = words.phrase(text)
                clash = next(
                    (
                        (other_owner, other_text)
                        for other_lang, other, other_owner, other_text in seen
                        if ANY_LANGUAGE in (lang, other_lang) or lang == other_lang
                        if same_phrase(phrase, other)
                    ),
                    None,
                )
                if clash is not None:
                    same = "" if clash[1] == text else f" (as '{clash[1]}')"
                    if clash[0] == owner:
                        message = f"{owner} has keyword '{text}' twice{same}"
                    else:
                        message = (
                            f"keyword '{text}' is used by {clash[0]}{same} and {owner}: "
                            "a caller saying it could mean either"
                        )
                    problems.append(
                        Problem(where.path, where.line(*loc), f"node '{node_id}': {message}")
                    )
                else:
                    seen.append((lang, phrase, owner, text))
    return problems


def _check_prompts(
    flow: Flow, source: FlowSource, prompts: dict[str, PromptCatalog]
) -> list[Problem]:
    problems = []
    for lang in flow.languages:
        if lang not in prompts:
            problems.append(
                Problem(
                    source.path,
                    source.line("languages"),
                    f"the flow offers language '{lang}' but there is no prompts/{lang}.yaml",
                )
            )
    # Text messages show Latin letters as they are; only voices misread them.
    texted = {pid for node in flow.nodes.values() for pid in getattr(node, "sms", [])}
    for owner, path, line, ref in _prompt_refs(flow, source):
        prompt_id, fixed = split_prompt_ref(ref)
        if fixed is not None and fixed not in prompts:
            problems.append(
                Problem(
                    path,
                    line,
                    f"{owner}: prompt '{ref}' is to be said in '{fixed}' but there is no "
                    f"prompts/{fixed}.yaml",
                )
            )
            continue
        for lang in [fixed] if fixed else flow.languages:
            catalog = prompts.get(lang)
            latin = _latin_for_a_voice(lang, catalog.texts.get(prompt_id, "") if catalog else "")
            if latin and prompt_id not in texted:
                problems.append(
                    Problem(
                        path,
                        line,
                        f"{owner}: prompt '{prompt_id}' has Latin letters ('{latin}') that the "
                        f"{lang} voice would misread; write them as it should say them "
                        "(«пэ-дэ-эф»), or name the address as {support_email}",
                    )
                )
            if catalog is not None and prompt_id not in catalog.texts:
                problems.append(
                    Problem(
                        path, line, f"{owner}: prompt '{prompt_id}' has no text in {catalog.path}"
                    )
                )
            elif (
                catalog is not None
                and SUPPORT_EMAIL in _value_names(catalog.texts[prompt_id])
                and "@" not in flow.prompt_text(lang, SUPPORT_EMAIL)
            ):
                problems.append(
                    Problem(
                        path,
                        line,
                        f"{owner}: prompt '{prompt_id}' names {{{SUPPORT_EMAIL}}}, but no "
                        f"prompt '{SUPPORT_EMAIL}' holds an e-mail address (write it once, in "
                        f"prompts/{flow.languages[0]}.yaml)",
                    )
                )
        text = prompts[fixed].texts.get(prompt_id, "") if fixed else ""
        for name in sorted(_value_names(text) - COMPUTED_VALUES):
            problems.append(
                Problem(
                    path,
                    line,
                    f"{owner}: prompt '{ref}' names {{{name}}}, which is kept in the call's "
                    "language; a prompt said in a fixed language may name only "
                    + ", ".join(f"{{{n}}}" for n in sorted(COMPUTED_VALUES)),
                )
            )
    return problems


# Languages whose voices read Cyrillic only: Latin letters in their prompts come out wrong.
_CYRILLIC_VOICES = frozenset({"ru"})
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z.@]*")
_VALUE = re.compile(r"\{[^{}]*\}")


def _latin_for_a_voice(lang: str, text: str) -> str:
    """The first Latin word of a prompt a Cyrillic voice says (``{values}`` aside), or ""."""
    if lang not in _CYRILLIC_VOICES:
        return ""
    found = _LATIN_WORD.search(_VALUE.sub("", text))
    return found.group(0) if found else ""


def _value_names(text: str) -> set[str]:
    """The ``{values}`` a prompt text names (the reader has checked the braces)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _prompt_refs(flow: Flow, source: FlowSource) -> list[tuple[str, str, int, str]]:
    """Every prompt id the flow speaks: (who speaks it, file, line where it is written, id)."""
    refs = []
    defaults = source.tree.get("defaults")
    for key in prompt_fields(Defaults):
        for prompt_id in getattr(flow.defaults, key):
            line = _written_at(defaults, [key], prompt_id) or source.line("defaults", key)
            refs.append(("defaults", source.path, line, prompt_id))
    for node_id, node in flow.nodes.items():
        where = source.nodes[node_id]
        # Prompt ids sit in the node's list fields (say, wait, no_input, no_match …).
        keys = [name for name in type(node).model_fields if isinstance(getattr(node, name), list)]
        for prompt_id in node.prompt_ids():
            line = _written_at(where.tree, keys, prompt_id) or where.node_line
            refs.append((f"node '{node_id}'", where.path, line, prompt_id))
    return refs


def _written_at(tree: object, keys: list[str], prompt_id: str) -> int | None:
    """The line where ``prompt_id`` is written under one of ``keys`` of a YAML mapping."""
    if not isinstance(tree, LocatedMap):
        return None
    for key in keys:
        value = tree.get(key)
        if value == prompt_id:
            return tree.key_lines[key]
        if isinstance(value, LocatedList) and prompt_id in value:
            return value.item_lines[value.index(prompt_id)]
    return None

"""Caller-experience rules that ``ivr validate`` enforces, beyond a sound graph.

- profiles named anywhere exist;
- no menu offers more options than the line's profile allows (a "more options" key aside);
- 0 reaches a person, or the after-hours options when nobody works, never a hang-up;
- no prompt takes longer to say than the profile allows, estimated from its words at the
  profile's speaking rate;
- a question that may listen to keys only (a keypad-only profile the call can switch to, a
  menu with nothing to hear) offers no speech: a prompt there that says «скажите …» has a
  keys-only wording (``<id>_keys_only``) in every language that says it;
- the switch to the slower profile comes before the silence limit.
"""

from __future__ import annotations

import re

from ivr.flows.model import Flow, Profile
from ivr.flows.nodes import (
    OPERATOR_KEY,
    DialNode,
    GotoNode,
    HangupNode,
    MenuNode,
    PromptNode,
    ScheduleNode,
    keys_only_variant,
    split_prompt_ref,
)
from ivr.flows.problems import Problem
from ivr.flows.reader import FlowSource, PromptCatalog
from ivr.flows.service_nodes import RequestStatusNode


def check_caller_rules(
    flow: Flow, source: FlowSource, prompts: dict[str, PromptCatalog]
) -> list[Problem]:
    """Every caller-experience problem of one flow."""
    problems = _check_profile_names(flow, source)
    if problems:
        return problems
    profile = flow.profile_named(flow.profile)
    label = f"profile '{flow.profile}'" if flow.profile else "the default profile"
    problems += _check_menu_sizes(flow, source, profile, label)
    problems += _check_zero(flow, source)
    problems += _check_silence_settings(flow, source)
    problems += _check_keys_only_wording(flow, source)
    problems += _check_prompt_lengths(flow, prompts, profile, label)
    return problems


def _check_profile_names(flow: Flow, source: FlowSource) -> list[Problem]:
    known = ", ".join(sorted(flow.profiles)) or "none defined"
    problems = []

    def check(name: str | None, path: str, line: int, where: str) -> None:
        if name is not None and name not in flow.profiles:
            problems.append(
                Problem(path, line, f"{where}profile '{name}' is not defined (profiles: {known})")
            )

    check(flow.profile, source.path, source.line("profile"), "")
    check(
        flow.defaults.silence_profile,
        source.path,
        source.line("defaults", "silence_profile"),
        "defaults: ",
    )
    for node_id, node in flow.nodes.items():
        if isinstance(node, MenuNode):
            where = source.nodes[node_id]
            for key, option in node.options.items():
                check(
                    option.profile,
                    where.path,
                    where.line("options", key, "profile"),
                    f"node '{node_id}': option '{key}': ",
                )
    return problems


def _check_silence_settings(flow: Flow, source: FlowSource) -> list[Problem]:
    """The slower speech a silent caller is promised must come before the silence limit
    sends them on, or it is never heard."""
    defaults = flow.defaults
    if defaults.silence_profile is None or defaults.silence_switch_after < defaults.silence_limit:
        return []
    return [
        Problem(
            source.path,
            source.line("defaults", "silence_switch_after"),
            f"defaults: silence_switch_after is {defaults.silence_switch_after}, but after "
            f"{defaults.silence_limit} silences in a row (silence_limit) the caller is already "
            f"sent on: the switch to profile '{defaults.silence_profile}' is never heard; "
            "make silence_switch_after smaller than silence_limit",
        )
    ]


# Words that offer the caller speech: «скажите „специалист“», «назовите номер», "say yes".
_OFFERS_SPEECH = re.compile(r"\b(скажите|назовите|say)\b", re.IGNORECASE)


def _check_keys_only_wording(flow: Flow, source: FlowSource) -> list[Problem]:
    """A question heard by keys only must not offer speech (the engine says a prompt's
    keys-only wording there; this checks that one is written)."""
    names = {flow.profile, flow.defaults.silence_profile}
    for node in flow.nodes.values():
        if isinstance(node, MenuNode):
            names.update(option.profile for option in node.options.values())
    speech_modes = {
        name: flow.profile_named(name).speech
        for name in names
        if name is None or name in flow.profiles
    }
    keys_only = sorted(repr(name) for name, mode in speech_modes.items() if mode == "off")
    problems = []
    for node_id, node in flow.nodes.items():
        checked: list[str] = []
        field, why = "say", f"profile {', '.join(keys_only)}"
        if isinstance(node, MenuNode):
            hears_words = any(c.keywords for c in [*node.options.values(), *node.shortcuts])
            if keys_only:
                checked = node.say
            elif not hears_words and "keywords" in speech_modes.values():
                checked, why = node.say, "it has no keywords, so it listens to keys"
        elif isinstance(node, RequestStatusNode) and keys_only:
            checked, field = node.confirm, "confirm"
        for ref in checked:
            prompt_id, fixed = split_prompt_ref(ref)
            for lang in [fixed] if fixed else flow.languages:
                texts = flow.prompts.get(lang, {})
                if _OFFERS_SPEECH.search(texts.get(prompt_id, "")) and (
                    keys_only_variant(prompt_id) not in texts
                ):
                    where = source.nodes[node_id]
                    problems.append(
                        Problem(
                            where.path,
                            where.line(field),
                            f"node '{node_id}': prompt '{prompt_id}' ({lang}) offers speech, "
                            f"but this question may listen to keys only ({why}); write "
                            f"'{keys_only_variant(prompt_id)}' with the keys alone",
                        )
                    )
    return problems


def _check_menu_sizes(
    flow: Flow, source: FlowSource, profile: Profile, label: str
) -> list[Problem]:
    problems = []
    for node_id, node in flow.nodes.items():
        if not isinstance(node, MenuNode):
            continue
        count = sum(1 for key, o in node.options.items() if not o.more and key != OPERATOR_KEY)
        if count > profile.max_options:
            where = source.nodes[node_id]
            problems.append(
                Problem(
                    where.path,
                    where.line("options"),
                    f"node '{node_id}': the menu offers {count} options, more than "
                    f"{profile.max_options} allowed by {label}; put some behind a "
                    "'more options' key (more: true)",
                )
            )
    return problems


def _zero_ends_badly(flow: Flow, start: str) -> bool:
    """Does pressing 0 lead, without the caller's help, to a hang-up?"""
    stack, seen = [start], set()
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        node = flow.nodes[node_id]
        if isinstance(node, HangupNode):
            return True
        if isinstance(node, PromptNode):
            stack.append(node.next)
        elif isinstance(node, GotoNode):
            stack.append(node.to)
        elif isinstance(node, ScheduleNode):
            stack.extend(edge.target for edge in node.edges())
        elif isinstance(node, DialNode):
            continue
        # Queues, menus and the self-service nodes all keep the caller with us.
    return False


def _check_zero(flow: Flow, source: FlowSource) -> list[Problem]:
    from ivr.flows.validate import menu_operator

    problems = []
    for node_id, node in flow.nodes.items():
        if not isinstance(node, MenuNode):
            continue
        target = menu_operator(flow, node)
        if target is not None and target in flow.nodes and _zero_ends_badly(flow, target):
            where = source.nodes[node_id]
            problems.append(
                Problem(
                    where.path,
                    where.node_line,
                    f"node '{node_id}': 0 leads to a hang-up; it must reach a person, or the "
                    "after-hours options when nobody works",
                )
            )
    return problems


def estimated_seconds(text: str, profile: Profile) -> float:
    """How long a text takes to say at the profile's rate, from its word count."""
    words = len(text.split())
    return words / (profile.words_per_minute * profile.rate_factor()) * 60


def _check_prompt_lengths(
    flow: Flow, prompts: dict[str, PromptCatalog], profile: Profile, label: str
) -> list[Problem]:
    problems = []
    for lang, texts in flow.prompts.items():
        catalog = prompts.get(lang)
        if catalog is None:
            continue
        for prompt_id, text in sorted(texts.items()):
            seconds = estimated_seconds(text, profile)
            if seconds > profile.max_prompt_seconds:
                problems.append(
                    Problem(
                        catalog.path,
                        catalog.lines.get(prompt_id, 1),
                        f"prompt '{prompt_id}' takes about {seconds:.0f} s to say at "
                        f"{label}'s rate (limit {profile.max_prompt_seconds} s); shorten it "
                        f"or split it (used by flow '{flow.name}')",
                    )
                )
    return problems

"""The mistakes an admin can make in a flow, each caught with its exact ``path:line: message``.

Every file in ``fixtures/invalid`` is ``fixtures/valid/minimal.yaml`` with one mistake (or a
flow written to show one); the prompts they speak are in ``fixtures/prompts``, where
``en.yaml`` lacks the prompt ``tip`` on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.flows.model import Flow
from ivr.flows.nodes import NODE_KINDS

LoadFlow = Callable[[Path, Path], tuple[Flow | None, list[str]]]

# Node kinds are registered by more than one module; the message lists them all, sorted.
KNOWN_KINDS = ", ".join(sorted(NODE_KINDS))
NO_END = "no path from here reaches an end (an operator, a hang-up or a voicemail)"

CASES = [
    pytest.param(
        "invalid/yaml_syntax.yaml",
        [
            "invalid/yaml_syntax.yaml:7: YAML syntax error: expected ',' or ']', but got ':' "
            "(while parsing a flow sequence started on line 6)"
        ],
        id="yaml-syntax-error",
    ),
    pytest.param(
        "invalid/unknown_kind.yaml",
        [f"invalid/unknown_kind.yaml:12: node 'tip': unknown kind 'promt' (known: {KNOWN_KINDS})"],
        id="unknown-node-kind",
    ),
    pytest.param(
        "invalid/unknown_node_key.yaml",
        [
            # 'then' was meant to be 'next', so 'next' is missing too.
            "invalid/unknown_node_key.yaml:12: node 'tip': 'next' is missing",
            "invalid/unknown_node_key.yaml:14: node 'tip': unknown key 'then' "
            "(allowed: say, pause, next)",
        ],
        id="unknown-key-in-node",
    ),
    pytest.param(
        "invalid/unknown_top_key.yaml",
        [
            "invalid/unknown_top_key.yaml:3: unknown key 'timezone' in the flow (allowed: name, "
            "title, lines, languages, start, schedule, defaults, include, profiles, profile, nodes)"
        ],
        id="unknown-key-at-top-level",
    ),
    pytest.param(
        "invalid/missing_targets.yaml",
        [
            "invalid/missing_targets.yaml:11: node 'menu': option '2' points to 'tips', "
            "which is not a node in this flow",
            "invalid/missing_targets.yaml:15: node 'tip': 'next' points to 'byebye', "
            "which is not a node in this flow",
            "invalid/missing_targets.yaml:18: node 'jump': 'to' points to 'nowhere', "
            "which is not a node in this flow",
        ],
        id="option-next-goto-to-missing-node",
    ),
    pytest.param(
        "invalid/missing_start.yaml",
        [
            "invalid/missing_start.yaml:2: the start node 'begin' is not defined",
            "invalid/missing_start.yaml:4: the default operator node 'operater' is not defined",
        ],
        id="start-and-operator-missing",
    ),
    pytest.param(
        "invalid/unreachable.yaml",
        [
            "invalid/unreachable.yaml:15: node 'forgotten' cannot be reached "
            "from the start node 'menu'"
        ],
        id="unreachable-node",
    ),
    pytest.param(
        "invalid/yaml11_keys.yaml",
        [
            *(
                f"invalid/yaml11_keys.yaml:{line}: node 'menu': menu key '{key}' is read by YAML "
                "as a yes/no value; menu keys are keypad keys, written in quotes like '1'"
                for line, key in [(10, "yes"), (11, "no"), (12, "on"), (13, "off")]
            ),
            "invalid/yaml11_keys.yaml:15: node 'menu': menu keys '1' and '01' are the same "
            "number to YAML; write keys in quotes like '1'",
        ],
        id="yaml-1.1-boolean-and-colliding-number-keys",
    ),
    pytest.param(
        "invalid/duplicate_key.yaml",
        ["invalid/duplicate_key.yaml:12: duplicate key '1' (first defined on line 10)"],
        id="duplicate-menu-key",
    ),
    pytest.param(
        "invalid/duplicate_keyword.yaml",
        [
            # «Советы» is «совет» in its dictionary form; «пароли забыла» is «забыл пароль»
            # in other forms and order: the same words to a caller.
            "invalid/duplicate_keyword.yaml:11: node 'menu': keyword 'советы' is used by "
            "option '1' (as 'совет') and option '2': a caller saying it could mean either",
            "invalid/duplicate_keyword.yaml:14: node 'menu': keyword 'пароли забыла' is used "
            "by option '1' (as 'забыл пароль') and shortcut 1: a caller saying it could mean "
            "either",
        ],
        id="duplicate-keyword",
    ),
    pytest.param(
        "invalid/duplicate_keyword_by_language.yaml",
        [
            # 'tip' in English for 1 and in Russian for 2 is no clash; 'sms' in every language
            # for 1 and in English for 2 is.
            "invalid/duplicate_keyword_by_language.yaml:13: node 'menu': keyword 'sms' is used "
            "by option '1' and option '2': a caller saying it could mean either"
        ],
        id="duplicate-keyword-across-languages",
    ),
    pytest.param(
        "invalid/voice_words.yaml",
        [
            # A line node branching on a number the flow does not serve (never dialled) …
            "invalid/voice_words.yaml:11: node 'centre': '8 812 000-00-02' is not one of the "
            "flow's lines (+74950000001)",
            # … Latin letters the Russian voice would say, and an address nowhere written.
            "invalid/voice_words.yaml:12: node 'tip': prompt 'latin_tip' has Latin letters "
            "('PDF') that the ru voice would misread; write them as it should say them "
            "(«пэ-дэ-эф»), or name the address as {support_email}",
            "invalid/voice_words.yaml:13: node 'mail': prompt 'mail_tip' names "
            "{support_email}, but no prompt 'support_email' holds an e-mail address (write it "
            "once, in prompts/ru.yaml)",
        ],
        id="voice-words",
    ),
    pytest.param(
        "invalid/bad_menu_keys.yaml",
        [
            "invalid/bad_menu_keys.yaml:10: node 'menu': '*' always repeats the menu and "
            "cannot be an option",
            "invalid/bad_menu_keys.yaml:11: node 'menu': menu key '12' is not a keypad key "
            "(use one of 1-9, 0, # written in quotes)",
            "invalid/bad_menu_keys.yaml:13: node 'menu': option '1' switches to language 'en', "
            "which the flow does not offer (ru)",
            "invalid/bad_menu_keys.yaml:15: node 'menu': shortcut 1 switches to language 'en', "
            "which the flow does not offer (ru)",
        ],
        id="star-long-key-and-foreign-language-options-and-shortcuts",
    ),
    pytest.param(
        "invalid/missing_prompt.yaml",
        ["invalid/missing_prompt.yaml:14: node 'tip': prompt 'tip' has no text in prompts/en.yaml"],
        id="prompt-missing-in-one-language",
    ),
    pytest.param(
        "invalid/fixed_language_prompts.yaml",
        [
            "invalid/fixed_language_prompts.yaml:15: node 'tip': prompt 'tip' has no text in "
            "prompts/en.yaml",
            "invalid/fixed_language_prompts.yaml:15: node 'tip': prompt 'tip@de' is to be said "
            "in 'de' but there is no prompts/de.yaml",
            "invalid/fixed_language_prompts.yaml:23: node 'bye': prompt 'named@en' names {name}, "
            "which is kept in the call's language; a prompt said in a fixed language may name "
            "only {next_opening}, {support_email}",
        ],
        id="prompt-in-a-fixed-language-missing",
    ),
    pytest.param(
        "invalid/missing_default_prompt.yaml",
        [
            "invalid/missing_default_prompt.yaml:7: defaults: prompt 'silence' has no text in "
            "prompts/ru.yaml",
            "invalid/missing_default_prompt.yaml:22: node 'operator': prompt 'queue_music' has "
            "no text in prompts/ru.yaml",
        ],
        id="prompt-missing-at-the-line-it-is-named",
    ),
    pytest.param(
        "invalid/missing_language.yaml",
        [
            "invalid/missing_language.yaml:2: the flow offers language 'de' but there is no "
            "prompts/de.yaml"
        ],
        id="language-without-prompt-file",
    ),
    pytest.param(
        "invalid/bad_schedule.yaml",
        [
            "invalid/bad_schedule.yaml:5: schedule: 'mon-fry' is not a range of weekdays "
            "like mon-fri",
            "invalid/bad_schedule.yaml:6: schedule: hours for 'sat': '25:00' is not a time "
            "of day like 08:00",
            "invalid/bad_schedule.yaml:7: schedule: hours for 'sun': '8' is not a time of day "
            "like 08:00",
        ],
        id="malformed-times-and-weekdays",
    ),
    pytest.param(
        "invalid/passive_loop.yaml",
        [
            "invalid/passive_loop.yaml:16: nodes again → tip → again form a loop that never "
            "waits for the caller"
        ],
        id="loop-that-never-waits",
    ),
    pytest.param(
        "invalid/no_end.yaml",
        [
            f"invalid/no_end.yaml:4: node 'menu': {NO_END}",
            f"invalid/no_end.yaml:10: node 'more': {NO_END}",
        ],
        id="no-path-to-an-end",
    ),
    pytest.param(
        "invalid/no_operator.yaml",
        [
            "invalid/no_operator.yaml:4: node 'menu': there is nowhere to send a caller who "
            "presses 0 or fails to choose; set 'operator' here or in the flow's defaults"
        ],
        id="menu-without-operator",
    ),
    pytest.param(
        "invalid/silence_settings.yaml",
        [
            "invalid/silence_settings.yaml:7: defaults: silence_switch_after is 2, but after 2 "
            "silences in a row (silence_limit) the caller is already sent on: the switch to "
            "profile 'slow' is never heard; make silence_switch_after smaller than silence_limit"
        ],
        id="silence-switch-after-the-limit",
    ),
    pytest.param(
        "invalid/keys_only_wording.yaml",
        [
            "invalid/keys_only_wording.yaml:13: node 'menu': prompt 'spoken_menu' (ru) offers "
            "speech, but this question may listen to keys only (profile 'keypad'); write "
            "'spoken_menu_keys_only' with the keys alone"
        ],
        id="speech-offered-to-a-keys-only-caller",
    ),
    pytest.param(
        "invalid/missing_include.yaml",
        ["invalid/missing_include.yaml:6: included file 'parts/nothing.yaml' does not exist"],
        id="missing-include",
    ),
    pytest.param(
        "invalid/defined_twice.yaml",
        [
            "invalid/parts/twice.yaml:3: node 'operator' is defined twice "
            "(also at invalid/defined_twice.yaml:12)"
        ],
        id="node-defined-twice-across-files",
    ),
    pytest.param(
        "invalid/bad_values.yaml",
        [
            "invalid/bad_values.yaml:1: 'name': 'Bad Values' cannot be a flow name; use "
            "lower-case latin letters, digits, '-' and '_', like 'hotline'",
            "invalid/bad_values.yaml:2: 'lines' must be a list",
            "invalid/bad_values.yaml:6: 'defaults.retries': Input should be a valid integer, "
            "unable to parse string as an integer",
            "invalid/bad_values.yaml:11: node 'menu': 'timeout': Input should be greater than "
            "or equal to 1",
            "invalid/bad_values.yaml:13: node 'menu': 'options.1.keywords': must be a list of "
            "words, or a list per language ({ru: [...], en: [...]})",
            "invalid/bad_values.yaml:15: node 'tip': 'next' is missing",
            "invalid/bad_values.yaml:18: node 'operator': 'queue' is missing",
        ],
        id="malformed-values",
    ),
]


@pytest.mark.parametrize(("name", "expected"), CASES)
def test_each_mistake_is_reported_at_its_line(
    problems_of: Callable[[str], list[str]], name: str, expected: list[str]
) -> None:
    assert problems_of(name) == expected


def test_every_invalid_fixture_has_a_case(fixtures_dir: Path) -> None:
    files = {p.relative_to(fixtures_dir).as_posix() for p in fixtures_dir.glob("invalid/*.yaml")}
    assert files == {case.values[0] for case in CASES}


@pytest.mark.parametrize(
    "name", ["valid/minimal.yaml", "valid/bilingual.yaml", "valid/fixed_language.yaml"]
)
def test_valid_fixtures_have_no_problems(
    problems_of: Callable[[str], list[str]], name: str
) -> None:
    assert problems_of(name) == []


def test_the_validator_reports_nothing_twice_for_a_broken_link(
    problems_of: Callable[[str], list[str]],
) -> None:
    # A link to a missing node would also make nodes unreachable and dead ends; only the
    # link itself is worth a message.
    problems = problems_of("invalid/missing_targets.yaml")
    assert not [p for p in problems if "cannot be reached" in p or "reaches an end" in p]


def _shipped_flows(repo: Path) -> list[Path]:
    return sorted((repo / "flows").glob("*.yaml"))


def test_there_are_shipped_flows(repo_dir: Path) -> None:
    assert repo_dir / "flows" / "hotline.yaml" in _shipped_flows(repo_dir)


@pytest.mark.parametrize(
    "name", [p.name for p in _shipped_flows(Path(__file__).resolve().parents[2])]
)
def test_shipped_flow_reads_and_validates_cleanly(
    load_flow: LoadFlow, repo_dir: Path, name: str
) -> None:
    flow, problems = load_flow(repo_dir / "flows" / name, repo_dir)
    assert problems == []
    assert flow is not None
    assert flow.name == Path(name).stem


@pytest.mark.parametrize(
    "name", [p.name for p in _shipped_flows(Path(__file__).resolve().parents[2])]
)
def test_shipped_flow_survives_a_snapshot(load_flow: LoadFlow, repo_dir: Path, name: str) -> None:
    flow, _ = load_flow(repo_dir / "flows" / name, repo_dir)
    assert flow is not None
    restored = Flow.from_snapshot(flow.to_snapshot())
    assert restored == flow
    assert restored.version == flow.version
    assert restored.to_snapshot() == flow.to_snapshot()


def test_a_snapshot_keeps_dates_hours_languages_and_included_nodes(
    fixture_flow: Callable[[str], Flow],
) -> None:
    flow = fixture_flow("valid/bilingual.yaml")
    restored = Flow.from_snapshot(flow.to_snapshot())
    assert restored == flow
    assert restored.version == flow.version
    assert restored.runtime_schedule == flow.runtime_schedule
    assert restored.languages == ["ru", "en"]
    assert set(restored.nodes) == {"hours", "menu", "operator", "closed", "bye"}
    assert type(restored.nodes["closed"]) is type(flow.nodes["closed"])


def test_a_different_flow_has_a_different_version(fixture_flow: Callable[[str], Flow]) -> None:
    flow = fixture_flow("valid/minimal.yaml")
    louder = flow.model_copy(
        update={"prompts": {"ru": {**flow.prompts["ru"], "tip": "Другой совет."}}}
    )
    assert Flow.from_snapshot(louder.to_snapshot()).version != flow.version


def test_a_changed_copy_of_a_flow_has_its_own_version_and_snapshot(
    fixture_flow: Callable[[str], Flow],
) -> None:
    flow = fixture_flow("valid/minimal.yaml")
    version, snapshot = flow.version, flow.to_snapshot()
    louder = flow.model_copy(
        update={"prompts": {"ru": {**flow.prompts["ru"], "tip": "Другой совет."}}}
    )
    assert louder.version != version
    assert "Другой совет." in louder.to_snapshot() and "Другой совет." not in snapshot
    assert (flow.version, flow.to_snapshot()) == (version, snapshot)

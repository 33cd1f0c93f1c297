"""Reading flow and prompt files into typed models, every mistake at its line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from pathlib import Path

import pytest

from ivr.domain.schedule import Schedule, TimeRange
from ivr.flows.model import Flow
from ivr.flows.nodes import HangupNode, MenuNode, MenuOption, PromptNode, QueueNode
from ivr.flows.reader import PromptCatalog, read_flow, read_prompts


def write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def read(
    directory: Path,
    text: str,
    parts: dict[str, str] | None = None,
    prompts: dict[str, PromptCatalog] | None = None,
) -> tuple[Flow | None, list[str]]:
    """Write ``flow.yaml`` (and parts) into ``directory`` and read it back."""
    write(directory, {"flow.yaml": text, **(parts or {})})
    flow, _, problems = read_flow(directory / "flow.yaml", prompts or {}, "flow.yaml")
    return flow, [str(p) for p in sorted(problems)]


# --- prompts -------------------------------------------------------------------------------


def test_prompt_texts_are_read_with_their_lines_and_folded_to_one_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "ru.yaml": "# Комментарий.\n"
            "hello: Здравствуйте!\n"
            "long: >-\n"
            "  Первая строка,\n"
            "  вторая   строка.\n"
            "kept: |\n"
            "  Строка\n"
            "  и ещё одна\n"
        },
    )
    catalog, problems = read_prompts(tmp_path / "ru.yaml", "ru", "prompts/ru.yaml")
    assert problems == []
    assert catalog == PromptCatalog(
        lang="ru",
        path="prompts/ru.yaml",
        texts={
            "hello": "Здравствуйте!",
            "long": "Первая строка, вторая строка.",
            "kept": "Строка и ещё одна",
        },
        lines={"hello": 2, "long": 3, "kept": 6},
    )


def test_empty_or_structured_prompts_are_refused(tmp_path: Path) -> None:
    write(tmp_path, {"en.yaml": "hello: Hello!\nblank: ''\nnothing:\nlist: [a, b]\n"})
    catalog, problems = read_prompts(tmp_path / "en.yaml", "en", "prompts/en.yaml")
    assert catalog is not None
    assert catalog.texts == {"hello": "Hello!"}
    assert [str(p) for p in problems] == [
        "prompts/en.yaml:2: prompt 'blank' must be a non-empty text",
        "prompts/en.yaml:3: prompt 'nothing' must be a non-empty text",
        "prompts/en.yaml:4: prompt 'list' must be a non-empty text",
    ]


BRACE_HINT = "values are written like {next_opening}; write {{ or }} for a brace itself"


def test_prompt_values_the_engine_could_not_fill_are_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "ru.yaml": "ok: Откроемся {next_opening}, {{скобки}} можно.\n"
            "open: Откроемся {next_opening.\n"
            "close: Скобка } лишняя.\n"
            "empty: Пусто {}.\n"
            "attr: Время {slot.hour}.\n"
            "spec: Номер {request_number:d}.\n"
        },
    )
    catalog, problems = read_prompts(tmp_path / "ru.yaml", "ru", "prompts/ru.yaml")
    assert catalog is not None
    assert catalog.texts == {"ok": "Откроемся {next_opening}, {{скобки}} можно."}
    assert [str(p) for p in problems] == [
        f"prompts/ru.yaml:2: prompt 'open': a '{{' or '}}' is not paired; {BRACE_HINT}",
        f"prompts/ru.yaml:3: prompt 'close': a '{{' or '}}' is not paired; {BRACE_HINT}",
        f"prompts/ru.yaml:4: prompt 'empty': '{{}}' is not a value name; {BRACE_HINT}",
        f"prompts/ru.yaml:5: prompt 'attr': '{{slot.hour}}' is not a value name; {BRACE_HINT}",
        f"prompts/ru.yaml:6: prompt 'spec': '{{request_number:d}}' is not a value name; "
        f"{BRACE_HINT}",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- one\n- two\n", "prompts/ru.yaml:1: a prompt file maps prompt ids to texts"),
        (
            "a: [b\n",
            "prompts/ru.yaml:2: YAML syntax error: expected ',' or ']', but got "
            "'<stream end>' (while parsing a flow sequence started on line 1)",
        ),
    ],
)
def test_an_unreadable_prompt_file_gives_no_catalog(
    tmp_path: Path, text: str, expected: str
) -> None:
    write(tmp_path, {"ru.yaml": text})
    catalog, problems = read_prompts(tmp_path / "ru.yaml", "ru", "prompts/ru.yaml")
    assert catalog is None
    assert [str(p) for p in problems] == [expected]


# --- flows ---------------------------------------------------------------------------------


def test_a_flow_is_read_into_typed_nodes_with_only_the_prompts_it_speaks(
    fixture_flow: Callable[[str], Flow],
) -> None:
    flow = fixture_flow("valid/minimal.yaml")
    assert flow.name == "minimal"
    assert flow.languages == ["ru"]
    assert flow.start == "menu"
    assert flow.source == "valid/minimal.yaml"
    assert flow.nodes == {
        "menu": MenuNode(say=["menu"], options={"1": MenuOption(go="tip")}),
        "tip": PromptNode(say=["tip"], next="bye"),
        "operator": QueueNode(queue="general", say=["connecting"]),
        "bye": HangupNode(say=["goodbye"]),
    }
    # 'closed' is in the prompt file but no node speaks it, so the flow does not carry it.
    assert flow.prompts == {
        "ru": {
            "menu": "Нажмите 1, чтобы послушать совет. Специалист — 0.",
            "tip": "Совет дня.",
            "connecting": "Соединяю со специалистом.",
            "goodbye": "До свидания!",
        }
    }


def test_included_nodes_join_the_flow_and_the_schedule_is_built(
    fixture_flow: Callable[[str], Flow],
) -> None:
    flow = fixture_flow("valid/bilingual.yaml")
    assert flow.nodes["closed"] == PromptNode(say=["closed"], pause=1, next="bye")
    assert flow.nodes["bye"] == HangupNode()
    menu = flow.nodes["menu"]
    assert isinstance(menu, MenuNode)
    assert menu.options["1"] == MenuOption(go="menu", lang="en", keywords=["english"])
    assert set(flow.prompts) == {"ru", "en"}
    work = (TimeRange(time(9), time(13)), TimeRange(time(14), time(18)))
    assert flow.runtime_schedule == Schedule(
        weekly={**dict.fromkeys(range(5), work), 5: (TimeRange(time(10), time(14)),)},
        holiday_hours=(),
        calendar="RU",
        days_off=frozenset({date(2026, 12, 30)}),
        special={date(2026, 12, 31): (TimeRange(time(9), time(12)),)},
    )


def test_the_name_defaults_to_the_file_name_and_one_prompt_needs_no_brackets(
    tmp_path: Path,
) -> None:
    flow, problems = read(tmp_path, "start: bye\nnodes:\n  bye: {kind: hangup, say: goodbye}\n")
    assert problems == []
    assert flow is not None
    assert flow.name == "flow"
    assert flow.nodes["bye"] == HangupNode(say=["goodbye"])


def test_the_version_does_not_depend_on_unused_prompts(tmp_path: Path) -> None:
    text = "start: bye\nnodes:\n  bye: {kind: hangup, say: goodbye}\n"
    small = PromptCatalog("ru", "ru.yaml", {"goodbye": "Пока!"}, {"goodbye": 1})
    large = PromptCatalog("ru", "ru.yaml", {"goodbye": "Пока!", "other": "Что-то."}, {})
    changed = PromptCatalog("ru", "ru.yaml", {"goodbye": "До встречи!"}, {})
    first, _ = read(tmp_path, text, prompts={"ru": small})
    second, _ = read(tmp_path, text, prompts={"ru": large})
    third, _ = read(tmp_path, text, prompts={"ru": changed})
    assert first is not None and second is not None and third is not None
    assert first.version == second.version
    assert first.version != third.version


def test_mistakes_in_nodes_are_all_reported(tmp_path: Path) -> None:
    flow, problems = read(
        tmp_path,
        "start: a\n"
        "nodes:\n"
        "  a: {kind: hangup}\n"
        "  b: just text\n"
        "  c: {say: x}\n"
        "  d:\n"
        "    kind: queue\n"
        "    queue: general\n"
        "    wait_pause: 0\n",
    )
    assert flow is None
    assert problems == [
        "flow.yaml:4: node 'b': a node must be a mapping with a 'kind'",
        "flow.yaml:5: node 'c': 'kind' is missing",
        "flow.yaml:9: node 'd': 'wait_pause': Input should be greater than or equal to 1",
    ]


def test_schedule_mistakes_are_each_reported_at_their_own_line(tmp_path: Path) -> None:
    flow, problems = read(
        tmp_path,
        "start: a\n"
        "schedule:\n"
        "  hours:\n"
        '    mon-fri: "08:00-20:00"\n'
        '    fri-sat: "10:00-12:00"\n'
        '  holidays: "8-14"\n'
        "  special:\n"
        "    2026-13-01: closed\n"
        '    2026-12-31: "10:00-09:00"\n'
        "  days_off: [2026-02-30]\n"
        "nodes:\n"
        "  a: {kind: hangup}\n",
    )
    assert flow is None
    assert problems == [
        "flow.yaml:5: schedule: fri is given hours twice ('mon-fri' and 'fri-sat')",
        "flow.yaml:6: schedule: holiday hours: '8' is not a time of day like 08:00",
        "flow.yaml:8: 'schedule.special.2026-13-01': Input should be a valid date or datetime, "
        "month value is outside expected range of 1-12",
        "flow.yaml:9: schedule: hours for 2026-12-31: in '10:00-09:00' the end is not after "
        "the start",
        "flow.yaml:10: 'schedule.days_off.0': Input should be a valid date or datetime, "
        "day value is outside expected range",
    ]


def test_schedule_mistakes_the_model_alone_sees_are_still_reported(tmp_path: Path) -> None:
    flow, problems = read(
        tmp_path,
        "start: a\nschedule:\n  hours: always\n  calendar: US\nnodes:\n  a: {kind: hangup}\n",
    )
    assert flow is None
    assert problems == [
        "flow.yaml:3: 'schedule.hours': hours must map weekdays to hours, or be '24/7'",
        "flow.yaml:4: 'schedule.calendar': calendar 'US' is not known; use RU or none",
    ]


def test_a_round_the_clock_schedule(tmp_path: Path) -> None:
    flow, problems = read(
        tmp_path,
        "start: a\nschedule:\n  hours: 24/7\n  calendar: none\nnodes:\n  a: {kind: hangup}\n",
    )
    assert problems == []
    assert flow is not None
    assert flow.runtime_schedule == Schedule(weekly={}, always_open=True, calendar=None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n", ["flow.yaml:1: a flow file must be a mapping"]),
        ("start: a\n", ["flow.yaml:1: 'nodes' is missing"]),
        (
            "start: a\nnodes: [a, b]\n",
            ["flow.yaml:2: 'nodes' must be a mapping of node ids to nodes"],
        ),
        ("nodes:\n  a: {kind: hangup}\n", ["flow.yaml:1: 'start' is missing"]),
    ],
)
def test_mistakes_in_the_shape_of_a_flow_file(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    flow, problems = read(tmp_path, text)
    assert flow is None
    assert problems == expected


def test_mistakes_in_included_files_name_the_included_file(tmp_path: Path) -> None:
    flow, problems = read(
        tmp_path,
        "start: a\ninclude: [parts/p1.yaml, parts/p2.yaml, parts/p3.yaml]\nnodes:\n"
        "  a: {kind: hangup}\n",
        parts={
            "parts/p1.yaml": "nodes:\n  b: {kind: hangup\n",
            "parts/p2.yaml": "- x\n",
            "parts/p3.yaml": "extra: 1\nnodes:\n  c: {kind: hangup}\n",
        },
    )
    assert flow is None
    assert problems == [
        "parts/p1.yaml:3: YAML syntax error: expected ',' or '}', but got '<stream end>' "
        "(while parsing a flow mapping started on line 2)",
        "parts/p2.yaml:1: an included file must be a mapping",
        "parts/p3.yaml:1: unknown key 'extra' in an included file (allowed: nodes, profiles)",
    ]


def test_include_may_name_one_file_without_brackets(tmp_path: Path) -> None:
    flow, problems = read(
        tmp_path,
        "start: a\ninclude: parts/end.yaml\nnodes:\n  a: {kind: goto, to: b}\n",
        parts={"parts/end.yaml": "nodes:\n  b: {kind: hangup}\n"},
    )
    assert problems == []
    assert flow is not None
    assert sorted(flow.nodes) == ["a", "b"]

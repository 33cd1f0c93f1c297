"""The worst-case timing estimate of ``ivr validate --timing``."""

from __future__ import annotations

from typing import Any

from ivr.engine.timing import flow_timing, render
from ivr.flows.model import Flow

# Ten characters each: one second at 10 characters a second.
PROMPTS = {"hello": "Здравствуй", "menu": "Нажмите 1.", "oops": "Не слышу!!", "conn": "Соединяю.."}


def _flow(**extra: Any) -> Flow:
    spec: dict[str, Any] = {
        "name": "timed",
        "languages": ["ru"],
        "start": "greeting",
        "defaults": {
            "operator": "person",
            "timeout": 5,
            "retries": 2,
            "silence_limit": 3,
            "no_input": ["oops"],
        },
        "nodes": {
            "greeting": {"kind": "prompt", "say": ["hello", "hello"], "next": "menu"},
            "menu": {"kind": "menu", "say": "menu", "options": {"1": "person"}},
            "person": {"kind": "queue", "queue": "general", "say": "conn"},
        },
        "prompts": {"ru": PROMPTS},
    }
    spec.update(extra)
    return Flow.model_validate(spec)


def test_a_silent_caller_hears_the_menu_three_times_with_two_no_inputs_between() -> None:
    timing = flow_timing(_flow(), chars_per_second=10)
    assert timing.first_choice == 3.0  # two greetings and the menu
    # 2 greetings + 3 menus + 2 no-inputs + the connecting prompt; 3 timeouts of 5 s.
    assert (timing.person_speech, timing.person_waiting, timing.person_node) == (
        8.0,
        15.0,
        "person",
    )


def _with_defaults(**defaults: Any) -> Flow:
    flow = _flow()
    spec = flow.model_dump()
    spec["defaults"].update(defaults)
    return Flow.model_validate(spec)


def test_the_silence_limit_sends_a_silent_caller_on_before_the_retries_run_out() -> None:
    timing = flow_timing(_with_defaults(silence_limit=2), chars_per_second=10)
    # 2 greetings + 2 menus + 1 no-input + connecting; 2 timeouts of 5 s.
    assert (timing.person_speech, timing.person_waiting) == (6.0, 10.0)


def test_the_profile_a_silent_caller_is_switched_to_speaks_at_its_rate_and_waits_longer() -> None:
    flow = _with_defaults(silence_switch_after=1, silence_profile="slow", silence_limit=2)
    spec = flow.model_dump()
    spec["profiles"] = {"slow": {"rate": "50%", "timeout": 10, "repeat": 1}}
    timing = flow_timing(Flow.model_validate(spec), chars_per_second=10)
    # 2 greetings + the menu at full speed; then, at half speed, the no-input prompt (2 s),
    # the menu said twice (4 s) and connecting (2 s). Waiting: 5 s, then 2 × 10 s.
    assert (timing.person_speech, timing.person_waiting) == (11.0, 25.0)


def test_a_slower_profile_makes_speech_longer() -> None:
    flow = _flow(profiles={"slow": {"rate": "50%"}}, profile="slow")
    timing = flow_timing(flow, chars_per_second=10)
    assert timing.first_choice == 6.0
    assert timing.person_speech == 16.0


def test_the_report_names_the_rate_and_says_it_is_uncalibrated() -> None:
    lines = render([flow_timing(_flow(), chars_per_second=10)], 10)
    assert lines == [
        "Worst-case seconds, estimated at 10 characters a second (uncalibrated) times each "
        "line's profile rate:",
        "timed: before the first choice 3 s; silent caller to a person 23 s (8 s speech + "
        "15 s waiting, at 'person')",
    ]

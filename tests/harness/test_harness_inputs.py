"""Caller inputs as scenario files and the interactive prompt write them."""

from __future__ import annotations

import pytest

from ivr.harness.inputs import (
    Ask,
    InputError,
    Press,
    ScriptedInputs,
    Silence,
    Speak,
    Talk,
    describe,
    from_data,
    from_line,
    to_json,
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("1", Press("1")),
        (5, Press("5")),
        ({"say": "оплата"}, Speak("оплата")),
        ({"talk": 6}, Talk(6)),
        ("silence", Silence()),
        ({"wait_press": "1"}, Press("1", in_queue=True)),
        ({"wait_press": 1}, Press("1", in_queue=True)),
    ],
)
def test_scenario_inputs(data: object, expected: object) -> None:
    assert from_data(data) == expected


@pytest.mark.parametrize("data", [{"talk": 0}, {"talk": "six"}, {"talk": True}, {"talk": 3601}])
def test_talk_needs_whole_seconds_up_to_an_hour(data: object) -> None:
    with pytest.raises(InputError):
        from_data(data)


def test_typed_talk_and_its_plain_form() -> None:
    assert from_line("talk 7") == Talk(7)
    assert from_line("talk 7 s") == Talk(7)
    assert from_line("talk about payments") == Speak("talk about payments")
    assert to_json(Talk(7)) == {"talk": 7}


def test_a_wait_press_is_written_and_told_apart_from_a_press() -> None:
    assert to_json(Press("1", in_queue=True)) == {"wait_press": "1"}
    assert to_json(Press("1")) == {"press": "1"}
    assert describe(Press("1", in_queue=True)) == "press 1 in the queue"
    with pytest.raises(InputError):
        from_data({"wait_press": "x"})
    with pytest.raises(InputError):
        from_data({"wait_press": True})


def test_scripted_wait_music_takes_only_a_wait_press() -> None:
    menu = Ask("Gather", True, False, 5)
    wait = Ask("Gather", True, False, 5, in_queue=True)
    inputs = ScriptedInputs([Press("5"), Press("1", in_queue=True), Press("2")])

    assert inputs.next_input(wait) == Silence()  # "5" is kept for the menu
    assert inputs.next_input(menu) == Press("5")
    assert inputs.next_input(wait) == Press("1", in_queue=True)
    assert inputs.next_input(wait) == Silence()
    assert inputs.next_input(menu) == Press("2")
    assert wait.hint().startswith("waiting in the queue: keys")

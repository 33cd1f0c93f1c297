"""Caller inputs as scenario files and the interactive prompt write them."""

from __future__ import annotations

import pytest

from ivr.harness.inputs import (
    InputError,
    Press,
    Silence,
    Speak,
    Talk,
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

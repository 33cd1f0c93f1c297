"""Numbers keyed in for a callback: Russian ones, and any country's on a line for abroad."""

from __future__ import annotations

import pytest

from ivr.domain.phones import international_groups, is_callable, keyed_in


@pytest.mark.parametrize(
    ("digits", "international", "e164"),
    [
        ("89161234567#", False, "+79161234567"),
        ("84951234567", True, "+74951234567"),
        # A keypad has no «+»: 00 (or Russia's own 810) stands for it on a line for abroad.
        ("0049301234567#", True, "+49301234567"),
        ("81049301234567#", True, "+49301234567"),
        ("12a#", True, None),
        ("", False, None),
    ],
)
def test_a_keyed_in_number_in_e164(digits: str, international: bool, e164: str | None) -> None:
    assert keyed_in(digits, international) == e164


def test_only_a_line_for_abroad_calls_back_a_number_abroad() -> None:
    assert is_callable("+79161234567") and is_callable("+79161234567", international=True)
    assert not is_callable("+49301234567")
    assert is_callable("+49301234567", international=True)
    # Too short to be anyone's number.
    assert not is_callable("+7916123", international=True)


@pytest.mark.parametrize(
    ("e164", "groups"),
    [
        ("+49301234567", ("49", ("30", "1234567"))),
        ("+33612345678", ("33", ("6", "12", "34", "56", "78"))),
        ("+12025550123", ("1", ("202", "555", "0123"))),
        ("+79161234567", ("7", ("916", "123", "45", "67"))),
        ("+380441234567", ("380", ("44", "123", "4567"))),
    ],
)
def test_international_groups_split_off_the_country_code(
    e164: str, groups: tuple[str, tuple[str, ...]]
) -> None:
    assert international_groups(e164) == groups


def test_international_groups_of_a_number_that_cannot_be_parsed() -> None:
    assert international_groups("+") is None

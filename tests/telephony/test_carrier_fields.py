"""Twilio's fields read so that a malformed value is no value: tables of what each reader
makes of what the carrier (or anyone with a valid signature) may send."""

from __future__ import annotations

import math

import pytest

from ivr.telephony.carrier_fields import MAX_SECONDS, confidence, row_id, whole_seconds

HUGE = "99999999999999999999"  # beyond an SQL BIGINT (2**63 - 1 has 19 digits)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0),
        ("1", 1),
        ("12", 12),
        (" 12 ", 12),
        ("12\n", 12),
        ("007", 7),
        (str(MAX_SECONDS), MAX_SECONDS),  # a whole day: the longest kept
        (str(MAX_SECONDS + 1), None),
        ("999999999999", None),  # 12 digits: well-formed, but beyond a day
        ("0000000000012", None),  # 13 digits: longer than any field we accept
        (HUGE, None),
        (str(2**63), None),
        ("abc", None),
        ("12abc", None),
        ("1.5", None),
        ("1.0", None),
        ("1e3", None),
        ("NaN", None),
        ("nan", None),
        ("inf", None),
        ("-inf", None),
        ("Infinity", None),
        ("-3", None),
        ("-0", None),
        ("+5", None),
        ("1_000", None),
        ("0x10", None),
        ("١٢", None),  # Arabic-Indic digits: int() would take them, we do not
        ("１２", None),  # full-width digits
        ("1 2", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_whole_seconds(value: str | None, expected: int | None) -> None:
    assert whole_seconds(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("0.0", 0.0),
        ("0.93", 0.93),
        ("1", 1.0),
        ("1.0", 1.0),
        (" 0.5 ", 0.5),
        ("5e-1", 0.5),
        ("1.0000001", None),
        ("1.5", None),
        ("-0.1", None),
        ("-3", None),
        ("2", None),
        (HUGE, None),
        ("1e400", None),  # overflows to inf
        ("NaN", None),
        ("nan", None),
        ("-nan", None),
        ("inf", None),
        ("-inf", None),
        ("Infinity", None),
        ("junk", None),
        ("0,5", None),
        ("0.5.1", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_confidence(value: str | None, expected: float | None) -> None:
    found = confidence(value)
    assert found == expected
    if found is not None:
        assert math.isfinite(found) and 0.0 <= found <= 1.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("42", 42),
        (" 12 ", 12),
        ("007", 7),
        ("999999999999", 999_999_999_999),  # 12 digits: the longest accepted
        ("1000000000000", None),  # 13 digits
        (HUGE, None),
        (str(2**63 - 1), None),
        ("0", None),
        ("000", None),
        ("-1", None),
        ("-3", None),
        ("+5", None),
        ("abc", None),
        ("1.5", None),
        ("1e3", None),
        ("NaN", None),
        ("inf", None),
        ("١٢", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_row_id(value: str | None, expected: int | None) -> None:
    assert row_id(value) == expected

"""Phone numbers, parsed and formatted by the ``phonenumbers`` library (Russia by default)."""

from __future__ import annotations

import re

import phonenumbers

DEFAULT_REGION = "RU"


def to_e164(number: str, region: str = DEFAULT_REGION) -> str | None:
    """``"8 800 555-35-35"`` → ``"+78005553535"``; None when it is not a possible number."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def international_groups(e164: str) -> tuple[str, tuple[str, ...]] | None:
    """A number's country code and the groups its national number is written in, by the
    numbering plan of its country: ``"+49301234567"`` → ``("49", ("30", "1234567"))``,
    ``"+33612345678"`` → ``("33", ("6", "12", "34", "56", "78"))``. None when it cannot be
    parsed. A country whose format is unknown gives its national number as one group."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    code = str(parsed.country_code)
    national = phonenumbers.national_significant_number(parsed)
    written = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    groups = tuple(re.findall(r"[0-9]+", written.removeprefix(f"+{code}")))
    if "".join(groups) != national or code + national != e164.lstrip("+"):
        # A format that adds or drops digits (none should): the digits as they are.
        return code, (e164.lstrip("+").removeprefix(code),)
    return code, groups


def is_valid_russian(number: str) -> bool:
    """True for a valid number of the Russian numbering plan (+7)."""
    try:
        parsed = phonenumbers.parse(number, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False
    return parsed.country_code == 7 and phonenumbers.is_valid_number(parsed)


def is_valid_anywhere(number: str) -> bool:
    """True for a valid number of any country's numbering plan."""
    try:
        parsed = phonenumbers.parse(number, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)


def keyed_in(digits: str, international: bool = False) -> str | None:
    """A number keyed in on a phone keypad, in E.164 form, or None.

    A keypad has no «+»: an international number starts with 00 (or 810, Russia's own
    international prefix), which is taken as the «+»; otherwise the number is Russian
    («8 916…»)."""
    digits = digits.strip().rstrip("#")
    if not digits.isdigit():
        return None
    if international:
        for prefix in ("00", "810"):
            if digits.startswith(prefix):
                return to_e164("+" + digits[len(prefix) :])
    return to_e164(digits)


def is_callable(number: str, international: bool = False) -> bool:
    """May a callback be booked to this number: a valid Russian one, or with
    ``international`` any valid number."""
    return is_valid_anywhere(number) if international else is_valid_russian(number)


def is_mobile(number: str) -> bool:
    """True when the number is a mobile number (so it can receive an SMS)."""
    try:
        parsed = phonenumbers.parse(number, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(parsed)
    return kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )

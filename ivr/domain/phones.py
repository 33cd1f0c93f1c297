"""Phone numbers, parsed and formatted by the ``phonenumbers`` library (Russia by default)."""

from __future__ import annotations

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


def is_valid_russian(number: str) -> bool:
    """True for a valid number of the Russian numbering plan (+7)."""
    try:
        parsed = phonenumbers.parse(number, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False
    return parsed.country_code == 7 and phonenumbers.is_valid_number(parsed)


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

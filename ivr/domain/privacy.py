"""Masking of personal data (phone numbers, СНИЛС, ИНН, request numbers) before it is logged.

Russian law (152-FZ) asks that personal data be kept only where needed; logs are not such a
place. Everything that writes a caller's input to a log goes through these functions, and the
logging filter catches what a message interpolates by accident.
"""

from __future__ import annotations

import logging
import re

# A run of digits, however a caller or a recogniser splits it (spaces, dashes, dots, commas,
# semicolons, slashes, brackets, up to three of them between two digits), starting with an
# optional plus: phone numbers, СНИЛС (123-456-789 01, or «160, 519, 740, 33» as speech
# recognition writes it), ИНН, request numbers. Colons are not separators, so that a list of
# times (10:30, 10:45) stays readable in a log.
_DIGIT_RUN = re.compile(
    r"(?<![A-Za-z0-9])\+?\d(?:[\s\-\u2013\u2014().,;/]{0,3}\d){5,}(?![A-Za-z0-9])"
)


def mask_digits(value: str, keep: int = 2) -> str:
    """Replace every digit but the last ``keep`` with ``*``, keeping separators."""
    total = sum(ch.isdigit() for ch in value)
    seen = 0
    out = []
    for ch in value:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > total - keep else "*")
        else:
            out.append(ch)
    return "".join(out)


def mask_phone(number: str | None) -> str:
    """A phone number with all but its last two digits hidden (``+7*********67``)."""
    if not number:
        return ""
    return mask_digits(number, keep=2)


def mask_input(value: str) -> str:
    """Caller input for the call log: a single key is kept, longer digit strings are masked."""
    if len(value) <= 1:
        return value
    return mask_digits(value, keep=0)


def mask_text(text: str) -> str:
    """Mask every run of six or more digits (with separators) inside free text."""
    return _DIGIT_RUN.sub(lambda m: mask_digits(m.group(0), keep=2), text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks digit runs in the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            # A traceback quotes values (a database error its parameters): mask it too.
            record.exc_text = mask_text(_FORMATTER.formatException(record.exc_info))
        return True


_FORMATTER = logging.Formatter()

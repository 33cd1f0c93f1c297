"""Twilio's form fields and query arguments, read so that a malformed value is no value.

Whatever the carrier (or anyone posing as it with a valid signature) sends, a webhook must
not crash on it: a crash is a 500, which Twilio retries or turns into an application error,
and inside a call it would send the caller to the apology. Each reader here returns ``None``
for a value it cannot use, and the caller of the reader treats that as "no input".
"""

from __future__ import annotations

import math
import re

# Longer than any recording (Twilio's <Record> stops at 4 hours) or call anyone would keep.
MAX_SECONDS = 24 * 3600
# At most 12 digits: far below the largest key an SQL integer column holds (2**63 - 1).
_WHOLE = re.compile(r"^[0-9]{1,12}$")


def whole_seconds(value: str | None) -> int | None:
    """A duration in whole seconds (``RecordingDuration``, ``QueueTime``), or None when the
    value is missing, not a whole number (``1.5``, ``NaN``, ``-3``) or beyond a day."""
    if value is None or not _WHOLE.fullmatch(value.strip()):
        return None
    seconds = int(value.strip())
    return seconds if seconds <= MAX_SECONDS else None


def confidence(value: str | None) -> float | None:
    """Speech ``Confidence`` between 0 and 1, or None when missing or not such a number."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        return None
    return number


def row_id(value: str | None) -> int | None:
    """A positive database id from a query argument (``callback=``), or None."""
    if value is None or not _WHOLE.fullmatch(value.strip()):
        return None
    number = int(value.strip())
    return number if number > 0 else None

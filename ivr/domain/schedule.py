"""Business hours of a hotline in Moscow time, with the Russian production calendar.

A pure module: no I/O and no clock. The current instant is always passed in as a
timezone-aware datetime, so every answer is reproducible in tests and the same for
callers abroad (their datetimes are converted to Moscow time first).

How the hours of a calendar date are decided, first match wins:

1. ``Schedule.special[d]``: admin hours for that date (``()`` closes the day).
2. ``d in Schedule.days_off``: admin day off, closed.
3. ``Schedule.always_open``: open around the clock, the calendar does not matter.
4. A public holiday or a transferred day off of the production calendar
   (``Schedule.calendar``): ``Schedule.holiday_hours``. A holiday falling on a regular
   weekend day is still a holiday.
5. A weekend day the calendar makes a working day («рабочая суббота»): the weekly hours
   of the weekday it was swapped with, or Monday's when the calendar does not say.
6. Otherwise ``Schedule.weekly[d.weekday()]`` (a missing weekday is closed).

The production calendar comes from the ``holidays`` package
(``holidays.country_holidays("RU", years=...)``): its dict holds public holidays,
holidays moved off a weekend (Labour Code art. 112) and days off transferred by
government decree; its ``weekend_workdays`` set holds the weekend days turned into
working days; its ``special_public_holidays`` table pairs each transferred day off
with the weekend day it came from. Pre-holiday shortened days are not modelled: the
package does not provide them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

from ivr.domain.spoken_time import clock_words, date_words

__all__ = [
    "HORIZON_DAYS",
    "MOSCOW",
    "DayKind",
    "LineState",
    "Schedule",
    "TimeRange",
    "day_kind",
    "describe_next_opening",
    "describe_slot",
    "hours_on",
    "is_open",
    "is_public_day_off",
    "next_opening",
    "open_intervals",
    "state_at",
]

MOSCOW = ZoneInfo("Europe/Moscow")

# Long enough to cross the Russian New Year break (up to 12 days off in a row) many
# times over, short enough to stay cheap when a line is never open.
HORIZON_DAYS = 60

MIDNIGHT = time(0, 0)


@dataclass(frozen=True)
class TimeRange:
    """Opening hours within one day, ``[start, end)`` in local (Moscow) wall time.

    ``end == time(0, 0)`` means midnight at the end of the day (24:00), so
    ``TimeRange(time(20), time(0))`` is 20:00–24:00 and ``TimeRange(time(0), time(0))``
    the whole day. Overnight hours are written as two ranges on two days; adjacent
    ranges are merged when intervals are computed.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        # Aware times would carry a second, conflicting notion of the zone; all hours
        # are Moscow wall time by definition.
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("TimeRange times must be naive (they are Moscow wall time)")
        if self.end != MIDNIGHT and self.start >= self.end:
            raise ValueError(f"TimeRange start {self.start} must be before end {self.end}")


FULL_DAY = TimeRange(MIDNIGHT, MIDNIGHT)


def _normalise_ranges(ranges: Iterable[TimeRange], what: str) -> tuple[TimeRange, ...]:
    items = tuple(ranges)
    for item in items:
        if not isinstance(item, TimeRange):
            raise TypeError(f"{what}: expected TimeRange, got {type(item).__name__}")
    return tuple(sorted(items, key=lambda r: r.start))


@dataclass(frozen=True)
class Schedule:
    """The hours of one line. See the module docstring for which hours apply to a date.

    ``weekly`` maps 0=Monday .. 6=Sunday to that weekday's hours (missing = closed).
    ``holiday_hours`` apply on public holidays and transferred days off (``()`` =
    closed). ``calendar`` is a ``holidays`` country code, ``None`` to ignore holidays.
    ``days_off`` and ``special`` are admin overrides and apply even to
    ``always_open`` lines (planned outages must be able to close a 24/7 line).
    """

    weekly: Mapping[int, tuple[TimeRange, ...]]
    holiday_hours: tuple[TimeRange, ...] = ()
    calendar: str | None = "RU"
    days_off: frozenset[date] = frozenset()
    special: Mapping[date, tuple[TimeRange, ...]] = field(default_factory=dict)
    always_open: bool = False

    def __post_init__(self) -> None:
        # Copies behind read-only views: a frozen schedule must not change when the
        # caller later mutates the dict it was built from.
        weekly: dict[int, tuple[TimeRange, ...]] = {}
        for weekday, ranges in self.weekly.items():
            if not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(f"weekly keys are 0 (Monday) .. 6 (Sunday), got {weekday!r}")
            weekly[weekday] = _normalise_ranges(ranges, f"weekly[{weekday}]")
        special = {
            d: _normalise_ranges(ranges, f"special[{d}]") for d, ranges in self.special.items()
        }
        object.__setattr__(self, "weekly", MappingProxyType(weekly))
        object.__setattr__(self, "special", MappingProxyType(special))
        object.__setattr__(
            self, "holiday_hours", _normalise_ranges(self.holiday_hours, "holiday_hours")
        )
        object.__setattr__(self, "days_off", frozenset(self.days_off))
        # Fail when the flow is loaded rather than on the first call of a holiday.
        if self.calendar is not None and self.calendar not in holidays.list_supported_countries():
            raise ValueError(f"unknown production calendar {self.calendar!r}")


class LineState(enum.StrEnum):
    """What the line is doing at an instant."""

    OPEN = "open"
    CLOSED = "closed"
    # Closed, and the day is a public holiday, a transferred day off or an admin day
    # off: the after-hours prompt can say why the line is closed.
    HOLIDAY = "holiday"


class DayKind(enum.StrEnum):
    """What kind of day a date is for a schedule (first match in the module order)."""

    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"  # public holiday or transferred day off
    WORKING_SATURDAY = "working_saturday"  # any weekend day the calendar makes working
    DAY_OFF = "day_off"  # admin
    SPECIAL = "special"  # admin


@lru_cache(maxsize=64)
def _calendar(code: str, year: int) -> holidays.HolidayBase:
    # Building a year of holidays costs far more than a lookup; schedules ask about the
    # same few years over and over.
    return holidays.country_holidays(code, years=year)


@lru_cache(maxsize=16)
def _swapped_weekdays(code: str) -> Mapping[date, int]:
    """Map each working weekend day to the weekday of the day off it was swapped with.

    The package keeps the decree table as ``special_public_holidays``:
    ``{year: ((to_month, to_day, from_month, from_day[, from_year]), ...)}`` where
    "to" is the new day off and "from" the weekend day that became a working day.
    """
    table = getattr(_calendar(code, 2000), "special_public_holidays", {})
    swapped: dict[date, int] = {}
    if not isinstance(table, Mapping):
        return swapped
    for year, entries in table.items():
        # A single entry is stored unwrapped, a tuple of ints.
        rows = (entries,) if entries and isinstance(entries[0], int) else entries
        for row in rows:
            # 3-item rows are one-off holidays with a name, not swaps.
            if len(row) not in (4, 5) or not all(isinstance(x, int) for x in row):
                continue
            to_month, to_day, from_month, from_day = row[:4]
            from_year = row[4] if len(row) == 5 else year
            swapped[date(from_year, from_month, from_day)] = date(year, to_month, to_day).weekday()
    return swapped


def _to_moscow(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(MOSCOW)


def day_kind(schedule: Schedule, d: date) -> DayKind:
    """Classify ``d`` for ``schedule``: admin overrides first, then the calendar."""
    if d in schedule.special:
        return DayKind.SPECIAL
    if d in schedule.days_off:
        return DayKind.DAY_OFF
    if schedule.calendar is None:
        return DayKind.WEEKEND if d.weekday() >= 5 else DayKind.WORKDAY
    cal = _calendar(schedule.calendar, d.year)
    # Membership first: the package can list a weekend day both as a holiday and as
    # the source of a transfer (3 January 2026 is both), and it stays a day off.
    if d in cal:
        return DayKind.HOLIDAY
    if d.weekday() in cal.weekend:
        return DayKind.WORKING_SATURDAY if d in cal.weekend_workdays else DayKind.WEEKEND
    return DayKind.WORKDAY


def is_public_day_off(d: date, calendar: str = "RU") -> bool:
    """True on a public holiday or a transferred day off of the production calendar."""
    return d in _calendar(calendar, d.year)


def hours_on(schedule: Schedule, d: date) -> tuple[TimeRange, ...]:
    """The opening hours of ``schedule`` on the Moscow calendar date ``d``."""
    kind = day_kind(schedule, d)
    if kind is DayKind.SPECIAL:
        return schedule.special[d]
    if kind is DayKind.DAY_OFF:
        return ()
    if schedule.always_open:
        return (FULL_DAY,)
    if kind is DayKind.HOLIDAY:
        return schedule.holiday_hours
    if kind is DayKind.WORKING_SATURDAY:
        assert schedule.calendar is not None  # WORKING_SATURDAY needs a calendar
        # The staff work the day they swapped away, so they keep that day's hours.
        weekday = _swapped_weekdays(schedule.calendar).get(d, 0)
        return schedule.weekly.get(weekday, ())
    return schedule.weekly.get(d.weekday(), ())


def _day_intervals(schedule: Schedule, d: date) -> list[tuple[datetime, datetime]]:
    intervals = []
    for r in hours_on(schedule, d):
        start = datetime.combine(d, r.start, tzinfo=MOSCOW)
        end_day = d + timedelta(days=1) if r.end == MIDNIGHT else d
        intervals.append((start, datetime.combine(end_day, r.end, tzinfo=MOSCOW)))
    return intervals


def _merged_intervals(
    schedule: Schedule, first: date, last: date
) -> list[tuple[datetime, datetime]]:
    """Open intervals of the days ``first`` .. ``last`` inclusive, touching ones merged."""
    raw: list[tuple[datetime, datetime]] = []
    d = first
    while d <= last:
        raw.extend(_day_intervals(schedule, d))
        d += timedelta(days=1)
    raw.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in raw:
        # Merging makes 20:00–24:00 + 00:00–08:00 one period, so midnight is not
        # reported as an "opening" of a line that never closed.
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def is_open(schedule: Schedule, now: datetime) -> bool:
    """Whether the line takes calls at ``now`` (opening instant included, closing not)."""
    local = _to_moscow(now, "now")
    return any(start <= local < end for start, end in _day_intervals(schedule, local.date()))


def state_at(schedule: Schedule, now: datetime) -> LineState:
    """OPEN, CLOSED, or HOLIDAY when closed on a holiday, transferred or admin day off."""
    local = _to_moscow(now, "now")
    if is_open(schedule, local):
        return LineState.OPEN
    if day_kind(schedule, local.date()) in (DayKind.HOLIDAY, DayKind.DAY_OFF):
        return LineState.HOLIDAY
    return LineState.CLOSED


def next_opening(
    schedule: Schedule, now: datetime, *, horizon_days: int = HORIZON_DAYS
) -> datetime | None:
    """The first instant strictly after ``now`` at which a closed line opens, in Moscow time.

    Returns ``None`` when the line is open at ``now`` (there is no opening to wait
    for; callers check ``is_open`` first) and when it does not open within
    ``horizon_days`` days.
    """
    local = _to_moscow(now, "now")
    if is_open(schedule, local):
        return None
    first = local.date()
    for start, _ in _merged_intervals(schedule, first, first + timedelta(days=horizon_days)):
        if start > local:
            return start
    return None


def open_intervals(
    schedule: Schedule, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Open periods clipped to ``[start, end)``, in Moscow time, merged and sorted."""
    lo = _to_moscow(start, "start")
    hi = _to_moscow(end, "end")
    if hi <= lo:
        return []
    result = []
    for a, b in _merged_intervals(schedule, lo.date(), hi.date()):
        a, b = max(a, lo), min(b, hi)
        if a < b:
            result.append((a, b))
    return result


_WEEKDAYS_RU = (
    "в понедельник",
    "во вторник",
    "в среду",
    "в четверг",
    "в пятницу",
    "в субботу",
    "в воскресенье",
)
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _day_off_between(schedule: Schedule, after: date, before: date) -> bool:
    d = after + timedelta(days=1)
    while d < before:
        if day_kind(schedule, d) in (DayKind.HOLIDAY, DayKind.DAY_OFF):
            return True
        d += timedelta(days=1)
    return False


def describe_next_opening(schedule: Schedule, now: datetime, lang: str = "ru") -> str:
    """The next opening after ``now`` as said on the phone, in words.

    Meant for a closed line; for an open one it returns «сейчас» / "now". Russian:
    «сегодня в десять часов», «завтра в восемь часов», «в понедельник в восемь часов»
    (2–6 days ahead with no holiday or day off in between, so the weekday cannot be
    mistaken), else «четвёртого января в восемь часов», each followed by «по московскому
    времени». English: the same forms ("on January fourth at eight a.m.") plus
    " Moscow time". No opening within the horizon
    gives «в ближайший рабочий день» / "on the next working day". ``lang`` is "ru" or "en";
    anything else is a configuration error and raises ``ValueError``.
    """
    if lang not in ("ru", "en"):
        raise ValueError(f"unsupported language {lang!r}")
    russian = lang == "ru"
    local = _to_moscow(now, "now")
    if is_open(schedule, local):
        return "сейчас" if russian else "now"
    opening = next_opening(schedule, local)
    if opening is None:
        return "в ближайший рабочий день" if russian else "on the next working day"

    clock = clock_words(opening.time(), lang)
    when = describe_day(schedule, local, opening.date(), lang)
    if russian:
        return f"{when} в {clock} по московскому времени"
    return f"{when} at {clock} Moscow time"


def describe_slot(
    schedule: Schedule, now: datetime, start: datetime, end: datetime, lang: str = "ru"
) -> str:
    """A callback slot as said on the phone: «завтра с девяти до девяти пятнадцати по
    московскому времени», "tomorrow between nine a.m. and nine fifteen a.m. Moscow time".

    The lines are federal: a caller may be in any time zone, so a time always says whose."""
    start, end = _to_moscow(start, "start"), _to_moscow(end, "end")
    day = describe_day(schedule, now, start.date(), lang)
    if lang == "ru":
        since = clock_words(start.time(), lang, case="genitive")
        until = clock_words(end.time(), lang, case="genitive")
        return f"{day} с {since} до {until} по московскому времени"
    since, until = clock_words(start.time(), lang), clock_words(end.time(), lang)
    return f"{day} between {since} and {until} Moscow time"


def describe_day(schedule: Schedule, now: datetime, day: date, lang: str = "ru") -> str:
    """A day as said on the phone relative to ``now``: «сегодня», «завтра», «в понедельник»
    (2–6 days ahead with no holiday or day off between), else «четвёртого января» ("on
    January fourth")."""
    russian = lang == "ru"
    local = _to_moscow(now, "now")
    ahead = (day - local.date()).days
    if ahead == 0:
        return "сегодня" if russian else "today"
    if ahead == 1:
        return "завтра" if russian else "tomorrow"
    if 1 < ahead <= 6 and not _day_off_between(schedule, local.date(), day):
        weekday = day.weekday()
        return _WEEKDAYS_RU[weekday] if russian else f"on {_WEEKDAYS_EN[weekday]}"
    return date_words(day, lang) if russian else f"on {date_words(day, lang)}"


def iter_slots(
    schedule: Schedule, start: datetime, minutes: int, horizon_days: int
) -> list[tuple[datetime, datetime]]:
    """Whole slots of ``minutes`` inside open hours, starting at or after ``start``.

    Slots are aligned to the clock (8:00, 8:15 …) so that callers booked at different times
    share the same slots and the capacity count means something.
    """
    local = _to_moscow(start, "start")
    step = timedelta(minutes=minutes)
    slots = []
    for a, b in open_intervals(schedule, local, local + timedelta(days=horizon_days)):
        midnight = a.replace(hour=0, minute=0, second=0, microsecond=0)
        offset = (a - midnight) // step
        slot = midnight + offset * step
        if slot < a:
            slot += step
        while slot + step <= b:
            slots.append((slot, slot + step))
            slot += step
    return slots

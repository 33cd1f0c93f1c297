"""Tests for ivr.domain.schedule: business hours with the Russian production calendar.

Calendar facts for 2026 and 2027 are the ones the `holidays` package (0.109) reports.
2026 matches Government decree of 24.09.2025 (3 Jan -> 9 Jan, 4 Jan -> 31 Dec, no
working Saturdays). The 2027 transfers (20 Feb Saturday worked for 22 Feb, 2 Jan ->
5 Nov, 3 Jan -> 31 Dec) are taken from the package, which cites the 2027 decree on
consultant.ru; they could not be checked against the decree text here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from ivr.domain.schedule import (
    MOSCOW,
    DayKind,
    LineState,
    Schedule,
    TimeRange,
    day_kind,
    describe_next_opening,
    describe_slot,
    hours_on,
    is_open,
    next_opening,
    open_intervals,
    state_at,
)


def tr(start: str, end: str) -> TimeRange:
    """TimeRange from "HH:MM" strings; "24:00" is midnight at the end of the day."""
    return TimeRange(
        time.fromisoformat(start), time(0) if end == "24:00" else time.fromisoformat(end)
    )


def msk(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=MOSCOW)


WEEKDAYS = (0, 1, 2, 3, 4)

# DOMAIN.md: main hotline Mon–Fri 08–20, Sat 09–18, Sun 10–16, holidays 08–14.
MAIN = Schedule(
    weekly={
        **{d: (tr("08:00", "20:00"),) for d in WEEKDAYS},
        5: (tr("09:00", "18:00"),),
        6: (tr("10:00", "16:00"),),
    },
    holiday_hours=(tr("08:00", "14:00"),),
)
ROUND_THE_CLOCK = Schedule(weekly={}, always_open=True)
# DOMAIN.md: regional centres, Mon–Fri 09–18, closed on holidays.
REGIONAL = Schedule(weekly={d: (tr("09:00", "18:00"),) for d in WEEKDAYS})
# Works Saturdays too but closes on every public holiday and transferred day off.
HOLIDAY_CLOSED = Schedule(
    weekly={**{d: (tr("08:00", "20:00"),) for d in WEEKDAYS}, 5: (tr("09:00", "18:00"),)},
)


def kinds_in_year(schedule: Schedule, year: int, kind: DayKind) -> set[date]:
    d, found = date(year, 1, 1), set()
    while d.year == year:
        if day_kind(schedule, d) is kind:
            found.add(d)
        d += timedelta(days=1)
    return found


# --- production calendar --------------------------------------------------------------


def test_2026_days_off_match_production_calendar() -> None:
    expected = {date(2026, 1, d) for d in range(1, 10)} | {
        date(2026, 2, 23),
        date(2026, 3, 8),  # Sunday
        date(2026, 3, 9),  # 8 March moved off the Sunday
        date(2026, 5, 1),
        date(2026, 5, 9),  # Saturday
        date(2026, 5, 11),  # 9 May moved off the Saturday
        date(2026, 6, 12),
        date(2026, 11, 4),
        date(2026, 12, 31),  # transferred from Sunday 4 January
    }
    assert kinds_in_year(MAIN, 2026, DayKind.HOLIDAY) == expected


def test_2026_has_no_working_weekend_days() -> None:
    assert kinds_in_year(MAIN, 2026, DayKind.WORKING_SATURDAY) == set()


def test_2027_days_off_match_production_calendar() -> None:
    expected = {date(2027, 1, d) for d in range(1, 9)} | {
        date(2027, 2, 22),  # transferred from Saturday 20 February
        date(2027, 2, 23),
        date(2027, 3, 8),
        date(2027, 5, 1),  # Saturday
        date(2027, 5, 3),
        date(2027, 5, 9),  # Sunday
        date(2027, 5, 10),
        date(2027, 6, 12),  # Saturday
        date(2027, 6, 14),
        date(2027, 11, 4),
        date(2027, 11, 5),  # transferred from Saturday 2 January
        date(2027, 12, 31),  # transferred from Sunday 3 January
    }
    assert kinds_in_year(MAIN, 2027, DayKind.HOLIDAY) == expected


def test_2027_working_weekend_days() -> None:
    assert kinds_in_year(MAIN, 2027, DayKind.WORKING_SATURDAY) == {date(2027, 2, 20)}


@pytest.mark.parametrize(
    ("d", "kind"),
    [
        (date(2026, 1, 3), DayKind.HOLIDAY),  # a holiday AND the source of a transfer
        (date(2026, 1, 9), DayKind.HOLIDAY),
        (date(2026, 1, 10), DayKind.WEEKEND),
        (date(2026, 1, 12), DayKind.WORKDAY),
        (date(2026, 5, 2), DayKind.WEEKEND),
        (date(2026, 12, 30), DayKind.WORKDAY),
        (date(2027, 1, 9), DayKind.WEEKEND),
        (date(2027, 1, 11), DayKind.WORKDAY),
        (date(2027, 2, 20), DayKind.WORKING_SATURDAY),
        (date(2025, 11, 1), DayKind.WORKING_SATURDAY),  # worked for Monday 3 November
        (date(2024, 11, 2), DayKind.WORKING_SATURDAY),  # worked for Tuesday 30 April
    ],
)
def test_day_kind_for_known_dates(d: date, kind: DayKind) -> None:
    assert day_kind(MAIN, d) is kind


@pytest.mark.parametrize(
    "d",
    [
        date(2026, 1, 1),
        date(2026, 1, 9),
        date(2026, 2, 23),
        date(2026, 3, 8),  # Sunday: holiday hours, not Sunday's 10–16
        date(2026, 12, 31),
        date(2027, 1, 8),
        date(2027, 5, 1),  # Saturday: holiday hours, not Saturday's 09–18
        date(2027, 6, 14),
    ],
)
def test_holidays_and_transferred_days_use_holiday_hours(d: date) -> None:
    assert hours_on(MAIN, d) == (tr("08:00", "14:00"),)


def test_working_saturday_uses_workday_hours() -> None:
    assert hours_on(MAIN, date(2027, 2, 20)) == (tr("08:00", "20:00"),)
    assert is_open(MAIN, msk(2027, 2, 20, 8, 30))  # a normal Saturday opens at 9:00
    assert not is_open(MAIN, msk(2027, 2, 27, 8, 30))


def test_working_saturday_uses_hours_of_the_swapped_weekday() -> None:
    schedule = Schedule(
        weekly={0: (tr("08:00", "20:00"),), 1: (tr("10:00", "17:00"),), 5: (tr("09:00", "12:00"),)}
    )
    # 2 November 2024 was worked in exchange for Tuesday 30 April 2024.
    assert hours_on(schedule, date(2024, 11, 2)) == (tr("10:00", "17:00"),)
    # 20 February 2027 is worked in exchange for Monday 22 February 2027.
    assert hours_on(schedule, date(2027, 2, 20)) == (tr("08:00", "20:00"),)


def test_calendar_none_ignores_holidays() -> None:
    plain = Schedule(weekly=MAIN.weekly, holiday_hours=MAIN.holiday_hours, calendar=None)
    assert day_kind(plain, date(2027, 1, 1)) is DayKind.WORKDAY
    assert hours_on(plain, date(2027, 1, 1)) == (tr("08:00", "20:00"),)
    assert day_kind(plain, date(2027, 2, 20)) is DayKind.WEEKEND
    assert hours_on(plain, date(2027, 2, 20)) == (tr("09:00", "18:00"),)


# --- state ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (msk(2026, 6, 1, 7, 59, 59, 999999), LineState.CLOSED),
        (msk(2026, 6, 1, 8, 0), LineState.OPEN),
        (msk(2026, 6, 1, 19, 59, 59, 999999), LineState.OPEN),
        (msk(2026, 6, 1, 20, 0), LineState.CLOSED),
        (msk(2026, 6, 7, 17, 0), LineState.CLOSED),  # Sunday after 16:00
        (msk(2027, 1, 1, 10, 0), LineState.OPEN),
        (msk(2027, 1, 1, 14, 0), LineState.HOLIDAY),
        (msk(2026, 12, 31, 7, 0), LineState.HOLIDAY),
    ],
)
def test_state_of_main_line(now: datetime, state: LineState) -> None:
    assert state_at(MAIN, now) is state
    assert is_open(MAIN, now) is (state is LineState.OPEN)


def test_regional_line_is_closed_on_transferred_day_off() -> None:
    assert hours_on(REGIONAL, date(2027, 2, 22)) == ()
    assert state_at(REGIONAL, msk(2027, 2, 22, 10, 0)) is LineState.HOLIDAY


def test_now_in_another_timezone_is_converted_to_moscow() -> None:
    # 05:00 UTC is 08:00 in Moscow (UTC+3).
    assert is_open(MAIN, datetime(2026, 6, 1, 5, 0, tzinfo=UTC))
    assert not is_open(MAIN, datetime(2026, 6, 1, 4, 59, tzinfo=UTC))


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(MAIN, datetime(2026, 6, 1, 10, 0))


def test_round_the_clock_line() -> None:
    for now in (msk(2027, 1, 1, 0, 0), msk(2026, 12, 31, 23, 59, 59), msk(2026, 6, 3, 3, 0)):
        assert state_at(ROUND_THE_CLOCK, now) is LineState.OPEN
        assert next_opening(ROUND_THE_CLOCK, now) is None
    assert open_intervals(ROUND_THE_CLOCK, msk(2026, 12, 30, 12, 0), msk(2027, 1, 2, 6, 0)) == [
        (msk(2026, 12, 30, 12, 0), msk(2027, 1, 2, 6, 0))
    ]


def test_admin_day_off_closes_even_a_round_the_clock_line() -> None:
    schedule = Schedule(weekly={}, always_open=True, days_off=frozenset({date(2026, 6, 3)}))
    assert state_at(schedule, msk(2026, 6, 3, 12, 0)) is LineState.HOLIDAY
    assert next_opening(schedule, msk(2026, 6, 3, 12, 0)) == msk(2026, 6, 4, 0, 0)


def test_admin_day_off() -> None:
    schedule = Schedule(weekly=MAIN.weekly, days_off=frozenset({date(2026, 6, 3)}))
    assert day_kind(schedule, date(2026, 6, 3)) is DayKind.DAY_OFF
    assert hours_on(schedule, date(2026, 6, 3)) == ()
    assert state_at(schedule, msk(2026, 6, 3, 10, 0)) is LineState.HOLIDAY
    # Tuesday evening: Thursday is 2 days ahead but the day off lies between.
    assert (
        describe_next_opening(schedule, msk(2026, 6, 2, 20, 30))
        == "четвёртого июня в восемь часов по московскому времени"
    )


def test_special_hours_win_over_holiday_and_day_off() -> None:
    schedule = Schedule(
        weekly=MAIN.weekly,
        holiday_hours=MAIN.holiday_hours,
        days_off=frozenset({date(2026, 6, 3)}),
        special={
            date(2027, 1, 1): (tr("10:00", "12:00"),),
            date(2026, 6, 3): (tr("14:30", "16:00"),),
            date(2026, 6, 4): (),
        },
    )
    assert hours_on(schedule, date(2027, 1, 1)) == (tr("10:00", "12:00"),)
    assert not is_open(schedule, msk(2027, 1, 1, 9, 0))
    assert day_kind(schedule, date(2026, 6, 3)) is DayKind.SPECIAL
    assert is_open(schedule, msk(2026, 6, 3, 15, 0))
    assert (
        describe_next_opening(schedule, msk(2026, 6, 3, 9, 0))
        == "сегодня в четырнадцать тридцать по московскому времени"
    )
    # An empty special entry closes a regular workday; it is not a holiday.
    assert state_at(schedule, msk(2026, 6, 4, 10, 0)) is LineState.CLOSED


# --- next opening ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "opening"),
    [
        (msk(2026, 6, 1, 7, 59), msk(2026, 6, 1, 8, 0)),
        (msk(2026, 6, 1, 20, 0), msk(2026, 6, 2, 8, 0)),
        (msk(2026, 6, 5, 21, 0), msk(2026, 6, 6, 9, 0)),  # Friday -> Saturday 9:00
        (msk(2026, 12, 31, 15, 0), msk(2027, 1, 1, 8, 0)),
        (msk(2026, 6, 1, 12, 0), None),  # open now
    ],
)
def test_next_opening_of_main_line(now: datetime, opening: datetime | None) -> None:
    assert next_opening(MAIN, now) == opening


def test_next_opening_within_horizon_only() -> None:
    far = date(2026, 6, 1) + timedelta(days=90)
    schedule = Schedule(weekly={}, special={far: (tr("09:00", "10:00"),)})
    now = msk(2026, 6, 1, 12, 0)
    assert next_opening(schedule, now) is None
    assert next_opening(schedule, now, horizon_days=100) == datetime.combine(
        far, time(9), tzinfo=MOSCOW
    )


def test_midnight_is_not_an_opening_of_a_line_open_across_it() -> None:
    schedule = Schedule(
        weekly={},
        calendar=None,
        special={
            date(2026, 6, 1): (tr("20:00", "24:00"),),
            date(2026, 6, 2): (tr("00:00", "08:00"),),
        },
    )
    assert next_opening(schedule, msk(2026, 6, 1, 19, 0)) == msk(2026, 6, 1, 20, 0)
    assert is_open(schedule, msk(2026, 6, 2, 0, 0))
    assert open_intervals(schedule, msk(2026, 6, 1), msk(2026, 6, 3)) == [
        (msk(2026, 6, 1, 20, 0), msk(2026, 6, 2, 8, 0))
    ]


# --- phrases --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "now", "phrase"),
    [
        (MAIN, msk(2026, 6, 1, 6, 0), "сегодня в восемь часов по московскому времени"),
        (
            MAIN,
            msk(2026, 6, 1, 20, 0),
            "завтра в восемь часов по московскому времени",
        ),  # never «сегодня» after closing
        (
            MAIN,
            msk(2026, 6, 5, 21, 0),
            "завтра в девять часов по московскому времени",
        ),  # Friday night
        (
            MAIN,
            msk(2026, 6, 6, 18, 30),
            "завтра в десять часов по московскому времени",
        ),  # Saturday -> Sunday
        (
            MAIN,
            msk(2026, 12, 31, 15, 0),
            "завтра в восемь часов по московскому времени",
        ),  # holiday hours on 1 January
        (REGIONAL, msk(2026, 6, 5, 19, 0), "в понедельник в девять часов по московскому времени"),
        # Friday before the May holidays: Tuesday 12 May is 4 days ahead, a holiday between.
        (
            REGIONAL,
            msk(2026, 5, 8, 19, 0),
            "двенадцатого мая в девять часов по московскому времени",
        ),
        (
            REGIONAL,
            msk(2026, 12, 30, 19, 0),
            "одиннадцатого января в девять часов по московскому времени",
        ),
        (
            HOLIDAY_CLOSED,
            msk(2026, 12, 30, 21, 0),
            "девятого января в девять часов по московскому времени",
        ),
        (
            HOLIDAY_CLOSED,
            msk(2025, 12, 30, 21, 0),
            "десятого января в девять часов по московскому времени",
        ),
    ],
)
def test_describe_next_opening_ru(schedule: Schedule, now: datetime, phrase: str) -> None:
    assert describe_next_opening(schedule, now) == phrase


@pytest.mark.parametrize(
    ("weekday", "now", "phrase"),
    [
        (1, msk(2026, 6, 1, 12, 0), "завтра в девять часов по московскому времени"),
        (2, msk(2026, 6, 1, 12, 0), "в среду в девять часов по московскому времени"),
        (3, msk(2026, 6, 1, 12, 0), "в четверг в девять часов по московскому времени"),
        (4, msk(2026, 6, 1, 12, 0), "в пятницу в девять часов по московскому времени"),
        (5, msk(2026, 6, 1, 12, 0), "в субботу в девять часов по московскому времени"),
        (6, msk(2026, 6, 1, 12, 0), "в воскресенье в девять часов по московскому времени"),
        (
            0,
            msk(2026, 6, 1, 12, 0),
            "восьмого июня в девять часов по московскому времени",
        ),  # a week ahead: the date
        (1, msk(2026, 6, 7, 12, 0), "во вторник в девять часов по московскому времени"),
        (0, msk(2026, 6, 4, 12, 0), "в понедельник в девять часов по московскому времени"),
    ],
)
def test_weekday_phrases(weekday: int, now: datetime, phrase: str) -> None:
    one_day = Schedule(weekly={weekday: (tr("09:00", "10:00"),)}, calendar=None)
    assert describe_next_opening(one_day, now) == phrase


@pytest.mark.parametrize(
    ("schedule", "now", "phrase"),
    [
        (MAIN, msk(2026, 6, 1, 6, 0), "today at eight a.m. Moscow time"),
        (MAIN, msk(2026, 6, 5, 21, 0), "tomorrow at nine a.m. Moscow time"),
        (REGIONAL, msk(2026, 6, 5, 19, 0), "on Monday at nine a.m. Moscow time"),
        (REGIONAL, msk(2026, 12, 30, 19, 0), "on January eleventh at nine a.m. Moscow time"),
    ],
)
def test_describe_next_opening_en(schedule: Schedule, now: datetime, phrase: str) -> None:
    assert describe_next_opening(schedule, now, lang="en") == phrase


def test_describe_uses_moscow_date_for_callers_abroad() -> None:
    # 22:30 UTC on Friday is already 01:30 on Saturday in Moscow: "today", not "tomorrow".
    now = datetime(2026, 6, 5, 22, 30, tzinfo=UTC)
    assert describe_next_opening(MAIN, now, lang="en") == "today at nine a.m. Moscow time"


def test_a_callback_slot_is_said_from_and_until_in_words() -> None:
    now = msk(2026, 11, 25, 22, 30)  # Wednesday night
    tomorrow = (msk(2026, 11, 26, 9, 0), msk(2026, 11, 26, 9, 15))
    after_the_weekend = (msk(2026, 11, 30, 13, 45), msk(2026, 11, 30, 14, 0))
    assert (
        describe_slot(MAIN, now, *tomorrow)
        == "завтра с девяти до девяти пятнадцати по московскому времени"
    )
    assert describe_slot(MAIN, now, *after_the_weekend) == (
        "в понедельник с тринадцати сорока пяти до четырнадцати по московскому времени"
    )
    assert describe_slot(MAIN, now, *tomorrow, lang="en") == (
        "tomorrow between nine a.m. and nine fifteen a.m. Moscow time"
    )
    # Given in UTC, said in Moscow time.
    utc = (datetime(2026, 11, 26, 6, 0, tzinfo=UTC), datetime(2026, 11, 26, 6, 15, tzinfo=UTC))
    assert (
        describe_slot(MAIN, now, *utc)
        == "завтра с девяти до девяти пятнадцати по московскому времени"
    )


def test_describe_fallbacks() -> None:
    never = Schedule(weekly={})
    now = msk(2026, 6, 1, 12, 0)
    assert describe_next_opening(never, now) == "в ближайший рабочий день"
    assert describe_next_opening(never, now, lang="en") == "on the next working day"
    assert describe_next_opening(MAIN, now) == "сейчас"
    with pytest.raises(ValueError, match="language"):
        describe_next_opening(MAIN, now, lang="de")


# --- intervals ------------------------------------------------------------------------


def test_open_intervals_across_a_weekend() -> None:
    assert open_intervals(MAIN, msk(2026, 6, 5, 19, 0), msk(2026, 6, 8, 9, 0)) == [
        (msk(2026, 6, 5, 19, 0), msk(2026, 6, 5, 20, 0)),
        (msk(2026, 6, 6, 9, 0), msk(2026, 6, 6, 18, 0)),
        (msk(2026, 6, 7, 10, 0), msk(2026, 6, 7, 16, 0)),
        (msk(2026, 6, 8, 8, 0), msk(2026, 6, 8, 9, 0)),
    ]


def test_open_intervals_across_new_year() -> None:
    assert open_intervals(MAIN, msk(2026, 12, 30), msk(2027, 1, 2)) == [
        (msk(2026, 12, 30, 8, 0), msk(2026, 12, 30, 20, 0)),
        (msk(2026, 12, 31, 8, 0), msk(2026, 12, 31, 14, 0)),
        (msk(2027, 1, 1, 8, 0), msk(2027, 1, 1, 14, 0)),
    ]
    assert open_intervals(REGIONAL, msk(2026, 12, 31), msk(2027, 1, 11)) == []


def test_open_intervals_of_empty_range() -> None:
    assert open_intervals(MAIN, msk(2026, 6, 1, 12, 0), msk(2026, 6, 1, 12, 0)) == []
    assert open_intervals(MAIN, msk(2026, 6, 2, 12, 0), msk(2026, 6, 1, 12, 0)) == []


# --- validation -----------------------------------------------------------------------


def test_time_range_validation() -> None:
    assert tr("20:00", "24:00").end == time(0)
    with pytest.raises(ValueError, match="before"):
        tr("10:00", "09:00")
    with pytest.raises(ValueError, match="before"):
        tr("10:00", "10:00")
    with pytest.raises(ValueError, match="naive"):
        TimeRange(time(9, tzinfo=MOSCOW), time(10))


def test_schedule_validation() -> None:
    with pytest.raises(ValueError, match="weekly keys"):
        Schedule(weekly={7: (tr("09:00", "10:00"),)})
    with pytest.raises(ValueError, match="calendar"):
        Schedule(weekly={}, calendar="XX")


def test_schedule_does_not_follow_later_changes_of_its_input() -> None:
    weekly = {0: (tr("09:00", "10:00"),)}
    schedule = Schedule(weekly=weekly, calendar=None)
    weekly[0] = (tr("11:00", "12:00"),)
    assert hours_on(schedule, date(2026, 6, 1)) == (tr("09:00", "10:00"),)

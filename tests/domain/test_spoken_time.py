"""Dates and times in words, in the case the sentence needs (Russian) and in English."""

from __future__ import annotations

from datetime import date, time

import pytest

from ivr.domain.spoken_time import clock_words, date_words


@pytest.mark.parametrize(
    ("day", "russian", "english"),
    [
        (date(2026, 3, 1), "первого марта", "March first"),
        (date(2026, 11, 3), "третьего ноября", "November third"),
        (date(2026, 6, 4), "четвёртого июня", "June fourth"),
        (date(2027, 1, 11), "одиннадцатого января", "January eleventh"),
        (date(2026, 11, 20), "двадцатого ноября", "November twentieth"),
        (date(2026, 5, 21), "двадцать первого мая", "May twenty-first"),
        (date(2026, 12, 31), "тридцать первого декабря", "December thirty-first"),
    ],
)
def test_a_date_is_its_genitive_ordinal_and_month(day: date, russian: str, english: str) -> None:
    assert date_words(day, "ru") == russian
    assert date_words(day, "en") == english


@pytest.mark.parametrize(
    ("moment", "after_v", "after_s_or_do", "english"),
    [
        (time(0, 0), "полночь", "полуночи", "midnight"),
        (time(1, 0), "час", "часа", "one a.m."),
        (time(1, 15), "час пятнадцать", "часа пятнадцати", "one fifteen a.m."),
        (time(0, 15), "ноль пятнадцать", "нуля пятнадцати", "twelve fifteen a.m."),
        (time(2, 0), "два часа", "двух", "two a.m."),
        (time(5, 0), "пять часов", "пяти", "five a.m."),
        (time(8, 0), "восемь часов", "восьми", "eight a.m."),
        (time(9, 5), "девять ноль пять", "девяти ноль пяти", "nine oh five a.m."),
        (time(9, 15), "девять пятнадцать", "девяти пятнадцати", "nine fifteen a.m."),
        (time(9, 1), "девять ноль одна", "девяти ноль одной", "nine oh one a.m."),
        (time(9, 22), "девять двадцать две", "девяти двадцати двух", "nine twenty-two a.m."),
        (
            time(13, 21),
            "тринадцать двадцать одна",
            "тринадцати двадцати одной",
            "one twenty-one p.m.",
        ),
        (time(11, 0), "одиннадцать часов", "одиннадцати", "eleven a.m."),
        (time(11, 15), "одиннадцать пятнадцать", "одиннадцати пятнадцати", "eleven fifteen a.m."),
        (time(12, 0), "двенадцать часов", "двенадцати", "noon"),
        (time(13, 45), "тринадцать сорок пять", "тринадцати сорока пяти", "one forty-five p.m."),
        (time(21, 0), "двадцать один час", "двадцати одного часа", "nine p.m."),
        (time(22, 0), "двадцать два часа", "двадцати двух", "ten p.m."),
    ],
)
def test_a_time_in_words(moment: time, after_v: str, after_s_or_do: str, english: str) -> None:
    assert clock_words(moment, "ru") == after_v
    assert clock_words(moment, "ru", case="genitive") == after_s_or_do
    assert clock_words(moment, "en") == english


def test_other_languages_are_refused() -> None:
    with pytest.raises(ValueError, match="'de'"):
        date_words(date(2026, 1, 1), "de")
    with pytest.raises(ValueError, match="'de'"):
        clock_words(time(9), "de")

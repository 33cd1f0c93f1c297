"""How the IVR says dates and times: in words, in the grammatical case the sentence needs.

Left to the voice, «Мы откроемся 11 января в 9:00» may come out as «одиннадцать января в
девять ноль ноль»; Russian needs «одиннадцатого января в девять часов», and «с 9:00 до 9:15»
is «с девяти до девяти пятнадцати». So prompts get dates and times already in words:

- a date, as in «откроемся …» or «до …»: the genitive ordinal and month, «двадцать седьмого
  ноября»; English "November twenty-seventh";
- a time after «в»: «девять часов» (час, два часа, пять часов), «девять тридцать»,
  «девять ноль пять», «полночь»; English "nine a.m.", "nine thirty a.m.", "noon";
- a time after «с» / «до» (``case="genitive"``): «девяти», «девяти пятнадцати», «часа»,
  «полуночи».

Times use the 24-hour clock in Russian, as official lines say them («в двадцать часов»).
Numbers come from num2words, which declines Russian numerals by case.
"""

from __future__ import annotations

from datetime import date, time
from typing import Final, Literal

from num2words import num2words

from ivr.domain.spoken import plural_ru

Case = Literal["nominative", "genitive"]

_MONTHS_RU_GENITIVE: Final = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_MONTHS_EN: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _check_lang(lang: str) -> None:
    if lang not in ("ru", "en"):
        raise ValueError(f"unsupported language {lang!r}")


def _ru(number: int, case: Case) -> str:
    return str(num2words(number, lang="ru", case=case))


def _minutes_ru(minute: int, case: Case) -> str:
    # «девять ноль пять»: a listener cannot hear the zero of 05 otherwise. Minutes agree
    # with the unsaid «минута»: «девять двадцать одна», «до девяти двадцати двух».
    words = str(num2words(minute, lang="ru", case=case, gender="f"))
    return f"ноль {words}" if minute < 10 else words


def date_words(day: date, lang: str = "ru") -> str:
    """A date without the year: «одиннадцатого января» (the form «до …» and «откроемся …»
    need), "January eleventh"."""
    _check_lang(lang)
    if lang == "ru":
        ordinal = num2words(day.day, lang="ru", to="ordinal", case="genitive")
        return f"{ordinal} {_MONTHS_RU_GENITIVE[day.month - 1]}"
    ordinal = num2words(day.day, lang="en", to="ordinal")
    return f"{_MONTHS_EN[day.month - 1]} {ordinal}"


def clock_words(moment: time, lang: str = "ru", case: Case = "nominative") -> str:
    """A time of day in words: after «в» (nominative) «девять часов», «девять тридцать»;
    after «с»/«до» (genitive) «девяти», «девяти тридцати»; English "nine thirty a.m."."""
    _check_lang(lang)
    hour, minute = moment.hour, moment.minute
    if lang == "en":
        return _clock_en(hour, minute)
    if minute == 0:
        if hour == 0:
            return "полночь" if case == "nominative" else "полуночи"
        if case == "genitive":
            # «до двадцати одного часа»: «одного» cannot end the phrase alone.
            return f"{_ru(hour, case)} часа" if hour == 21 else _hour_ru(hour, case)
        if hour == 1:
            return "час"
        return f"{_ru(hour, case)} {plural_ru(hour, 'час', 'часа', 'часов')}"
    return f"{_hour_ru(hour, case)} {_minutes_ru(minute, case)}"


def _hour_ru(hour: int, case: Case) -> str:
    # One o'clock is «час» («в час пятнадцать», «с часа пятнадцати»), not «один».
    if hour == 1:
        return "час" if case == "nominative" else "часа"
    if hour == 0:
        return "ноль" if case == "nominative" else "нуля"
    return _ru(hour, case)


def _clock_en(hour: int, minute: int) -> str:
    if minute == 0 and hour == 0:
        return "midnight"
    if minute == 0 and hour == 12:
        return "noon"
    suffix = "a.m." if hour < 12 else "p.m."
    words = str(num2words(hour % 12 or 12, lang="en"))
    if minute:
        minutes = str(num2words(minute, lang="en"))
        words += f" oh {minutes}" if minute < 10 else f" {minutes}"
    return f"{words} {suffix}"

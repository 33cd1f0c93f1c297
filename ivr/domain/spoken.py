"""How the IVR reads numbers aloud: spelled out in words, in groups, with pauses.

Given "123456", one TTS voice says «сто двадцать три тысячи…», another «один два три…»,
a third reads it as a date or a price. Prompts therefore spell numbers out in words, so
the IVR, not the voice, decides how a number sounds. Groups are joined with ", "
because the TTS engines we target pause at a comma; that pause is what lets a caller
hear (and repeat back) the group boundaries.

Grouping rule (`group_sizes`), the way Russians read phone and request numbers:

- 1 to 3 digits: one group;
- otherwise groups of three; when the length leaves 1 over three, the last four digits
  are read 2+2 (a lone last digit is easy to miss), when it leaves 2, they end in a 2:
  4 → 2+2, 5 → 3+2, 6 → 3+3, 7 → 3+2+2, 8 → 3+3+2, 9 → 3+3+3, 10 → 3+3+2+2,
  12 → 3+3+3+3, 13 → 3+3+3+2+2, 14 → 3+3+3+3+2, 15 → 3+3+3+3+3;
- except 11 → 1+3+3+2+2: an 11-digit string is almost always a phone number with its
  country or trunk digit first («восемь, восемьсот, пятьсот пятьдесят пять, …»).

A group is read as one number («сто двадцать три»); its leading zeros are read one by
one as «ноль» («05» → «ноль пять», «007» → «ноль ноль семь», «00» → «ноль ноль»), since
a listener cannot hear a leading zero in «пять».

Pure: no I/O; phone numbers of other countries are split by ``phonenumbers``' numbering
plans (``ivr.domain.phones``), everything else uses the standard library only.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from ivr.domain.phones import international_groups

Gender = Literal["m", "f", "n"]

_GENDERS: Final = ("m", "f", "n")

_UNITS_M: Final = ("", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")
# Only 1 and 2 change with grammatical gender (одна/две, одно/два).
_ONE: Final[dict[str, str]] = {"m": "один", "f": "одна", "n": "одно"}
_TWO: Final[dict[str, str]] = {"m": "два", "f": "две", "n": "два"}
_TEENS: Final = (
    "десять",
    "одиннадцать",
    "двенадцать",
    "тринадцать",
    "четырнадцать",
    "пятнадцать",
    "шестнадцать",
    "семнадцать",
    "восемнадцать",
    "девятнадцать",
)
_TENS: Final = (
    "",
    "",
    "двадцать",
    "тридцать",
    "сорок",
    "пятьдесят",
    "шестьдесят",
    "семьдесят",
    "восемьдесят",
    "девяносто",
)
_HUNDREDS: Final = (
    "",
    "сто",
    "двести",
    "триста",
    "четыреста",
    "пятьсот",
    "шестьсот",
    "семьсот",
    "восемьсот",
    "девятьсот",
)
_DIGITS_RU: Final = ("ноль", *_UNITS_M[1:])
_DIGITS_EN: Final = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

_MAX_NUMBER: Final = 999_999
_MAX_DIGITS: Final = 15
_E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")


def _below_thousand(n: int, gender: str) -> str:
    """Words for 1..999 (never 0: zero is spoken only where a caller must hear it)."""
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words.append(_HUNDREDS[hundreds])
    if 10 <= rest <= 19:
        words.append(_TEENS[rest - 10])
    else:
        tens, unit = divmod(rest, 10)
        if tens:
            words.append(_TENS[tens])
        if unit == 1:
            words.append(_ONE[gender])
        elif unit == 2:
            words.append(_TWO[gender])
        elif unit:
            words.append(_UNITS_M[unit])
    return " ".join(words)


# Every group and every number up to 999_999 is built from these 999 strings per gender;
# tabulating them once keeps reading a number to a couple of lookups (the exhaustive
# round-trip tests read a million of them).
_BELOW_THOUSAND: Final[dict[str, tuple[str, ...]]] = {
    g: ("", *(_below_thousand(n, g) for n in range(1, 1000))) for g in _GENDERS
}


def plural_ru(count: int, one: str, few: str, many: str) -> str:
    """The form of a Russian noun that agrees with ``count``: 1 ``one`` (тысяча, час), 2–4
    ``few`` (тысячи, часа), 5–20 ``many`` (тысяч, часов); 11–14 take ``many``."""
    if 11 <= count % 100 <= 14:
        return many
    last = count % 10
    if last == 1:
        return one
    if 2 <= last <= 4:
        return few
    return many


def _thousands_word(count: int) -> str:
    """The form of «тысяча» that agrees with `count` (1 тысяча, 2 тысячи, 5 тысяч)."""
    return plural_ru(count, "тысяча", "тысячи", "тысяч")


def number_words_ru(n: int, gender: Gender = "m") -> str:
    """Spell 0..999_999 out in Russian words, as a person reads the whole number.

    `gender` agrees the last word with the noun that follows (одна минута, одно
    обращение); thousands are always feminine («двадцать одна тысяча»). 1000..1999
    start with plain «тысяча», not «одна тысяча», as people say them.

    >>> number_words_ru(2005)
    'две тысячи пять'
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an int, got {type(n).__name__}")
    if not 0 <= n <= _MAX_NUMBER:
        raise ValueError(f"number out of range 0..{_MAX_NUMBER}: {n}")
    if gender not in _GENDERS:
        raise ValueError(f"gender must be one of {_GENDERS}, got {gender!r}")
    if n == 0:
        return "ноль"
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands == 1:
        words.append("тысяча")
    elif thousands:
        words.append(_BELOW_THOUSAND["f"][thousands])
        words.append(_thousands_word(thousands))
    if rest:
        words.append(_BELOW_THOUSAND[gender][rest])
    return " ".join(words)


def _group_sizes(length: int) -> tuple[int, ...]:
    if length <= 3:
        return (length,)
    if length == 11:
        # Country or trunk digit, then the 10-digit national number (7 916 123 45 67).
        return (1, *_group_sizes(10))
    threes, remainder = divmod(length, 3)
    if remainder == 0:
        return (3,) * threes
    if remainder == 1:
        # A lone last digit is easy to miss, so the last four are read 2+2.
        return (3,) * (threes - 1) + (2, 2)
    return (3,) * threes + (2,)


_SIZES: Final = tuple(_group_sizes(length) for length in range(_MAX_DIGITS + 1))


def group_sizes(length: int) -> tuple[int, ...]:
    """Sizes of the spoken groups for a digit string of `length` (1..15) digits.

    See the module docstring for the rule; the sizes always sum to `length`.
    """
    if not 1 <= length <= _MAX_DIGITS:
        raise ValueError(f"length out of range 1..{_MAX_DIGITS}: {length}")
    return _SIZES[length]


def _split(digits: str) -> list[str]:
    groups: list[str] = []
    start = 0
    for size in _SIZES[len(digits)]:
        groups.append(digits[start : start + size])
        start += size
    return groups


def _group_ru(group: str) -> str:
    significant = group.lstrip("0")
    words = ["ноль"] * (len(group) - len(significant))
    if significant:
        words.append(_BELOW_THOUSAND["m"][int(significant)])
    return " ".join(words)


def _group_en(group: str) -> str:
    return " ".join(_DIGITS_EN[int(digit)] for digit in group)


# Every possible group ("0".."999", "00".."99", "000".."999") read once at import, so
# reading a number is a split and a few lookups.
_GROUPS: Final[dict[str, dict[str, str]]] = {
    lang: {
        f"{n:0{width}d}": read(f"{n:0{width}d}") for width in (1, 2, 3) for n in range(10**width)
    }
    for lang, read in (("ru", _group_ru), ("en", _group_en))
}


def digits_in_groups(digits: str, lang: str = "ru") -> str:
    """Read a string of 1–15 digits in groups, groups separated by ", " for TTS pauses.

    Russian reads each group as a number, leading zeros as «ноль»
    ("123456" → «сто двадцать три, четыреста пятьдесят шесть»); English reads every
    digit on its own ("one two three, four five six"), as English speakers read phone
    and reference numbers.
    """
    if not (digits.isascii() and digits.isdigit()) or not 1 <= len(digits) <= _MAX_DIGITS:
        raise ValueError(f"expected 1..{_MAX_DIGITS} digits 0-9, got {digits!r}")
    table = _GROUPS.get(lang)
    if table is None:
        raise ValueError(f"unsupported language {lang!r}; expected 'ru' or 'en'")
    return ", ".join([table[group] for group in _split(digits)])


def phone_in_groups(e164: str, lang: str = "ru") -> str:
    """Read a phone number in E.164 form ("+79161234567") aloud, in groups.

    Russian numbers (+7 and ten digits) read as the country code, then 3+3+2+2:
    «плюс семь, девятьсот шестнадцать, сто двадцать три, сорок пять, шестьдесят семь».
    Free 8-800 numbers (+7800…) are read in Russian the way Russians say and dial them,
    with the trunk prefix «восемь» instead of «плюс семь»: «восемь, восемьсот,
    пятьсот пятьдесят пять, тридцать пять, тридцать пять». English keeps "plus seven"
    for them too: the English prompts are for callers abroad, who must dial the
    international form.
    Other countries: «плюс» and the country code on its own, then the national number in
    the groups its country writes it in (``phonenumbers``' numbering plans), a group longer
    than three digits read in `group_sizes` groups: "+49 30 1234567" is «плюс сорок девять,
    тридцать, сто двадцать три, сорок пять, шестьдесят семь» ("plus four nine, three zero,
    one two three, four five, six seven"), never a country code glued to the area code.
    """
    if not _E164.fullmatch(e164):
        raise ValueError(f"not an E.164 phone number: {e164!r}")
    if lang not in ("ru", "en"):
        raise ValueError(f"unsupported language {lang!r}; expected 'ru' or 'en'")
    digits = e164[1:]
    plus = "плюс" if lang == "ru" else "plus"
    if digits.startswith("7"):
        national = digits[1:]
        if len(national) != 10:
            raise ValueError(f"a +7 number has 10 digits after +7: {e164!r}")
        if lang == "ru" and national.startswith("800"):
            return "восемь, " + digits_in_groups(national, lang)
        seven = "семь" if lang == "ru" else "seven"
        return f"{plus} {seven}, " + digits_in_groups(national, lang)
    split = international_groups(e164)
    code, groups = split if split is not None else (digits[:1], (digits[1:],))
    table = _GROUPS[lang]
    words = [f"{plus} {table[code]}"]
    for group in groups:
        if group:
            words += [table[part] for part in _split(group)]
    return ", ".join(words)


# -- e-mail addresses ------------------------------------------------------------------------

# How a Russian reads Latin letters of a Russian word written in Latin («gosuslugi» →
# «госуслуги»): the usual transliteration read backwards, two-letter sounds first.
_LATIN_TO_RU: Final = (
    ("shch", "щ"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("ts", "ц"),
    ("yu", "ю"),
    ("ya", "я"),
    ("yo", "ё"),
    ("a", "а"),
    ("b", "б"),
    ("c", "к"),
    ("d", "д"),
    ("e", "е"),
    ("f", "ф"),
    ("g", "г"),
    ("h", "х"),
    ("i", "и"),
    ("j", "дж"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("q", "к"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("v", "в"),
    ("w", "в"),
    ("x", "кс"),
    ("y", "ы"),
    ("z", "з"),
)
_EMAIL_SIGNS: Final[dict[str, dict[str, str]]] = {
    "ru": {"@": "собака", ".": "точка", "-": "дефис", "_": "нижнее подчёркивание"},
    "en": {"@": "at", ".": "dot", "-": "dash", "_": "underscore"},
}
_EMAIL_TOKEN = re.compile(r"[a-z]+|[0-9]|[@._-]")


def _latin_read_ru(word: str) -> str:
    out, rest = "", word
    while rest:
        for latin, cyrillic in _LATIN_TO_RU:
            if rest.startswith(latin):
                out, rest = out + cyrillic, rest[len(latin) :]
                break
        else:
            out, rest = out + rest[0], rest[1:]
    return out


def email_in_words(address: str, lang: str = "ru") -> str:
    """An e-mail address as a voice should say it: «support@gosuslugi.ru» →
    «суппорт собака госуслуги точка ру» in Russian (the Latin letters read as a Russian
    reads them, the signs by the names Russians give them), "support at gosuslugi dot R U"
    in English (a two-letter part, a country's domain, spelled). Digits one by one."""
    signs = _EMAIL_SIGNS.get(lang, _EMAIL_SIGNS["en"])
    words: list[str] = []
    for token in _EMAIL_TOKEN.findall(address.strip().lower()):
        if token in signs:
            words.append(signs[token])
        elif token.isdigit():
            words.append((_DIGITS_RU if lang == "ru" else _DIGITS_EN)[int(token)])
        elif lang == "ru":
            words.append(_latin_read_ru(token))
        else:
            words.append(" ".join(token.upper()) if len(token) == 2 else token)
    return " ".join(words)

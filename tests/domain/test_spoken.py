"""Tests for ivr.domain.spoken: numbers spelled out in Russian (and English) for TTS."""

from __future__ import annotations

import pytest

from ivr.domain.spoken import (
    Gender,
    digits_in_groups,
    email_in_words,
    group_sizes,
    number_words_ru,
    phone_in_groups,
)


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "ноль"),
        (1, "один"),
        (2, "два"),
        (9, "девять"),
        (10, "десять"),
        (11, "одиннадцать"),
        (14, "четырнадцать"),
        (19, "девятнадцать"),
        (20, "двадцать"),
        (21, "двадцать один"),
        (40, "сорок"),
        (99, "девяносто девять"),
        (100, "сто"),
        (101, "сто один"),
        (110, "сто десять"),
        (115, "сто пятнадцать"),
        (123, "сто двадцать три"),
        (200, "двести"),
        (203, "двести три"),
        (999, "девятьсот девяносто девять"),
        (1000, "тысяча"),
        (1001, "тысяча один"),
        (1200, "тысяча двести"),
        (1999, "тысяча девятьсот девяносто девять"),
        (2000, "две тысячи"),
        (2005, "две тысячи пять"),
        (3000, "три тысячи"),
        (4321, "четыре тысячи триста двадцать один"),
        (5000, "пять тысяч"),
        (10000, "десять тысяч"),
        (11000, "одиннадцать тысяч"),
        (12000, "двенадцать тысяч"),
        (14000, "четырнадцать тысяч"),
        (21000, "двадцать одна тысяча"),
        (22000, "двадцать две тысячи"),
        (25000, "двадцать пять тысяч"),
        (100000, "сто тысяч"),
        (101000, "сто одна тысяча"),
        (111000, "сто одиннадцать тысяч"),
        (112000, "сто двенадцать тысяч"),
        (123456, "сто двадцать три тысячи четыреста пятьдесят шесть"),
        (202002, "двести две тысячи два"),
        (999999, "девятьсот девяносто девять тысяч девятьсот девяносто девять"),
    ],
)
def test_number_words_ru(n: int, words: str) -> None:
    assert number_words_ru(n) == words


@pytest.mark.parametrize(
    ("n", "gender", "words"),
    [
        (1, "f", "одна"),
        (1, "n", "одно"),
        (2, "f", "две"),
        (2, "n", "два"),
        (21, "f", "двадцать одна"),
        (32, "f", "тридцать две"),
        (0, "f", "ноль"),
        (12, "f", "двенадцать"),
        (2001, "f", "две тысячи одна"),
        (2001, "n", "две тысячи одно"),
        # Thousands stay feminine whatever the noun is.
        (21001, "m", "двадцать одна тысяча один"),
        (2002, "m", "две тысячи два"),
    ],
)
def test_number_words_ru_gender(n: int, gender: Gender, words: str) -> None:
    assert number_words_ru(n, gender) == words


@pytest.mark.parametrize("n", [-1, 1_000_000, 10**9])
def test_number_words_ru_out_of_range(n: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        number_words_ru(n)


def test_number_words_ru_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="gender"):
        number_words_ru(5, "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        number_words_ru(True)
    with pytest.raises(TypeError):
        number_words_ru("5")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("length", "sizes"),
    [
        (1, (1,)),
        (2, (2,)),
        (3, (3,)),
        (4, (2, 2)),
        (5, (3, 2)),
        (6, (3, 3)),
        (7, (3, 2, 2)),
        (8, (3, 3, 2)),
        (9, (3, 3, 3)),
        (10, (3, 3, 2, 2)),
        (11, (1, 3, 3, 2, 2)),
        (12, (3, 3, 3, 3)),
        (13, (3, 3, 3, 2, 2)),
        (14, (3, 3, 3, 3, 2)),
        (15, (3, 3, 3, 3, 3)),
    ],
)
def test_group_sizes(length: int, sizes: tuple[int, ...]) -> None:
    assert group_sizes(length) == sizes
    assert sum(sizes) == length


@pytest.mark.parametrize("length", [0, 16, -3])
def test_group_sizes_out_of_range(length: int) -> None:
    with pytest.raises(ValueError):
        group_sizes(length)


@pytest.mark.parametrize(
    ("digits", "spoken"),
    [
        # One group: 1 to 3 digits.
        ("0", "ноль"),
        ("7", "семь"),
        ("42", "сорок два"),
        ("05", "ноль пять"),
        ("00", "ноль ноль"),
        ("123", "сто двадцать три"),
        ("007", "ноль ноль семь"),
        ("070", "ноль семьдесят"),
        ("000", "ноль ноль ноль"),
        ("100", "сто"),
        # 2+2
        ("1234", "двенадцать, тридцать четыре"),
        ("0505", "ноль пять, ноль пять"),
        ("2005", "двадцать, ноль пять"),
        # 3+2
        ("12345", "сто двадцать три, сорок пять"),
        ("10023", "сто, двадцать три"),
        ("00000", "ноль ноль ноль, ноль ноль"),
        # 3+3
        ("123456", "сто двадцать три, четыреста пятьдесят шесть"),
        ("100005", "сто, ноль ноль пять"),
        ("007123", "ноль ноль семь, сто двадцать три"),
        # 3+2+2
        ("1234567", "сто двадцать три, сорок пять, шестьдесят семь"),
        ("5551010", "пятьсот пятьдесят пять, десять, десять"),
        # 3+3+2
        ("12345678", "сто двадцать три, четыреста пятьдесят шесть, семьдесят восемь"),
        ("18780013", "сто восемьдесят семь, восемьсот, тринадцать"),
        # 3+3+3
        ("585582260", "пятьсот восемьдесят пять, пятьсот восемьдесят два, двести шестьдесят"),
        # 3+3+2+2
        (
            "0578401978",
            "ноль пятьдесят семь, восемьсот сорок, девятнадцать, семьдесят восемь",
        ),
        (
            "1234567890",
            "сто двадцать три, четыреста пятьдесят шесть, семьдесят восемь, девяносто",
        ),
        # 1+3+3+2+2
        (
            "79161234567",
            "семь, девятьсот шестнадцать, сто двадцать три, сорок пять, шестьдесят семь",
        ),
        (
            "88005553535",
            "восемь, восемьсот, пятьсот пятьдесят пять, тридцать пять, тридцать пять",
        ),
        # 3+3+3+3, 3+3+3+2+2, 3+3+3+3+2, 3+3+3+3+3
        ("100200300400", "сто, двести, триста, четыреста"),
        ("1002003004050", "сто, двести, триста, сорок, пятьдесят"),
        ("10020030040050", "сто, двести, триста, четыреста, пятьдесят"),
        ("100200300400500", "сто, двести, триста, четыреста, пятьсот"),
    ],
)
def test_digits_in_groups_ru(digits: str, spoken: str) -> None:
    assert digits_in_groups(digits) == spoken
    assert digits_in_groups(digits, lang="ru") == spoken


@pytest.mark.parametrize(
    ("digits", "spoken"),
    [
        ("0", "zero"),
        ("05", "zero five"),
        ("123", "one two three"),
        ("1234", "one two, three four"),
        ("123456", "one two three, four five six"),
        ("1234567", "one two three, four five, six seven"),
        ("0012345678", "zero zero one, two three four, five six, seven eight"),
        ("79161234567", "seven, nine one six, one two three, four five, six seven"),
    ],
)
def test_digits_in_groups_en(digits: str, spoken: str) -> None:
    assert digits_in_groups(digits, lang="en") == spoken


def test_digits_in_groups_every_length_has_the_right_groups() -> None:
    for length in range(1, 16):
        digits = "9" * length
        groups = digits_in_groups(digits, lang="en").split(", ")
        assert tuple(len(group.split()) for group in groups) == group_sizes(length)


@pytest.mark.parametrize("bad", ["", "12a", "1 2", "+7", "1234567890123456", "١٢٣", "²"])
def test_digits_in_groups_rejects_non_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        digits_in_groups(bad)


def test_digits_in_groups_rejects_unknown_language() -> None:
    with pytest.raises(ValueError, match="language"):
        digits_in_groups("123", lang="de")


@pytest.mark.parametrize(
    ("e164", "spoken"),
    [
        (
            "+79161234567",
            "плюс семь, девятьсот шестнадцать, сто двадцать три, сорок пять, шестьдесят семь",
        ),
        (
            "+74957771000",
            "плюс семь, четыреста девяносто пять, семьсот семьдесят семь, десять, ноль ноль",
        ),
        (
            "+78122345678",
            "плюс семь, восемьсот двенадцать, двести тридцать четыре, пятьдесят шесть, "
            "семьдесят восемь",
        ),
        # Free 8-800 numbers: as Russians say and dial them.
        (
            "+78005553535",
            "восемь, восемьсот, пятьсот пятьдесят пять, тридцать пять, тридцать пять",
        ),
        ("+78001000001", "восемь, восемьсот, сто, ноль ноль, ноль один"),
        # Other countries: «плюс» and the country code on its own, then the national number
        # in its country's groups, a long one in threes and twos.
        (
            "+49301234567",
            "плюс сорок девять, тридцать, сто двадцать три, сорок пять, шестьдесят семь",
        ),
        ("+4930123456", "плюс сорок девять, тридцать, сто двадцать три, четыреста пятьдесят шесть"),
        ("+12025550123", "плюс один, двести два, пятьсот пятьдесят пять, ноль один, двадцать три"),
        (
            "+33612345678",
            "плюс тридцать три, шесть, двенадцать, тридцать четыре, пятьдесят шесть, "
            "семьдесят восемь",
        ),
        (
            "+380441234567",
            "плюс триста восемьдесят, сорок четыре, сто двадцать три, сорок пять, шестьдесят семь",
        ),
        # A number of the UK's fictional range: not valid, still in the UK's groups.
        (
            "+447700900123",
            "плюс сорок четыре, семьдесят семь, ноль ноль, девятьсот, сто двадцать три",
        ),
    ],
)
def test_phone_in_groups_ru(e164: str, spoken: str) -> None:
    assert phone_in_groups(e164) == spoken


@pytest.mark.parametrize(
    ("e164", "spoken"),
    [
        ("+79161234567", "plus seven, nine one six, one two three, four five, six seven"),
        # Abroad only the international form can be dialled, so no «eight» here.
        ("+78005553535", "plus seven, eight zero zero, five five five, three five, three five"),
        ("+49301234567", "plus four nine, three zero, one two three, four five, six seven"),
        ("+12025550123", "plus one, two zero two, five five five, zero one, two three"),
    ],
)
def test_phone_in_groups_en(e164: str, spoken: str) -> None:
    assert phone_in_groups(e164, lang="en") == spoken


@pytest.mark.parametrize(
    "bad",
    ["79161234567", "+7916123456", "+791612345678", "+7 916 123 45 67", "+0123456789", "", "+7"],
)
def test_phone_in_groups_rejects_non_e164(bad: str) -> None:
    with pytest.raises(ValueError):
        phone_in_groups(bad)


def test_phone_in_groups_rejects_unknown_language() -> None:
    with pytest.raises(ValueError, match="language"):
        phone_in_groups("+79161234567", lang="de")


@pytest.mark.parametrize(
    ("address", "lang", "words"),
    [
        ("support@gosuslugi.ru", "ru", "суппорт собака госуслуги точка ру"),
        ("support@gosuslugi.ru", "en", "support at gosuslugi dot R U"),
        (
            "Podderzhka-24@gosuslugi.ru",
            "ru",
            "поддержка дефис два четыре собака госуслуги точка ру",
        ),
        (
            "help_desk@zhkkh.example.com",
            "ru",
            "хелп нижнее подчёркивание деск собака жкх точка ексампле точка ком",
        ),
        ("info0@mail.de", "en", "info zero at mail dot D E"),
    ],
)
def test_an_email_address_is_said_in_words(address: str, lang: str, words: str) -> None:
    assert email_in_words(address, lang) == words

"""Tests for ivr.speech.numbers: recognised Russian number words back to digits.

The exhaustive round trips read every number 0..999_999 three ways with
ivr.domain.spoken and parse it back: three million parses, about 20-25 s in all on a
busy two-core machine.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.domain.spoken import digits_in_groups, group_sizes, number_words_ru
from ivr.speech.numbers import FILLER_WORDS, GRAMMAR_WORDS, NumberReading, parse_number

MANIFEST = Path(__file__).resolve().parents[2].parent / "shared" / "asr-dev" / "manifest.jsonl"

DIGIT_WORDS = {str(d): number_words_ru(d) for d in range(10)}


def one_by_one(digits: str) -> str:
    """A digit string read digit by digit («один два три»)."""
    return " ".join(map(DIGIT_WORDS.__getitem__, digits))


def without_pauses(text: str) -> str:
    """What a recogniser makes of a grouped reading: the same words, no punctuation."""
    return text.replace(",", "")


def split_groups(digits: str) -> list[str]:
    groups: list[str] = []
    start = 0
    for size in group_sizes(len(digits)):
        groups.append(digits[start : start + size])
        start += size
    return groups


def _absorbs(group: str, following: str) -> bool:
    # A round hundred (X00) then a two-digit group not starting with 0.
    return (
        len(group) == 3
        and group[0] != "0"
        and group[1:] == "00"
        and len(following) == 2
        and following[0] != "0"
    )


def heard_without_pauses(digits: str) -> str:
    """What the grouped reading of `digits` parses to once the pauses are lost.

    The one known merge: «сто, двадцать три» without the pause is «сто двадцать три»,
    123, so a round hundred group absorbs a following two-digit group (X00 + YZ → XYZ).
    """
    groups = split_groups(digits)
    heard: list[str] = []
    i = 0
    while i < len(groups):
        if i + 1 < len(groups) and _absorbs(groups[i], groups[i + 1]):
            heard.append(groups[i][0] + groups[i + 1])
            i += 2
        else:
            heard.append(groups[i])
            i += 1
    return "".join(heard)


# --- (a) exhaustive round trips ------------------------------------------------------------


def _round_trip(reading: Callable[[str], str]) -> None:
    """Every number 0..999_999 read with `reading` parses back to itself.

    Chunked and map()-based: three million parses must stay well under half a minute,
    and a per-number Python loop here cost as much as the parsing itself.
    """
    for first in range(0, 1_000_000, 100_000):
        expected = [str(n) for n in range(first, first + 100_000)]
        texts = list(map(reading, expected))
        got = [result.digits for result in map(parse_number, texts)]
        if got != expected:
            wrong = [
                f"{want}: {text!r} -> {have!r}"
                for want, text, have in zip(expected, texts, got, strict=True)
                if have != want
            ]
            pytest.fail(f"{len(wrong)} numbers do not parse back, e.g. {wrong[:10]}")


def test_every_number_read_whole_parses_back() -> None:
    _round_trip(lambda digits: number_words_ru(int(digits)))


def test_every_number_read_digit_by_digit_parses_back() -> None:
    _round_trip(one_by_one)


def test_every_number_read_in_groups_parses_back() -> None:
    _round_trip(digits_in_groups)


def test_every_short_digit_string_with_leading_zeros_parses_back() -> None:
    for width in range(1, 6):
        for n in range(10**width):
            digits = f"{n:0{width}d}"
            assert parse_number(digits_in_groups(digits)).digits == digits
            assert parse_number(one_by_one(digits)).digits == digits


def test_grouped_reading_without_pauses_only_merges_a_hundred_with_a_pair() -> None:
    # Every 4- and 5-digit number (below a million only 3+2 readings can merge), then a
    # sample of request numbers and longer strings.
    rng = random.Random(20240601)
    sample = [str(n) for n in range(1000, 100_000)]
    for length in range(6, 16):
        sample += ["".join(rng.choices("0123456789", k=length)) for _ in range(1000)]
        # Force the merging shape often enough to meet it at every length.
        sample += [
            digits[:3] + rng.choice("123456789") + "00" + digits[6:]
            for digits in ("".join(rng.choices("0123456789", k=length)) for _ in range(200))
        ]
    merged = 0
    for digits in sample:
        expected = heard_without_pauses(digits)
        merged += expected != digits
        reading = parse_number(without_pauses(digits_in_groups(digits)))
        assert (reading.digits, reading.ambiguous) == (expected, False), digits
    assert merged > 1000


def test_long_strings_round_trip_every_way() -> None:
    rng = random.Random(7)
    for length in range(1, 16):
        for _ in range(500):
            digits = "".join(rng.choices("0123456789", k=length))
            assert parse_number(digits_in_groups(digits)).digits == digits
            assert parse_number(one_by_one(digits)).digits == digits


# --- reading rule: concrete cases ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("один два три четыре пять шесть", "123456"),
        ("сто двадцать три четыреста пятьдесят шесть", "123456"),
        ("двадцать ноль пять", "2005"),
        ("сто двадцать три тысячи четыреста пятьдесят шесть", "123456"),
        ("тысяча двести", "1200"),
        ("две тысячи пять", "2005"),
        ("пять тысяч", "5000"),
        ("двадцать двадцать", "2020"),
        ("три двадцать", "320"),
        ("сто пять", "105"),
        ("двести три", "203"),
        ("сто двадцать три двести три", "123203"),
        ("сто сто", "100100"),
        ("двадцать двенадцать", "2012"),
        ("двенадцать три", "123"),
        ("сорок пять шесть семь", "4567"),
        ("сто двадцать три четыре пять шесть", "123456"),
        ("один два три сорок пять шестьдесят семь", "1234567"),
        ("пять тысяч двадцать", "5020"),
        ("пять тысяч двадцать три сорок", "502340"),
        ("двадцать одна тысяча", "21000"),
        ("двадцать один тысяча", "21000"),  # the recogniser's gender slip is forgiven
        ("сто одна тысяча двести", "101200"),
        ("одна тысяча", "1000"),
        ("тысяча", "1000"),
        ("тысяча тысяча", "10001000"),
        ("две тысячи тысяча", "20001000"),
        ("пять тысячи", "5000"),  # case ending not checked: recognisers get it wrong
        ("две тысяч триста", "2300"),
        ("сто двадцать три тысячи четыреста пятьдесят шесть семьсот", "123456700"),
        ("один два три тысячи", "123000"),
        ("девятьсот девяносто девять тысяч девятьсот девяносто девять", "999999"),
        ("нуль", "0"),
        ("две", "2"),
        ("одно", "1"),
        ("сто восемьдесят семь восемьсот тринадцать", "187813"),
    ],
)
def test_natural_reading(text: str, digits: str) -> None:
    reading = parse_number(text)
    assert reading == NumberReading(digits, False, (), "ok")


# --- (b) leading zeros -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("ноль", "0"),
        ("ноль ноль", "00"),
        ("ноль ноль семь один два три", "007123"),
        ("ноль пять", "05"),
        ("ноль двадцать три девяносто девять восемьсот шестьдесят два", "02399862"),
        ("ноль ноль семь, сто двадцать три", "007123"),
        ("ноль пять тысяч", "05000"),
        ("ноль тысяча двести", "01200"),
        ("ноль сто", "0100"),
        ("сто ноль пять", "10005"),
        ("двадцать ноль", "200"),
        ("нуль нуль один", "001"),
    ],
)
def test_leading_and_inner_zeros(text: str, digits: str) -> None:
    assert parse_number(text).digits == digits


# --- (c) ambiguity ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "alternatives"),
    [
        # A bare «тысяча» after a group it does not agree with: a new group (natural,
        # first) or the multiplier with its ending lost, both 6-10 digits long.
        ("сто двадцать три тысяча двести", ("1231200", "123200")),
        ("сто двадцать три тысяча", ("1231000", "123000")),
        ("пятьсот тысяча", ("5001000", "500000")),
        ("сто двадцать три четыреста пятьдесят шесть тысяча", ("1234561000", "123456000")),
        (
            "девятьсот девяносто девять девятьсот девяносто девять тысяча",
            ("9999991000", "999999000"),
        ),
        ("сто двенадцать тысяча триста сорок пять", ("1121345", "112345")),
        ("семьсот сорок два тысяча", ("7421000", "742000")),
        # «два» is the remainder of the first number; the second «тысяча» is certain.
        ("пять тысяча два тысяча", ("510021000", "50021000")),
        # Two uncertain «тысяча»: every combination, natural first.
        ("пять тысяча, два тысяча", ("5100021000", "510002000", "500021000", "50002000")),
    ],
)
def test_ambiguous_readings(text: str, alternatives: tuple[str, ...]) -> None:
    reading = parse_number(text)
    assert reading.digits is None
    assert reading.ambiguous
    assert reading.alternatives == alternatives
    assert reading.reason.startswith("ambiguous: ")


def test_ambiguous_reason_names_the_words_and_both_readings() -> None:
    reading = parse_number("[unk] сто двадцать три тысяча двести")
    assert reading.reason == (
        "ambiguous: 'сто двадцать три тысяча двести' may be 1231200 or 123200 (ignored: [unk])"
    )


@pytest.mark.parametrize(
    ("text", "digits", "alternatives"),
    [
        # Only one candidate has 6-10 digits: it is chosen, natural or not.
        ("двадцать пять тысяча", "251000", ("251000", "25000")),
        ("двадцать тысяча двадцать", "201020", ("201020", "20020")),
        (
            "сто двадцать три четыреста пятьдесят шесть семь тысяча",
            "1234567000",
            ("12345671000", "1234567000"),
        ),
        # No candidate fits: the natural reading.
        ("пять тысяча двести", "51200", ("51200", "5200")),
    ],
)
def test_uncertain_thousand_resolved_by_length(
    text: str, digits: str, alternatives: tuple[str, ...]
) -> None:
    reading = parse_number(text)
    assert reading.digits == digits
    assert not reading.ambiguous
    assert reading.alternatives == alternatives
    assert reading.reason.startswith("ok: ")


def test_uncertain_thousand_reasons() -> None:
    assert parse_number("двадцать пять тысяча").reason == (
        "ok: 'двадцать пять тысяча' may be 251000 or 25000;"
        " chose 251000, the only reading with 6-10 digits"
    )
    assert parse_number("пять тысяча двести").reason == (
        "ok: 'пять тысяча двести' may be 51200 or 5200;"
        " chose 51200, the natural reading, none has 6-10 digits"
    )


def test_length_range_comes_from_the_caller() -> None:
    text = "сто двадцать три тысяча двести"
    assert parse_number(text, min_digits=7, max_digits=7).digits == "1231200"
    assert parse_number(text, min_digits=6, max_digits=6).digits == "123200"
    assert parse_number(text, min_digits=1, max_digits=10).ambiguous
    with pytest.raises(ValueError):
        parse_number(text, min_digits=0, max_digits=5)
    with pytest.raises(ValueError):
        parse_number(text, min_digits=8, max_digits=6)


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        # Decided NOT ambiguous (see the module docstring): the reading rule decides.
        ("сто два", "102"),
        ("сто два три четыре пять шесть", "1023456"),
        ("двести три четыреста пятьдесят шесть", "203456"),
        ("сто восемьдесят семь восемьсот тринадцать", "187813"),
        ("сто двадцать три сорок пять шестьдесят семь", "1234567"),
        ("пять тысяч двадцать три", "5023"),
        ("двадцать пять тысяч", "25000"),
        # «тысяча» after a pause, at the start, after ноль or after a «one» is certain.
        ("сто двадцать три, тысяча двести", "1231200"),
        ("тысяча двести тридцать четыре пятьсот", "1234500"),
        ("ноль тысяча", "01000"),
        ("сто двадцать одна тысяча двести", "121200"),
        ("две тысячи пятьсот тысяча", "25001000"),
    ],
)
def test_readings_decided_unambiguous(text: str, digits: str) -> None:
    reading = parse_number(text)
    assert reading.digits == digits
    assert not reading.ambiguous
    assert reading.alternatives == ()


def test_too_many_uncertain_thousands_is_ambiguous_without_enumerating() -> None:
    reading = parse_number(", ".join(["пять тысяча"] * 9))
    assert reading.digits is None
    assert reading.ambiguous
    assert reading.alternatives == ()
    assert "too many readings" in reading.reason


# --- (d) the development set -----------------------------------------------------------


def _manifest() -> list[dict[str, str]]:
    if not MANIFEST.is_file():
        pytest.skip(f"ASR development set not found at {MANIFEST}")
    with MANIFEST.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def test_manifest_texts_parse_exactly() -> None:
    rows = _manifest()
    assert len(rows) == 80
    wrong = [
        (row["text"], row["digits"], parse_number(row["text"]))
        for row in rows
        if parse_number(row["text"]) != NumberReading(row["digits"], False, (), "ok")
    ]
    assert wrong == []


def test_manifest_digits_round_trip_through_our_readings() -> None:
    for row in _manifest():
        digits = row["digits"]
        assert parse_number(digits_in_groups(digits)).digits == digits
        assert parse_number(one_by_one(digits)).digits == digits


# --- (e) unknown words, empty input, fillers, punctuation ------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (",", "no number words"),
        ("[unk]", "no number words"),
        ("[unk] ну э", "no number words"),
        ("привет", "unknown word 'привет'"),
        ("сто двадцать привет три", "unknown word 'привет'"),
        ("один два три да", "unknown word 'да'"),
        ("123", "unknown word '123'"),
        ("сто двадцать три [unk] hello", "unknown word 'hello'"),
        ("тысяч", "'тысяч' has no number before it"),
        ("тысячи пять", "'тысячи' has no number before it"),
        ("ноль тысяч", "'тысяч' has no number before it"),
        ("пять, тысяч", "'тысяч' has no number before it"),
        ("две тысячи тысяч", "'тысяч' follows a number that already has thousands"),
        ("две тысячи пять тысяч", "'тысяч' follows a number that already has thousands"),
    ],
)
def test_no_number(text: str, reason: str) -> None:
    assert parse_number(text) == NumberReading(None, False, (), reason)


@pytest.mark.parametrize(
    ("text", "digits", "reason"),
    [
        ("[unk] сто двадцать три", "123", "ok (ignored: [unk])"),
        ("сто [unk] двадцать три [unk]", "123", "ok (ignored: [unk], [unk])"),
        ("<unk> пять", "5", "ok (ignored: <unk>)"),
        (
            "ну э номер обращения это один два три четыре пять шесть",
            "123456",
            "ok (ignored: ну, э, номер, обращения, это)",
        ),
        ("так вот заявки ээ двадцать мм три", "23", "ok (ignored: так, вот, заявки, ээ, мм)"),
    ],
)
def test_fillers_are_skipped(text: str, digits: str, reason: str) -> None:
    assert parse_number(text) == NumberReading(digits, False, (), reason)


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("Сто Двадцать Три", "123"),
        ("СТО ДВАДЦАТЬ ТРИ", "123"),
        ("ПЯТЬ ТЫСЯЧ", "5000"),
        ("[UNK] Ну Пять", "5"),
        ("сто, двадцать три", "10023"),
        ("сто,двадцать три", "10023"),
        ("сто. двадцать три!", "10023"),
        ("сто; двадцать - три", "100203"),
        ("двести—три", "2003"),
        ("сто двадцать три.", "123"),
        ("  сто\tдвадцать\nтри  ", "123"),
        ("пять тысяч, двадцать", "500020"),
    ],
)
def test_case_whitespace_and_punctuation(text: str, digits: str) -> None:
    assert parse_number(text).digits == digits


# --- the grammar -----------------------------------------------------------------------


def test_grammar_words_are_unique_lower_case_number_words() -> None:
    assert len(GRAMMAR_WORDS) == len(set(GRAMMAR_WORDS))
    assert all(word == word.casefold() and word.isalpha() for word in GRAMMAR_WORDS)
    assert not set(GRAMMAR_WORDS) & FILLER_WORDS
    assert {"ноль", "нуль", "один", "одна", "две", "девятнадцать", "девяносто"} <= set(
        GRAMMAR_WORDS
    )
    assert {"сто", "девятьсот", "тысяча", "тысячи", "тысяч"} <= set(GRAMMAR_WORDS)


def test_grammar_covers_every_word_the_ivr_and_the_dev_set_say() -> None:
    said = {word for n in range(0, 1_000_000, 7) for word in number_words_ru(n).split()}
    said |= {word for n in range(1000) for word in number_words_ru(n, "f").split()}
    said |= {word for n in range(1000) for word in number_words_ru(n, "n").split()}
    if MANIFEST.is_file():
        said |= {word for row in _manifest() for word in row["text"].split()}
    assert said <= set(GRAMMAR_WORDS)


@pytest.mark.parametrize("word", GRAMMAR_WORDS)
def test_every_grammar_word_is_understood(word: str) -> None:
    reading = parse_number(word)
    if word in ("тысячи", "тысяч"):
        assert reading.digits is None
    else:
        assert reading.digits is not None
        assert reading.reason == "ok"


def test_number_reading_is_frozen() -> None:
    reading = parse_number("пять")
    with pytest.raises(AttributeError):
        reading.digits = "6"  # type: ignore[misc]

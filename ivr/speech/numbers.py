"""Russian number words, as a speech recogniser writes them, turned into a digit string.

Callers give request numbers digit by digit («один два три…»), in groups («сто двадцать
три, четыреста пятьдесят шесть»), with thousands («сто двадцать три тысячи…») or in a
mix. The recogniser (Vosk with `GRAMMAR_WORDS` as its grammar) returns lower-case words
separated by spaces, with no punctuation and so no trace of the caller's pauses.

Reading rule (the natural reading)
    Words are taken left to right. A number word combines with the word after it when
    that word is of a smaller order and fills an empty place: a hundred takes tens, a
    teen or a unit; tens take a unit (сто + двадцать + три = 123, двадцать + три = 23).
    A word that cannot combine closes the group and starts a new one, and the groups'
    digits are concatenated: «двадцать двадцать» = 2020, «три двадцать» = 320,
    «двадцать ноль пять» = 2005. «ноль»/«нуль» is always a group of its own, a single
    0, so leading zeros survive («ноль ноль семь один два три» = 007123).
    «тысячи»/«тысяч» multiply the group before them and the following smaller words
    fill the hundreds («две тысячи пять» = 2005); the case ending is not checked,
    because recognisers often get it wrong. «тысяча» is a multiplier after «один/одна/
    одно» («двадцать одна тысяча» = 21000, the gender is not checked either); with no
    group before it, or after a number that already has thousands, it starts a number
    of its own («тысяча двести» = 1200).
    Punctuation (",", ";", ".", "-", …) is a pause and closes the group, so our own
    prompt texts (`ivr.domain.spoken.digits_in_groups`) read back exactly: «сто,
    двадцать три» = 10023 while «сто двадцать три» = 123. Case does not matter.

Ambiguity (when the IVR must ask again rather than guess)
    Only one place is genuinely ambiguous: a bare «тысяча» right after a group it does
    not agree with («сто двадцать три тысяча двести»). It is either a new group
    (123 | 1200 → 1231200, the grammatical reading) or the multiplier with its ending
    lost by the recogniser (123 тысячи 200 → 123200). The reading is ambiguous when at
    least two of the candidate digit strings fit a request number (6–10 digits by
    default, `min_digits`/`max_digits` take the flow's values): then `digits` is None
    and `alternatives` lists every candidate, natural reading first (several such
    «тысяча» give every combination). When exactly one candidate fits it is chosen (the
    IVR asked for a request number; the other cannot be one); when none fits, the
    natural reading is returned. Either way `alternatives` shows the candidates.

    Considered and deliberately NOT ambiguous, read by the rule above:
    - «сто пять», «двести три»: always 105, 203, also inside a longer run. Reading
      200 | 3 needs a one-digit group after a three-digit one, i.e. a caller switching
      from groups to single digits inside the number; nobody groups like that, and the
      IVR reads the number back for confirmation anyway.
    - «сто восемьдесят семь восемьсот тринадцать»: 187813, not 100 | 87 | 813 or
      187 | 800 | 13. Without pauses a round hundred followed by a two-digit group
      («сто, восемьдесят семь») sounds the same, but a three-digit group read in full is
      by far the commoner intent (all 40 numbers of the dev set read this way), and
      flagging every hundred followed by tens or units would make most grouped readings
      "ambiguous", so the caller would be asked again for nothing. The price: when the
      IVR's own grouped reading has a round hundred before a two-digit group
      (18780013 → «сто восемьдесят семь, восемьсот, тринадцать») and the caller repeats
      it without pauses, it parses as 187813; the read-back confirmation catches it.
    - «пять тысяч двадцать»: 5020, not 5000 | 20.

Words ignored anywhere: `FILLER_WORDS` (the recogniser's "[unk]", hesitations such as
«э», «ну», «вот», «так», and «это», «номер», «обращения», «заявки» from «номер обращения
это…»). Any other word makes the result None with "unknown word '…'".

Pure: standard library only, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import product
from typing import Final

# Word kinds. A kind's bit in _TAKES_MASKS[last] says whether a word of that kind
# combines with the open group whose last word was of kind `last`.
_ZERO: Final = 0
_UNIT: Final = 1
_TEEN: Final = 2
_TENS: Final = 3
_HUNDRED: Final = 4
_THOUSAND: Final = 5
_NONE: Final = 6  # no open group

_TAKES_MASKS: Final[tuple[int, ...]] = (
    0,  # after ноль: nothing (ноль is closed at once; kept for indexing)
    0,  # after a unit: nothing
    0,  # after a teen: nothing
    1 << _UNIT,  # двадцать + три
    1 << _UNIT | 1 << _TEEN | 1 << _TENS,  # сто + три / тринадцать / тридцать
    1 << _UNIT | 1 << _TEEN | 1 << _TENS | 1 << _HUNDRED,  # тысячи + триста
    0,  # no open group
)
# _TAKES[last][kind]: the masks unpacked, one subscript cheaper in the hot loop.
_TAKES: Final[tuple[tuple[bool, ...], ...]] = tuple(
    tuple(bool(mask >> kind & 1) for kind in range(_NONE + 1)) for mask in _TAKES_MASKS
)


# word -> (kind, value). For thousand words the value is 1 for the bare «тысяча»
# (which can also start a number) and 0 for «тысячи»/«тысяч» (which cannot).
_WORDS: Final[dict[str, tuple[int, int]]] = {
    "ноль": (_ZERO, 0),
    "нуль": (_ZERO, 0),
    "один": (_UNIT, 1),
    "одна": (_UNIT, 1),
    "одно": (_UNIT, 1),
    "два": (_UNIT, 2),
    "две": (_UNIT, 2),
    "три": (_UNIT, 3),
    "четыре": (_UNIT, 4),
    "пять": (_UNIT, 5),
    "шесть": (_UNIT, 6),
    "семь": (_UNIT, 7),
    "восемь": (_UNIT, 8),
    "девять": (_UNIT, 9),
    "десять": (_TEEN, 10),
    "одиннадцать": (_TEEN, 11),
    "двенадцать": (_TEEN, 12),
    "тринадцать": (_TEEN, 13),
    "четырнадцать": (_TEEN, 14),
    "пятнадцать": (_TEEN, 15),
    "шестнадцать": (_TEEN, 16),
    "семнадцать": (_TEEN, 17),
    "восемнадцать": (_TEEN, 18),
    "девятнадцать": (_TEEN, 19),
    "двадцать": (_TENS, 20),
    "тридцать": (_TENS, 30),
    "сорок": (_TENS, 40),
    "пятьдесят": (_TENS, 50),
    "шестьдесят": (_TENS, 60),
    "семьдесят": (_TENS, 70),
    "восемьдесят": (_TENS, 80),
    "девяносто": (_TENS, 90),
    "сто": (_HUNDRED, 100),
    "двести": (_HUNDRED, 200),
    "триста": (_HUNDRED, 300),
    "четыреста": (_HUNDRED, 400),
    "пятьсот": (_HUNDRED, 500),
    "шестьсот": (_HUNDRED, 600),
    "семьсот": (_HUNDRED, 700),
    "восемьсот": (_HUNDRED, 800),
    "девятьсот": (_HUNDRED, 900),
    "тысяча": (_THOUSAND, 1),
    "тысячи": (_THOUSAND, 0),
    "тысяч": (_THOUSAND, 0),
}

GRAMMAR_WORDS: Final[tuple[str, ...]] = tuple(_WORDS)
"""Every number word `parse_number` understands, for a Vosk grammar (add "[unk]")."""

FILLER_WORDS: Final[frozenset[str]] = frozenset(
    {
        "[unk]",
        "<unk>",
        "э",
        "ээ",
        "эээ",
        "эм",
        "мм",
        "ну",
        "вот",
        "так",
        "это",
        "номер",
        "обращения",
        "заявки",
    }
)
"""Words `parse_number` skips: the recogniser's unknown token and common hesitations."""

_BOUNDARY: Final = ","
_AS_TEXT: Final = tuple(map(str, range(1000)))  # str() of a group, without the call
# A regex, not str.translate: translate walks Cyrillic text in Python-level lookups and
# was most of the parse time.
_PUNCTUATION: Final = re.compile(r"[,;.:!?…—–-]")
# 2**8 candidate readings is far beyond any real utterance; the cap keeps a garbage
# transcript from costing exponential time.
_MAX_FORKS: Final = 8


@dataclass(frozen=True, slots=True)
class NumberReading:
    """What `parse_number` made of a transcript.

    `digits` is the digit string, or None when the words are not a number or the
    reading is ambiguous. `alternatives` lists every candidate reading (natural first)
    when more than one exists, else it is empty. `reason` is plain English for logs
    and the CLI: "ok", "empty", "unknown word '…'", "ambiguous: …".
    """

    digits: str | None
    ambiguous: bool = False
    alternatives: tuple[str, ...] = ()
    reason: str = "ok"


@dataclass(frozen=True, slots=True)
class _Fork:
    """A group with a second reading: `alternative` is parts[index] read the other way."""

    index: int
    alternative: str
    words: str


def _fail(reason: str) -> NumberReading:
    return NumberReading(None, False, (), reason)


def parse_number(text: str, *, min_digits: int = 6, max_digits: int = 10) -> NumberReading:
    """Turn recognised Russian number words into a digit string.

    `min_digits`..`max_digits` is the length a request number may have; it only decides
    whether a reading with two candidates is ambiguous (see the module docstring).

    >>> parse_number("сто двадцать три четыреста пятьдесят шесть").digits
    '123456'
    """
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"bad digit range {min_digits}..{max_digits}")
    # Commas (our own prompt texts) are split off cheaply here; any other punctuation is
    # rare and handled by the slow path in the loop, as is upper case.
    tokens = text.replace(",", " , ").split()
    if not tokens:
        return _fail("empty")

    parts: list[str] = []  # closed groups' digits, natural reading
    forks: list[_Fork] = []
    ignored: list[str] = []
    last = _NONE  # kind of the last word in the open group
    high = -1  # thousands multiplier of the open group, -1 if none
    low = 0  # the open group below the thousands
    start = 0  # index in `tokens` where the open group began
    forked = False  # the open group's «тысяча» may be a new group (see docstring)
    # Local names: the exhaustive tests parse three million readings.
    lookup = _WORDS.get
    takes = _TAKES
    as_text = _AS_TEXT
    NONE, ZERO, UNIT, THOUSAND = _NONE, _ZERO, _UNIT, _THOUSAND

    for index, token in enumerate(tokens):
        entry = lookup(token)
        if entry is None:
            # Recognisers write lower case; folding only on a miss keeps the hot path short.
            token = token.casefold()
            entry = lookup(token)
        if entry is None:
            if token == _BOUNDARY:
                if high >= 0:
                    if forked:
                        _fork(parts, forks, tokens[start:index], high, low)
                    else:
                        parts.append(str(high * 1000 + low))
                    high, forked = -1, False
                elif last != NONE:
                    parts.append(as_text[low])
                last = NONE
            elif token in FILLER_WORDS:
                ignored.append(token)
            elif _PUNCTUATION.search(token):
                # Punctuation glued to a word («три.»): re-read with it as a pause.
                spaced = _PUNCTUATION.sub(" , ", text)
                return parse_number(spaced, min_digits=min_digits, max_digits=max_digits)
            else:
                return _fail(f"unknown word {token!r}")
            continue
        kind, value = entry
        if takes[last][kind]:
            low += value
            last = kind
            continue
        if kind != THOUSAND:
            # The word starts a new group: close the open one. (Closing is inlined here
            # and below because it runs for nearly every word of a digit-by-digit run.)
            if high >= 0:
                if forked:
                    _fork(parts, forks, tokens[start:index], high, low)
                else:
                    parts.append(str(high * 1000 + low))
                high, forked = -1, False
            elif last != NONE:
                parts.append(as_text[low])
            if kind != ZERO:
                start, low, last = index, value, kind
            else:
                # ноль neither combines nor takes anything: it is one spoken digit.
                parts.append("0")
                last = NONE
            continue
        if last != NONE and high < 0:
            # A multiplier for the open group; a bare «тысяча» only agrees with a «one».
            forked = value == 1 and not (last == UNIT and low % 10 == 1)
            high, low, last = low, 0, THOUSAND
            continue
        if value == 0:
            if last == NONE:
                return _fail(f"{token!r} has no number before it")
            return _fail(f"{token!r} follows a number that already has thousands")
        # «тысяча» with nothing to multiply (no open group, or the open one already has
        # thousands): a number of its own.
        if forked:
            _fork(parts, forks, tokens[start:index], high, low)
        elif high >= 0:
            parts.append(str(high * 1000 + low))
        start, high, low, last, forked = index, 1, 0, THOUSAND, False
    if high >= 0:
        if forked:
            _fork(parts, forks, tokens[start:], high, low)
        else:
            parts.append(str(high * 1000 + low))
    elif last != NONE:
        parts.append(as_text[low])

    if not parts:
        return _fail("no number words")
    note = f" (ignored: {', '.join(ignored)})" if ignored else ""
    natural = "".join(parts)
    if not forks:
        return NumberReading(natural, False, (), "ok" + note)
    return _choose(parts, forks, natural, note, min_digits, max_digits)


def _fork(parts: list[str], forks: list[_Fork], tokens: list[str], high: int, low: int) -> None:
    """Close a group whose «тысяча» may be a new group or the multiplier (see docstring).

    `tokens` are the group's tokens, quoted (without fillers) in the reason.
    """
    # Natural: the multiplicand is a group of its own and «тысяча …» a second number.
    parts.append(str(high) + str(1000 + low))
    words = " ".join(word for word in map(str.casefold, tokens) if word in _WORDS)
    forks.append(_Fork(len(parts) - 1, str(high * 1000 + low), words))


def _choose(
    parts: list[str],
    forks: list[_Fork],
    natural: str,
    note: str,
    min_digits: int,
    max_digits: int,
) -> NumberReading:
    """Pick a reading among the fork combinations, or report the ambiguity."""
    if len(forks) > _MAX_FORKS:
        reason = f"ambiguous: too many readings, {len(forks)} uncertain 'тысяча' words"
        return NumberReading(None, True, (), reason)
    candidates: list[str] = []
    for choice in product((False, True), repeat=len(forks)):
        reading = parts.copy()
        for fork, use_alternative in zip(forks, choice, strict=True):
            if use_alternative:
                reading[fork.index] = fork.alternative
        digits = "".join(reading)
        if digits not in candidates:
            candidates.append(digits)
    fitting = [c for c in candidates if min_digits <= len(c) <= max_digits]
    explained = "; ".join(
        f"{fork.words!r} may be {parts[fork.index]} or {fork.alternative}" for fork in forks
    )
    if len(fitting) >= 2:
        return NumberReading(None, True, tuple(candidates), f"ambiguous: {explained}{note}")
    span = f"{min_digits}-{max_digits} digits"
    if fitting:
        chosen, why = fitting[0], f"the only reading with {span}"
    else:
        chosen, why = natural, f"the natural reading, none has {span}"
    reason = f"ok: {explained}; chose {chosen}, {why}{note}"
    return NumberReading(chosen, False, tuple(candidates), reason)

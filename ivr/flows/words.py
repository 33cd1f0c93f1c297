"""Spoken keywords matched on whole words in their dictionary form (lemmas).

Admins write menu keywords as plain words and phrases («не приходит смс», «забыл пароль»);
a caller says them in any form and order («смс не приходят», «пароль забыла»). Both sides are
turned into lemmas — every dictionary form a word may be («кода» is «код» or «кода») — and a
keyword phrase is heard when every one of its words is found, in any order, close together.

The dictionary itself is not here: a ``Lemmatizer`` is handed in (``ivr.speech.lemmas`` has
the one the server uses; ``ExactWords`` compares words as written). A ``Vocabulary`` is made
once per loaded flow, with every keyword already in lemmas; at call time only what the
caller said is looked up.

Pure: no I/O; the lemmatiser given may read its dictionary once, when it is made.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

# A word as all the dictionary forms it may be; a phrase, word by word.
Lemmas = frozenset[str]
Phrase = tuple[Lemmas, ...]

# How many words a phrase's words may be spread over beyond its own length: «не приходит
# мне код» still says «не приходит код».
SLACK = 1


class Lemmatizer(Protocol):
    """Turns one normalised word (lower case, no punctuation, ``ё`` as ``е``) into the
    dictionary forms it may be."""

    def lemmas(self, word: str) -> frozenset[str]:
        """Every lemma of ``word``, most likely first in no particular order; never empty."""
        ...


class ExactWords:
    """No dictionary: a word is only itself (tests, and flows read without a server)."""

    def lemmas(self, word: str) -> frozenset[str]:
        """``{word}``."""
        return frozenset((word,))


def normalise_speech(text: str) -> str:
    """Lower-case, ``ё`` → ``е``, punctuation dropped: how spoken words are compared."""
    cleaned = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text.lower())
    return " ".join(cleaned.replace("ё", "е").split())


def phrase_of(text: str, lemmatizer: Lemmatizer) -> Phrase:
    """``text`` (a keyword, or what a caller said) as lemmas, word by word."""
    return tuple(_lemmas(lemmatizer, word) for word in normalise_speech(text).split())


def _lemmas(lemmatizer: Lemmatizer, word: str) -> Lemmas:
    # Dictionaries give lemmas with ё («четвёртый»); speech is compared without it.
    return frozenset(lemma.replace("ё", "е") for lemma in lemmatizer.lemmas(word)) or frozenset(
        (word,)
    )


def found_in(keyword: Phrase, heard: Phrase) -> bool:
    """True when every word of ``keyword`` is among ``heard``'s words, each matched by a
    different word, all within ``len(keyword) + SLACK`` words of each other, in any order."""
    if not keyword or len(keyword) > len(heard):
        return False
    width = len(keyword) + SLACK if len(keyword) > 1 else 1
    return any(_assign(keyword, heard[start : start + width]) for start in range(len(heard)))


def _assign(keyword: Phrase, window: Phrase) -> bool:
    """Can each keyword word take a different word of the window? (Phrases are short: a
    plain search is enough.)"""

    def place(index: int, used: frozenset[int]) -> bool:
        if index == len(keyword):
            return True
        return any(
            place(index + 1, used | {pos})
            for pos, word in enumerate(window)
            if pos not in used and keyword[index] & word
        )

    return place(0, frozenset())


def same_phrase(a: Phrase, b: Phrase) -> bool:
    """True when two keyword phrases would be heard in the same words: as many words, each
    sharing a lemma with one of the other's, in any order."""
    return len(a) == len(b) and _assign(a, b)


# Option numbers said instead of pressed, as lemmas: key ← words. The cardinal comes first:
# it is what the menus say («нажмите 1») and what is sent to Twilio as a hint.
SPOKEN_KEYS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "ru": {
        "1": ("один", "первый", "единица", "единичка"),
        "2": ("два", "второй", "двойка", "двоечка"),
        "3": ("три", "третий", "тройка", "троечка"),
        "4": ("четыре", "четвертый", "четверка"),
        "5": ("пять", "пятый", "пятерка"),
        "6": ("шесть", "шестой", "шестерка"),
        "7": ("семь", "седьмой", "семерка"),
        "8": ("восемь", "восьмой", "восьмерка"),
        "9": ("девять", "девятый", "девятка"),
        "0": ("ноль", "нуль", "нулевой"),
        "*": ("звездочка",),
    },
    "en": {
        "1": ("one", "first"),
        "2": ("two", "second"),
        "3": ("three", "third"),
        "4": ("four", "fourth"),
        "5": ("five", "fifth"),
        "6": ("six", "sixth"),
        "7": ("seven", "seventh"),
        "8": ("eight", "eighth"),
        "9": ("nine", "ninth"),
        "0": ("zero",),
        "*": ("star",),
    },
}
# Words that say a number names an option («нажимаю два», «пункт третий», «option two»),
# as lemmas. Without one, a number counts only in a short answer: «у меня три заявки» is
# not a choice of 3.
KEY_CUES: Mapping[str, frozenset[str]] = {
    "ru": frozenset(
        ("нажать", "нажимать", "кнопка", "клавиша", "цифра", "вариант", "пункт", "выбрать")
    ),
    "en": frozenset(("press", "option", "number", "button", "choose")),
}
SHORT_ANSWER = 3
_DIGIT = re.compile(r"^[0-9]$")


def spoken_key(heard: Phrase, lang: str) -> str | None:
    """The key a caller named by saying its number («два», «второй», «2», «ноль»), or None:
    also None when two different keys are named, or a number in a long sentence without a
    word like «нажать» or «пункт»."""
    table = SPOKEN_KEYS.get(lang, {})
    named: set[str] = set()
    # Other words than the cardinal («второй», «second»): an English "one" after them is
    # a pronoun («the second one»).
    named_otherwise: set[str] = set()
    for word in heard:
        for key, lemmas in table.items():
            if word & {lemmas[0]}:
                named.add(key)
            if word & set(lemmas[1:]):
                named_otherwise.add(key)
        named.update(lemma for lemma in word if _DIGIT.match(lemma))
    if named_otherwise:
        named = named_otherwise
    if len(named) != 1:
        return None
    cues = KEY_CUES.get(lang, frozenset())
    if len(heard) > SHORT_ANSWER and not any(word & cues for word in heard):
        return None
    return named.pop()


_SCRIPTS: Mapping[str, re.Pattern[str]] = {
    "ru": re.compile(r"[a-z]"),
    "en": re.compile(r"[а-я]"),
}


def hints_for(lang: str, phrases: Iterable[str]) -> tuple[str, ...]:
    """Speech-recognition hints for a ``<Gather>`` in ``lang``: whole words and phrases, each
    once, none in another language's letters (no «оператор» for en-US, no "operator" for
    ru-RU). Twilio takes a comma-separated list of up to 500 entries of at most 100
    characters (its error 13330)."""
    return _hints(lang, tuple(phrases))


# A menu's hints are the same on every turn of every call that hears it, and working them
# out (normalising a hundred phrases) was most of a menu turn's time in the call service
# (cProfile of `POST /voice/step`, Digits=*); the flows' menus are few, so a small cache
# holds them all.
@lru_cache(maxsize=1024)
def _hints(lang: str, phrases: tuple[str, ...]) -> tuple[str, ...]:
    foreign = _SCRIPTS.get(lang)
    chosen: list[str] = []
    for text in phrases:
        hint = normalise_speech(text)
        if not hint or len(hint) > 100 or (foreign is not None and foreign.search(hint)):
            continue
        if hint not in chosen:
            chosen.append(hint)
    return tuple(chosen[:500])


@dataclass(frozen=True)
class Choice:
    """A keyword phrase and where it leads: an option key or a node (a shortcut), and the
    language a shortcut switches the call to."""

    phrase: Phrase
    written: str
    key: str | None = None
    node: str | None = None
    lang: str | None = None


class Vocabulary:
    """Every keyword of one flow, already in lemmas, and the lemmatiser for what callers say.

    Made once per loaded flow (``Flow.use_words``) and shared by the threads serving it: the
    keywords are learnt before any call, and the cache of callers' words is thread-safe.
    """

    def __init__(self, lemmatizer: Lemmatizer) -> None:
        self.lemmatizer = lemmatizer
        self._phrases: dict[str, Phrase] = {}
        # One cache per vocabulary: callers' words repeat from call to call.
        self._word = lru_cache(maxsize=8192)(lambda word: _lemmas(lemmatizer, word))

    def learn(self, texts: Iterable[str]) -> None:
        """Turn keyword texts into lemmas now (at flow load), not during a call."""
        for text in texts:
            self.phrase(text)

    def phrase(self, text: str) -> Phrase:
        """A keyword text as lemmas (worked out once per text)."""
        found = self._phrases.get(text)
        if found is None:
            found = self.heard(text)
            self._phrases[text] = found
        return found

    def heard(self, text: str) -> Phrase:
        """What a caller said, as lemmas."""
        return tuple(self._word(word) for word in normalise_speech(text).split())

    def best(self, heard: Phrase, choices: Sequence[Choice]) -> Choice | None:
        """The choice whose phrase is heard with the most words («не приходит смс» beats
        «смс»); of equals, the first."""
        best: Choice | None = None
        for choice in choices:
            longer = best is None or len(choice.phrase) > len(best.phrase)
            if longer and found_in(choice.phrase, heard):
                best = choice
        return best

    def mentions(self, heard: Phrase, texts: Iterable[str]) -> bool:
        """True when any of the keyword texts is heard."""
        return any(found_in(self.phrase(text), heard) for text in texts)

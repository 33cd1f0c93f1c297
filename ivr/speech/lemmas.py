"""Dictionary forms of spoken words: Russian by pymorphy3, English by simplemma.

The menus match callers' words on lemmas (``ivr.flows.words``); this is the dictionary they
use. Both libraries ship their dictionaries inside their packages (pymorphy3-dicts-ru,
simplemma's data), so nothing is downloaded. The Russian dictionary is opened once per
process (``dictionary_words``), never per call.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import Any

import pymorphy3
import simplemma

_CYRILLIC = re.compile(r"[а-яё]")
_LATIN = re.compile(r"[a-z]")


class DictionaryWords:
    """A ``Lemmatizer``: every normal form pymorphy3 gives a Russian word (its parses,
    however unlikely: «кода» may be «код» or «кода»), the simplemma lemma of an English word
    and the word itself; anything else (digits) as it is."""

    def __init__(self) -> None:
        self._morph: Any = pymorphy3.MorphAnalyzer(lang="ru")
        # pymorphy3's analyzer keeps per-call caches of its own; one caller at a time.
        self._lock = threading.Lock()

    def lemmas(self, word: str) -> frozenset[str]:
        """The dictionary forms ``word`` may be (never empty)."""
        if _CYRILLIC.search(word):
            with self._lock:
                parses = self._morph.parse(word)
            return frozenset(str(p.normal_form) for p in parses) | {word}
        if _LATIN.search(word):
            return frozenset((str(simplemma.lemmatize(word, lang="en")), word))
        return frozenset((word,))

    def is_known(self, word: str) -> bool:
        """True when the Russian dictionary has ``word`` as a form of some word."""
        with self._lock:
            return bool(self._morph.word_is_known(word))


@cache
def dictionary_words() -> DictionaryWords:
    """The process's one dictionary (opened on first use)."""
    return DictionaryWords()

"""The server's dictionary (ivr/speech/lemmas.py): pymorphy3 for Russian, simplemma for
English, both offline; one per process."""

from __future__ import annotations

from ivr.speech.lemmas import DictionaryWords, dictionary_words


def test_russian_words_give_every_normal_form_and_themselves() -> None:
    words = dictionary_words()
    assert "забыть" in words.lemmas("забыла")
    assert "пароль" in words.lemmas("паролями")
    assert {"сотрудник", "сотрудника"} <= words.lemmas("сотрудника")
    assert "заблокировать" in words.lemmas("заблокирован")
    # An unlikely parse counts too: «кода» is the genitive of «код».
    assert "код" in words.lemmas("кода")


def test_english_words_give_their_lemma_and_themselves() -> None:
    words = dictionary_words()
    assert words.lemmas("errors") == frozenset({"error", "errors"})
    assert "sign" in words.lemmas("signing")


def test_digits_and_other_tokens_are_themselves() -> None:
    assert dictionary_words().lemmas("502") == frozenset({"502"})


def test_the_dictionary_is_opened_once_per_process() -> None:
    assert dictionary_words() is dictionary_words()
    assert isinstance(dictionary_words(), DictionaryWords)

"""Keywords on lemmas (ivr/flows/words.py): phrases in any form and order, option numbers
said, hints; with the server's dictionary (ivr/speech/lemmas.py) and without one."""

from __future__ import annotations

import pytest

from ivr.flows.words import (
    ExactWords,
    Vocabulary,
    found_in,
    hints_for,
    normalise_speech,
    phrase_of,
    same_phrase,
    spoken_key,
)
from ivr.speech.lemmas import dictionary_words

WORDS = Vocabulary(dictionary_words())


def heard(keyword: str, said: str) -> bool:
    return found_in(WORDS.phrase(keyword), WORDS.heard(said))


@pytest.mark.parametrize(
    ("keyword", "said"),
    [
        ("забыл пароль", "я забыла пароль"),
        ("забыл пароль", "пароль забыл"),
        ("забыл пароль", "забыли пароли от госуслуг"),
        ("не приходит смс", "мне не приходят смс"),
        ("не приходит смс", "смс не приходит"),
        ("не приходит смс", "СМС, представляете, не приходит"),
        ("не приходит код", "не приходит мне код"),
        ("ошибка", "У меня ошибка!"),
        ("ошибка", "выдаёт ошибку"),
        ("ошибка", "какие-то ошибки на сайте"),
        ("техподдержка", "техподдержка"),
        ("сотрудник", "позовите сотрудника"),
        ("сотрудник", "соедините с сотрудниками"),
        ("оплата", "вопрос по оплате"),
        ("оплата", "с оплатой проблема"),
        ("личный кабинет", "не вижу в личном кабинете"),
        ("учётная запись", "учетную запись заблокировали"),
        ("заблокировать", "меня заблокировали"),
        ("заблокировать", "аккаунт заблокирован"),
        ("четвёртый", "четвертый"),
        ("платёж", "платежи не проходят"),
        ("обращение", "статус моих обращений"),
        ("password", "I forgot my passwords"),
        ("error", "I get errors"),
        ("sign in", "signing in does not work"),
        ("500", "ошибка 500"),
    ],
)
def test_a_keyword_is_heard_in_any_form_and_order(keyword: str, said: str) -> None:
    assert heard(keyword, said)


@pytest.mark.parametrize(
    ("keyword", "said"),
    [
        # A word stem is not a word: «техни» no longer stands for «технические».
        ("техни", "технические проблемы"),
        ("оплат", "хочу заплатить"),
        # Every word of a phrase must be said, each by a different word …
        ("не приходит смс", "смс приходит"),
        ("забыл пароль", "пароль"),
        ("пароль пароль", "пароль"),
        # … and close together, not scattered over a sentence.
        ("главное меню", "главное для меня — это ваше меню"),
        ("ошибка", "ошибочно"),
        ("500", "5000"),
    ],
)
def test_a_keyword_is_not_heard_in_other_words(keyword: str, said: str) -> None:
    assert not heard(keyword, said)


def test_without_a_dictionary_words_are_compared_as_written() -> None:
    plain = Vocabulary(ExactWords())
    assert found_in(plain.phrase("пароль"), plain.heard("Пароль, пожалуйста"))
    assert not found_in(plain.phrase("пароль"), plain.heard("пароли"))
    assert phrase_of("Ещё раз!", ExactWords()) == (frozenset({"еще"}), frozenset({"раз"}))


def test_normalised_speech_is_lower_case_without_punctuation_or_yo() -> None:
    assert normalise_speech("  Ещё, раз — «Звёздочка»! ") == "еще раз звездочка"


def test_same_phrase_compares_lemmas_in_any_order() -> None:
    assert same_phrase(WORDS.phrase("забыл пароль"), WORDS.phrase("пароли забыла"))
    assert same_phrase(WORDS.phrase("Советы"), WORDS.phrase("совет"))
    assert not same_phrase(WORDS.phrase("забыл пароль"), WORDS.phrase("пароль"))
    assert not same_phrase(WORDS.phrase("статус"), WORDS.phrase("заявка"))


@pytest.mark.parametrize(
    ("said", "lang", "key"),
    [
        ("один", "ru", "1"),
        ("Первый", "ru", "1"),
        ("первую", "ru", "1"),
        ("единичку", "ru", "1"),
        ("два", "ru", "2"),
        ("две", "ru", "2"),
        ("второй", "ru", "2"),
        ("2", "ru", "2"),
        ("нажимаю три", "ru", "3"),
        ("давайте пункт четвёртый", "ru", "4"),
        ("ноль", "ru", "0"),
        ("нуль", "ru", "0"),
        ("звёздочка", "ru", "*"),
        ("one", "en", "1"),
        ("the second one", "en", "2"),
        ("I want option five", "en", "5"),
        ("zero", "en", "0"),
    ],
)
def test_an_option_number_said_names_its_key(said: str, lang: str, key: str) -> None:
    assert spoken_key(WORDS.heard(said), lang) == key


@pytest.mark.parametrize(
    ("said", "lang"),
    [
        ("один или два", "ru"),  # two keys: not a choice
        ("у меня три заявки и все висят", "ru"),  # a number in a sentence, no «нажать»
        ("я звоню уже второй раз подряд", "ru"),
        ("один", "en"),  # a Russian number in an English call
        ("оплата", "ru"),
        ("500", "ru"),
    ],
)
def test_other_numbers_name_no_key(said: str, lang: str) -> None:
    assert spoken_key(WORDS.heard(said), lang) is None


def test_hints_are_whole_words_in_the_gathers_language_each_once() -> None:
    texts = ["оплата", "Payment", "не приходит смс", "sms", "500", "оплата", "оператор", "agent"]
    assert hints_for("ru", texts) == ("оплата", "не приходит смс", "500", "оператор")
    assert hints_for("en", texts) == ("payment", "sms", "500", "agent")
    # A language without a known script: nothing is dropped for its letters.
    assert hints_for("de", ["zahlung", "оплата"]) == ("zahlung", "оплата")


def test_hints_keep_within_twilios_limits() -> None:
    # Twilio: at most 500 entries, each at most 100 characters (its warning 13330).
    long_phrase = "очень " * 20 + "длинная фраза"
    many = [f"слово{n}" for n in range(600)]
    hints = hints_for("ru", [long_phrase, *many])
    assert long_phrase.strip() not in hints
    assert len(hints) == 500
    assert hints[0] == "слово0"


class CountingWords(ExactWords):
    """Counts how often the dictionary is asked."""

    def __init__(self) -> None:
        self.calls = 0

    def lemmas(self, word: str) -> frozenset[str]:
        self.calls += 1
        return super().lemmas(word)


def test_keywords_are_learnt_once_and_callers_words_are_looked_up_once() -> None:
    counting = CountingWords()
    vocabulary = Vocabulary(counting)
    vocabulary.learn(["забыл пароль", "смс"])
    learnt = counting.calls
    assert learnt == 3
    # During calls: the keywords cost nothing more, a word already heard neither.
    vocabulary.phrase("забыл пароль")
    vocabulary.heard("пароль забыл")
    vocabulary.heard("Пароль, забыл!")
    assert counting.calls == learnt
    vocabulary.heard("забыла")
    assert counting.calls == learnt + 1

"""Every word of the number grammar is in the configured model's vocabulary.

Vosk drops grammar words its model does not know, with nothing but a log line, so a number
word missing from the model would silently never be recognised. The check runs against the
model IVR_VOSK_MODEL names (the Russian model in production); without one it is skipped. The
check itself is tested on the Korean model, which knows Korean digits and no Russian at all.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ivr.speech.numbers import GRAMMAR_WORDS
from ivr.speech.recognizer import SpeechModel, load_model_from_env

pytestmark = pytest.mark.vosk


@pytest.fixture(scope="module")
def configured_model() -> SpeechModel:
    """The model IVR_VOSK_MODEL names, or a skip saying how to run these tests."""
    setting = os.environ.get("IVR_VOSK_MODEL", "").strip()
    if not setting:
        pytest.skip(
            "IVR_VOSK_MODEL is not set: point it at the Russian model "
            "(ivr model fetch ru-small) to check the grammar against its vocabulary"
        )
    model = load_model_from_env(setting)
    if model is None:
        pytest.fail(f"IVR_VOSK_MODEL={setting!r} is not a Vosk model directory")
    return model


def test_every_grammar_word_is_in_the_configured_models_vocabulary(
    configured_model: SpeechModel,
) -> None:
    answers = {word: configured_model.vocabulary_has(word) for word in GRAMMAR_WORDS}
    if None in answers.values():
        pytest.fail(f"cannot read the word list of {configured_model.path}")
    missing = [word for word, known in answers.items() if not known]
    assert missing == [], f"{configured_model.path} cannot recognise: {', '.join(missing)}"


def test_the_configured_model_has_an_unknown_word_for_other_speech(
    configured_model: SpeechModel,
) -> None:
    # Without one, anything a caller says is forced onto number words.
    assert configured_model.unknown_word() is not None


def test_the_check_finds_a_korean_digit_and_not_a_russian_word(ko_model_dir: Path) -> None:
    model = SpeechModel(ko_model_dir)

    assert model.vocabulary_has("삼") is True  # "three" in Sino-Korean
    assert model.vocabulary_has("три") is False
    missing = model.missing_words(list(GRAMMAR_WORDS))
    assert missing == GRAMMAR_WORDS  # no Russian number word at all
    assert not model.is_loaded  # the word list is read without loading the model

"""Tests for ivr.speech.recognizer against the real small Korean Vosk model (no mocks).

Korean test speech comes from espeak-ng, whose Korean is rough: recognition of it is not exact
(about half the digits come back right), so these tests check what must always hold (only
grammar words come out, silence gives nothing, words after a pause are kept) rather than exact
transcripts.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from pydub import AudioSegment

from ivr.errors import IvrError
from ivr.speech.audio import is_silent, to_pcm16_mono
from ivr.speech.recognizer import (
    UNKNOWN_WORD,
    Recognizer,
    SpeechModel,
    SpeechModelError,
    Transcript,
    VoskRecognizer,
    Word,
    load_model_from_env,
    recognize,
)

pytestmark = pytest.mark.vosk

Speaker = Callable[..., bytes]

# Sino-Korean digits; 영 and 공 are both "zero". All are in the Korean model's vocabulary.
DIGITS = ["일", "이", "삼", "사", "오", "육", "칠", "팔", "구", "영", "공"]


def wav_at(wav: bytes, rate: int) -> bytes:
    """``wav`` resampled to ``rate`` Hz, as 16-bit mono WAV (the test's own telephone line)."""
    segment = AudioSegment(data=wav).set_channels(1).set_frame_rate(rate)
    buffer = io.BytesIO()
    segment.export(buffer, format="wav")
    return buffer.getvalue()


def silence_wav(seconds: float, rate: int) -> bytes:
    """Digital silence as 16-bit mono WAV."""
    buffer = io.BytesIO()
    AudioSegment.silent(round(seconds * 1000), frame_rate=rate).export(buffer, format="wav")
    return buffer.getvalue()


def assert_only(transcript: Transcript, allowed: Sequence[str]) -> None:
    """Every recognised word is one of ``allowed``, and text agrees with the words."""
    assert {word.word for word in transcript.words} <= set(allowed), transcript.text
    assert transcript.text == " ".join(word.word for word in transcript.words)


# --- the model: paths, lazy loading, vocabulary ------------------------------------------------


def test_korean_model_layout(ko_model_dir: Path) -> None:
    # What the small Korean model ships: a lookahead graph (HCLr + Gr), no words.txt, and no
    # --sample-frequency in mfcc.conf (Kaldi's default 16 kHz applies).
    assert (ko_model_dir / "am" / "final.mdl").is_file()
    assert (ko_model_dir / "graph" / "HCLr.fst").is_file()
    assert (ko_model_dir / "graph" / "Gr.fst").is_file()
    assert not (ko_model_dir / "graph" / "words.txt").exists()
    assert "--sample-frequency" not in (ko_model_dir / "conf" / "mfcc.conf").read_text()


def test_sample_rate_and_vocabulary_do_not_load_the_model(ko_model_dir: Path) -> None:
    model = SpeechModel(ko_model_dir)
    assert model.sample_rate == 16000
    assert model.vocabulary_has("일") is True
    assert not model.is_loaded
    assert model.load_count == 0


def test_sample_rate_is_read_from_mfcc_conf(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mfcc.conf").write_text(
        "--use-energy=false\n--sample-frequency=8000 # telephone model\n"
    )
    assert SpeechModel(tmp_path).sample_rate == 8000
    assert SpeechModel(tmp_path / "absent").sample_rate == 16000


def test_vocabulary_of_the_korean_model(ko_model: SpeechModel) -> None:
    for digit in DIGITS:
        assert ko_model.vocabulary_has(digit) is True, digit
    assert ko_model.vocabulary_has("하나") is True
    # The Korean recipe spells the unknown word <UNK>; Vosk's usual [unk] is absent.
    assert ko_model.vocabulary_has("[unk]") is False
    assert ko_model.vocabulary_has("<UNK>") is True
    assert ko_model.unknown_word() == "<UNK>"
    assert ko_model.vocabulary_has("zzqxv") is False
    assert ko_model.vocabulary_has("") is False
    assert ko_model.vocabulary_has("일 이") is False  # one word at a time
    assert ko_model.missing_words(["일  이", "삼 zzqxv"]) == ("zzqxv",)


def test_vocabulary_from_words_txt(tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "words.txt").write_text("<eps> 0\n[unk] 1\nодин 2\nдва 3\n")
    model = SpeechModel(tmp_path)
    assert model.vocabulary_has("один") is True
    assert model.vocabulary_has("три") is False
    assert model.unknown_word() == UNKNOWN_WORD


def test_vocabulary_unknown_without_a_word_list(tmp_path: Path) -> None:
    model = SpeechModel(tmp_path)
    assert model.vocabulary_has("один") is None
    assert model.unknown_word() == UNKNOWN_WORD  # Vosk's convention when we cannot tell


def test_bad_model_directory_raises_on_load(tmp_path: Path) -> None:
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"not a model")
    model = SpeechModel(tmp_path)
    with pytest.raises(SpeechModelError) as caught:
        model.load()
    assert isinstance(caught.value, IvrError)
    assert model.load_count == 0
    assert not model.is_loaded


def test_eight_threads_share_one_lazy_load(ko_model_dir: Path, say_korean: Speaker) -> None:
    model = SpeechModel(ko_model_dir)
    assert not model.is_loaded
    wav = say_korean("삼 사 오")
    barrier = threading.Barrier(8)
    results: list[Transcript] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait()
            transcript = recognize(model, wav, DIGITS)
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(transcript)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert len(results) == 8
    assert model.load_count == 1
    # Same audio, separate recognisers: every thread must hear the same thing.
    assert len({result.text for result in results}) == 1
    for result in results:
        assert_only(result, DIGITS)


# --- recognition ---------------------------------------------------------------------------------


def test_grammar_limits_the_words(ko_model: SpeechModel, say_korean: Speaker) -> None:
    transcript = recognize(ko_model, say_korean("일 이 삼 사 오"), DIGITS)
    assert transcript.words, "espeak's 일 이 삼 사 오 should give at least one digit"
    assert_only(transcript, DIGITS)
    assert transcript.confidence == pytest.approx(
        sum(word.conf for word in transcript.words) / len(transcript.words)
    )
    assert all(isinstance(word, Word) for word in transcript.words)
    assert all(
        0.0 <= word.start <= word.end <= transcript.audio_seconds for word in transcript.words
    )


def test_small_grammar_forces_its_words(ko_model: SpeechModel, say_korean: Speaker) -> None:
    # Speech that is nothing like the grammar still only yields grammar words.
    transcript = recognize(ko_model, say_korean("안녕하세요 오늘 날씨가 좋네요"), ["삼", "오"])
    assert_only(transcript, ["삼", "오"])


@pytest.mark.parametrize(
    "text",
    ["일 이 삼 사 오", "육, 칠, 팔, 구, 영", "삼", "오, 오, 오"],
    ids=["1-5", "6-0", "3", "555"],
)
def test_8khz_telephone_audio_with_grammar(
    ko_model: SpeechModel, say_korean: Speaker, text: str
) -> None:
    wav = wav_at(say_korean(text), 8000)
    assert AudioSegment(data=wav).frame_rate == 8000
    transcript = recognize(ko_model, wav, DIGITS)
    assert_only(transcript, DIGITS)
    assert transcript.audio_seconds == pytest.approx(
        AudioSegment(data=wav).duration_seconds, abs=0.01
    )


def test_silence_gives_nothing(ko_model: SpeechModel) -> None:
    wav = silence_wav(2.0, 8000)
    assert is_silent(to_pcm16_mono(wav, 16000), 16000)
    for grammar in (DIGITS, None):
        transcript = recognize(ko_model, wav, grammar)
        assert transcript.text == ""
        assert transcript.words == ()
        assert transcript.is_empty
        assert transcript.confidence == 0.0
        assert transcript.audio_seconds == pytest.approx(2.0, abs=0.01)


def test_words_after_a_pause_are_kept(ko_model: SpeechModel, say_korean: Speaker) -> None:
    # A pause longer than the model's endpoint rules splits the audio into two segments; Vosk's
    # FinalResult alone would return only the second.
    first = AudioSegment(data=say_korean("삼"))
    pause = AudioSegment.silent(3000, frame_rate=first.frame_rate)
    joined = first + pause + AudioSegment(data=say_korean("오"))
    buffer = io.BytesIO()
    joined.set_frame_rate(8000).export(buffer, format="wav")
    transcript = recognize(ko_model, buffer.getvalue(), DIGITS)
    assert_only(transcript, DIGITS)
    pause_starts = first.duration_seconds
    pause_ends = pause_starts + 3.0
    assert any(word.end <= pause_starts + 0.2 for word in transcript.words), transcript
    assert any(word.start >= pause_ends - 0.2 for word in transcript.words), transcript


def test_unknown_word_uses_the_models_spelling(ko_model: SpeechModel, say_korean: Speaker) -> None:
    transcript = recognize(ko_model, say_korean("육, 칠, 팔, 구, 영"), ["일"], allow_unknown=True)
    # The Korean model's <UNK> is reported as [unk], never in its own spelling.
    assert_only(transcript, ["일", UNKNOWN_WORD])


def test_grammar_word_missing_from_vocabulary_is_reported(
    ko_model: SpeechModel, say_korean: Speaker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ivr.speech.recognizer"):
        transcript = recognize(ko_model, say_korean("삼"), ["삼", "qqzzyy"])
    assert_only(transcript, ["삼"])
    assert any("qqzzyy" in record.getMessage() for record in caplog.records)


def test_grammar_of_only_unknown_words_hears_nothing(
    ko_model: SpeechModel, say_korean: Speaker
) -> None:
    assert recognize(ko_model, say_korean("삼"), ["qqzzyy"]).words == ()


def test_empty_grammar_is_refused(ko_model: SpeechModel, say_korean: Speaker) -> None:
    # Vosk crashes the process on "[]"; recognize must stop it first.
    with pytest.raises(ValueError):
        recognize(ko_model, say_korean("삼"), [])
    with pytest.raises(ValueError):
        recognize(ko_model, say_korean("삼"), ["  "])


def test_decode_time_of_three_seconds(ko_model: SpeechModel) -> None:
    wav = silence_wav(3.0, 8000)
    transcript = recognize(ko_model, wav, DIGITS)
    assert transcript.audio_seconds == pytest.approx(3.0, abs=0.01)
    # Generous bound: a grammar decode of 3 s takes about 0.1 s here; this only catches hangs.
    assert 0.0 < transcript.decode_seconds < 30.0


def test_vosk_recognizer_is_a_recognizer(ko_model: SpeechModel, say_korean: Speaker) -> None:
    recognizer: Recognizer = VoskRecognizer(ko_model)
    transcript = recognizer.recognize(say_korean("삼"), DIGITS)
    assert_only(transcript, DIGITS)


def test_a_double_satisfies_the_protocol() -> None:
    class Fixed:
        def recognize(self, wav: bytes, grammar: Sequence[str] | None = None) -> Transcript:
            return Transcript("삼", (Word("삼", 1.0, 0.0, 0.5),), 1.0, 0.5, 0.0)

    recognizer: Recognizer = Fixed()
    assert recognizer.recognize(b"").text == "삼"


# --- configuration -------------------------------------------------------------------------------


def test_load_model_from_env_without_a_usable_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = str(tmp_path / "no-such-model")
    with caplog.at_level(logging.WARNING, logger="ivr.speech.recognizer"):
        assert load_model_from_env(missing) is None
        assert load_model_from_env(missing) is None
        assert load_model_from_env(str(tmp_path)) is None  # exists, but no am/final.mdl
        assert load_model_from_env("bad\0path") is None
    mentions = [record for record in caplog.records if missing in record.getMessage()]
    assert len(mentions) == 1  # warned once, however often it is asked


def test_load_model_from_env_unset() -> None:
    assert load_model_from_env(None) is None
    assert load_model_from_env("") is None
    assert load_model_from_env("   ") is None


def test_load_model_from_env_with_the_korean_model(ko_model_dir: Path) -> None:
    model = load_model_from_env(str(ko_model_dir))
    assert model is not None
    assert model.path == ko_model_dir
    assert not model.is_loaded  # still lazy

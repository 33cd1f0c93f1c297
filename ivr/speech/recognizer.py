"""Offline speech recognition with Vosk: one shared model, one recogniser per utterance.

A Vosk ``Model`` is large (hundreds of MB in memory) and safe to share between threads, so a
:class:`SpeechModel` loads it once per process, on first use. A ``KaldiRecognizer`` holds the
decoding state of one utterance and must never be shared, so :func:`recognize` makes a new one
for every call. Small Vosk models accept a runtime grammar (a list of phrases); words of the
grammar that the model does not know are dropped by Vosk, so :meth:`SpeechModel.vocabulary_has`
lets callers check a grammar against the model's word list first.

The web layer depends on the :class:`Recognizer` protocol, so tests can hand it a double.
"""

from __future__ import annotations

import json
import logging
import mmap
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Protocol

import vosk

from ivr.errors import IvrError
from ivr.speech.audio import to_pcm16_mono

__all__ = [
    "UNKNOWN_WORD",
    "Recognizer",
    "SpeechModel",
    "SpeechModelError",
    "Transcript",
    "VoskRecognizer",
    "Word",
    "load_model_from_env",
    "recognize",
]

logger = logging.getLogger(__name__)

# How Vosk spells "some word outside the grammar". Models built by other recipes call it <UNK>
# instead (the Korean small model does), and the grammar must use the model's own spelling;
# transcripts always report it as UNKNOWN_WORD.
UNKNOWN_WORD = "[unk]"
_UNKNOWN_SPELLINGS = (UNKNOWN_WORD, "<UNK>", "<unk>")

# Kaldi's own default when conf/mfcc.conf does not say --sample-frequency.
_DEFAULT_SAMPLE_RATE = 16000

# Vosk advances its decoder in 0.2 s steps internally; feeding the same amount keeps memory flat
# and lets endpoints (pauses) be noticed as they happen.
_CHUNK_SECONDS = 0.2

# Words whose vocabulary lookup is remembered per model.
_KNOWN_CACHE_SIZE = 10_000

# OpenFst binary headers: an FST, then the symbol tables it carries (see _fst_output_symbols).
_FST_MAGIC = 2125659606
_SYMBOL_TABLE_MAGIC = 2125658996
_FST_HAS_ISYMBOLS = 1
_FST_HAS_OSYMBOLS = 2
_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")


class SpeechModelError(IvrError):
    """A Vosk model directory could not be loaded."""


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with Vosk's confidence (0..1) and its time span in seconds."""

    word: str
    conf: float
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Transcript:
    """What was heard in one recording.

    ``confidence`` is the mean word confidence (0 when nothing was heard); ``audio_seconds`` is
    the length of the recording and ``decode_seconds`` the wall time spent in Vosk alone (making
    the recogniser, which compiles the grammar, plus decoding; not audio conversion or model
    loading).
    """

    text: str
    words: tuple[Word, ...]
    confidence: float
    audio_seconds: float
    decode_seconds: float

    @property
    def is_empty(self) -> bool:
        """True when no word at all was recognised."""
        return not self.words


class Recognizer(Protocol):
    """Anything that turns a WAV recording into a :class:`Transcript` (Vosk, or a test double)."""

    def recognize(self, wav: bytes, grammar: Sequence[str] | None = None) -> Transcript:
        """Recognise ``wav``; with ``grammar`` (a list of phrases) only those words can come out."""
        ...


class SpeechModel:
    """A Vosk model directory whose ``vosk.Model`` is loaded lazily, once, on first use.

    Loading takes seconds and much memory, so it happens on the first :meth:`load` (or the first
    recognition), not at construction; concurrent first callers wait for one load. A failed load
    raises :class:`SpeechModelError` and is retried by the next caller.
    """

    def __init__(self, path: str | PathLike[str]) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        # vosk ships no type hints, so the loaded model is Any.
        self._model: Any = None
        self._load_count = 0
        self._sample_rate: int | None = None
        self._vocabulary_lock = threading.Lock()
        self._vocabulary: bytes | None = None
        self._vocabulary_read = False
        self._missing_reported: set[str] = set()
        # Grammars repeat on every call, and a miss scans the whole word list (a few ms).
        self._known: dict[str, bool] = {}

    def __repr__(self) -> str:
        return f"SpeechModel({str(self._path)!r})"

    @property
    def path(self) -> Path:
        """The model directory."""
        return self._path

    @property
    def is_loaded(self) -> bool:
        """True once the Vosk model is in memory."""
        return self._model is not None

    @property
    def load_count(self) -> int:
        """How many times this object has loaded its Vosk model (1 after first use, never more)."""
        return self._load_count

    @property
    def sample_rate(self) -> int:
        """The audio rate the model was trained on, from ``conf/mfcc.conf`` (default 16000)."""
        if self._sample_rate is None:
            # Reading a small text file twice from two threads is harmless, so no lock.
            self._sample_rate = _read_sample_rate(self._path / "conf" / "mfcc.conf")
        return self._sample_rate

    def load(self) -> Any:
        """The ``vosk.Model``, loading it now if this is the first call in the process."""
        model = self._model
        if model is not None:
            return model
        with self._lock:
            # Another thread may have finished loading while this one waited for the lock.
            if self._model is None:
                _quiet_vosk()
                logger.info("loading Vosk model from %s", self._path)
                started = time.perf_counter()
                try:
                    self._model = vosk.Model(str(self._path))
                except Exception as exc:  # vosk raises a bare Exception("Failed to create...")
                    raise SpeechModelError(
                        f"cannot load the Vosk model in {self._path}: {exc}"
                    ) from exc
                self._load_count += 1
                logger.info(
                    "Vosk model loaded in %.1f s (%s)", time.perf_counter() - started, self._path
                )
            return self._model

    def vocabulary_has(self, word: str) -> bool | None:
        """Whether the model can recognise ``word`` (exact, case-sensitive, one word).

        Returns None when the word list cannot be read. Vosk takes it from the symbol table
        stored inside ``graph/HCLG.fst`` or ``graph/Gr.fst``, else from ``graph/words.txt``;
        small models such as Korean and Russian ship no words.txt, so the table is read from the
        FST header the same way. The first call reads it (a fraction of a second for 500 000
        words); it is kept as one newline-separated byte string, a tenth of the memory of a set.
        """
        vocabulary = self._read_vocabulary()
        if vocabulary is None:
            return None
        if not word or any(ch.isspace() for ch in word):
            return False
        known = self._known.get(word)
        if known is None:
            known = b"\n" + word.encode("utf-8") + b"\n" in vocabulary
            if len(self._known) >= _KNOWN_CACHE_SIZE:
                # Grammars come from flow files, so this only fills up if they are generated.
                self._known.clear()
            self._known[word] = known
        return known

    def unknown_word(self) -> str | None:
        """The model's spelling of the out-of-grammar word: ``[unk]``, ``<UNK>``, or None."""
        for spelling in _UNKNOWN_SPELLINGS:
            has = self.vocabulary_has(spelling)
            if has is None:
                # Word list unreadable: assume the Vosk convention.
                return UNKNOWN_WORD
            if has:
                return spelling
        return None

    def missing_words(self, phrases: Sequence[str]) -> tuple[str, ...]:
        """Words of ``phrases`` the model lacks (Vosk silently drops them); logs each once."""
        missing: list[str] = []
        for phrase in phrases:
            for word in phrase.split():
                if self.vocabulary_has(word) is False and word not in missing:
                    missing.append(word)
        with self._vocabulary_lock:
            fresh = [word for word in missing if word not in self._missing_reported]
            self._missing_reported.update(fresh)
        if fresh:
            logger.warning(
                "Vosk model %s does not know %s; these grammar words can never be recognised",
                self._path,
                ", ".join(repr(word) for word in fresh),
            )
        return tuple(missing)

    def _read_vocabulary(self) -> bytes | None:
        if self._vocabulary_read:
            return self._vocabulary
        with self._vocabulary_lock:
            if not self._vocabulary_read:
                try:
                    self._vocabulary = _read_word_list(self._path)
                except (OSError, ValueError, struct.error) as exc:
                    logger.warning("cannot read the word list of %s: %s", self._path, exc)
                    self._vocabulary = None
                self._vocabulary_read = True
            return self._vocabulary


def recognize(
    model: SpeechModel,
    wav: bytes,
    grammar: Sequence[str] | None = None,
    *,
    allow_unknown: bool = False,
) -> Transcript:
    """Recognise one WAV recording with ``model``.

    ``grammar`` restricts the output to its phrases' words (small models only; big models ignore
    it). With ``allow_unknown`` the model's out-of-grammar word is added, so speech outside the
    grammar comes out as ``[unk]`` rather than being forced onto the nearest grammar word; if the
    model has no such word (a warning is logged) the grammar is used as it is. Raises
    :class:`ivr.speech.audio.AudioError` for undecodable audio, :class:`SpeechModelError` when
    the model cannot be loaded, and ValueError for a grammar with no phrases (Vosk would crash).
    """
    vosk_model = model.load()
    rate = model.sample_rate
    pcm = to_pcm16_mono(wav, rate)
    grammar_json, unknown = _grammar_json(model, grammar, allow_unknown)

    started = time.perf_counter()
    # One recogniser per utterance: it carries decoding state and is not thread-safe.
    if grammar_json is None:
        recogniser = vosk.KaldiRecognizer(vosk_model, float(rate))
    else:
        recogniser = vosk.KaldiRecognizer(vosk_model, float(rate), grammar_json)
    recogniser.SetWords(True)
    chunk = 2 * max(1, int(rate * _CHUNK_SECONDS))
    segments: list[str] = []
    for offset in range(0, len(pcm), chunk):
        # True means Vosk saw a pause and closed a segment; FinalResult only returns the
        # segment after the last pause, so earlier ones must be collected here.
        if recogniser.AcceptWaveform(pcm[offset : offset + chunk]):
            segments.append(recogniser.Result())
    segments.append(recogniser.FinalResult())
    decode_seconds = time.perf_counter() - started

    words = tuple(word for segment in segments for word in _parse_words(segment, unknown))
    confidence = sum(word.conf for word in words) / len(words) if words else 0.0
    return Transcript(
        text=" ".join(word.word for word in words),
        words=words,
        confidence=confidence,
        audio_seconds=len(pcm) / (2 * rate),
        decode_seconds=decode_seconds,
    )


class VoskRecognizer:
    """The :class:`Recognizer` the server uses: :func:`recognize` with a shared model."""

    def __init__(self, model: SpeechModel, *, allow_unknown: bool = False) -> None:
        self._model = model
        self._allow_unknown = allow_unknown

    @property
    def model(self) -> SpeechModel:
        """The shared model."""
        return self._model

    def recognize(self, wav: bytes, grammar: Sequence[str] | None = None) -> Transcript:
        """Recognise ``wav``, restricted to ``grammar`` when one is given."""
        return recognize(self._model, wav, grammar, allow_unknown=self._allow_unknown)


def load_model_from_env(path: str | None) -> SpeechModel | None:
    """A lazy :class:`SpeechModel` for the configured ``path``, or None if it is unusable.

    Never raises: an empty setting or a directory without ``am/final.mdl`` and ``conf/`` turns
    speech recognition off, with one warning per distinct setting per process. The model itself
    is loaded on first use, so a damaged model file only shows up then (as SpeechModelError).
    """
    setting = (path or "").strip()
    if not setting:
        _warn_once("", "speech recognition is off: no Vosk model directory is configured")
        return None
    try:
        directory = Path(setting).expanduser()
        usable = (directory / "am" / "final.mdl").is_file() and (directory / "conf").is_dir()
    except (OSError, ValueError) as exc:  # e.g. a path with a NUL byte, or no permission
        _warn_once(setting, f"speech recognition is off: cannot inspect {setting!r}: {exc}")
        return None
    if not usable:
        _warn_once(
            setting,
            f"speech recognition is off: {setting!r} is not a Vosk model directory "
            "(expected am/final.mdl and conf/ inside it)",
        )
        return None
    return SpeechModel(directory)


_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_once(key: str, message: str) -> None:
    """Log ``message`` the first time ``key`` is seen; the server may look the model up often."""
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    logger.warning("%s", message)


_vosk_quiet = False
_vosk_quiet_lock = threading.Lock()


def _quiet_vosk() -> None:
    """Silence Vosk's informational logging once per process, before the first model load.

    Level -1 keeps Kaldi warnings (such as a grammar word missing from the vocabulary) and
    drops the dozens of LOG lines every model load and recogniser writes to stderr.
    """
    global _vosk_quiet
    with _vosk_quiet_lock:
        if not _vosk_quiet:
            vosk.SetLogLevel(-1)
            _vosk_quiet = True


def _grammar_json(
    model: SpeechModel, grammar: Sequence[str] | None, allow_unknown: bool
) -> tuple[str | None, str | None]:
    """The grammar as Vosk's JSON list, and the model's unknown-word spelling if one was added."""
    if grammar is None:
        return None, None
    # Vosk splits phrases on single spaces and would look up the empty strings between doubled
    # ones as words.
    phrases = [" ".join(phrase.split()) for phrase in grammar if phrase.strip()]
    if not phrases:
        # Vosk's constructor dereferences a missing decoding graph when given "[]" and crashes
        # the process, so an empty grammar must never reach it.
        raise ValueError("the grammar has no phrases; pass None to recognise free speech")
    model.missing_words(phrases)
    unknown: str | None = None
    if allow_unknown:
        unknown = model.unknown_word()
        if unknown is None:
            _warn_once(
                f"unk:{model.path}",
                f"Vosk model {model.path} has no unknown-word entry; "
                "out-of-grammar speech will be matched to grammar words",
            )
        else:
            phrases.append(unknown)
    return json.dumps(phrases, ensure_ascii=False), unknown


def _parse_words(result_json: str, unknown: str | None) -> list[Word]:
    """The words of one Vosk result (``{"result": [{"word", "conf", "start", "end"}...]}``)."""
    result = json.loads(result_json)
    words: list[Word] = []
    for item in result.get("result", ()):
        text = str(item["word"])
        if unknown is not None and text == unknown:
            text = UNKNOWN_WORD
        words.append(
            Word(
                word=text,
                conf=float(item.get("conf", 0.0)),
                start=float(item.get("start", 0.0)),
                end=float(item.get("end", 0.0)),
            )
        )
    return words


def _read_sample_rate(mfcc_conf: Path) -> int:
    """``--sample-frequency`` from a Kaldi feature config, or 16000 if absent or unreadable."""
    try:
        lines = mfcc_conf.read_text(encoding="utf-8").splitlines()
    except OSError:
        return _DEFAULT_SAMPLE_RATE
    for line in lines:
        option = line.split("#", 1)[0].strip()
        if option.startswith("--sample-frequency="):
            try:
                return round(float(option.split("=", 1)[1]))
            except ValueError:
                break
    return _DEFAULT_SAMPLE_RATE


def _read_word_list(model_dir: Path) -> bytes | None:
    """The model's words as ``b"\\nword1\\nword2\\n"``, found where Vosk looks, or None.

    Vosk (model.cc) uses HCLG.fst when present, else Gr.fst, and takes that FST's output symbol
    table, falling back to graph/words.txt only when the FST carries none.
    """
    graph = model_dir / "graph"
    fst = graph / "HCLG.fst"
    if not fst.is_file():
        fst = graph / "Gr.fst"
    words: list[bytes] | None = _fst_output_symbols(fst) if fst.is_file() else None
    if words is None:
        words_txt = graph / "words.txt"
        if not words_txt.is_file():
            return None
        # Kaldi's text symbol table: "word id" per line.
        words = [line.split()[0] for line in words_txt.read_bytes().splitlines() if line.strip()]
    return b"\n" + b"\n".join(words) + b"\n"


def _fst_output_symbols(path: Path) -> list[bytes] | None:
    """The output symbols stored in an OpenFst binary file's header, or None if it has none.

    Layout (OpenFst fst.h / symbol-table.cc): int32 magic, string type, string arc type,
    int32 version, int32 flags, uint64 properties, int64 start, int64 states, int64 arcs; then
    an input and/or output symbol table when flags say so, each int32 magic, string name,
    int64 available key, int64 size, and size x (string symbol, int64 key). Strings are an
    int32 length and the bytes. mmap keeps the FST's body (tens of MB) off the Python heap.
    """
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if _I32.unpack_from(data, 0)[0] != _FST_MAGIC:
            raise ValueError(f"{path} is not an OpenFst binary file")
        pos = 4
        for _ in range(2):  # FST type and arc type
            pos += 4 + _I32.unpack_from(data, pos)[0]
        flags = _I32.unpack_from(data, pos + 4)[0]
        pos += 4 + 4 + 8 + 3 * 8
        if not flags & _FST_HAS_OSYMBOLS:
            return None
        for table in (_FST_HAS_ISYMBOLS, _FST_HAS_OSYMBOLS):
            if not flags & table:
                continue
            if _I32.unpack_from(data, pos)[0] != _SYMBOL_TABLE_MAGIC:
                raise ValueError(f"{path}: bad symbol table header")
            pos += 4
            pos += 4 + _I32.unpack_from(data, pos)[0]  # table name
            size = _I64.unpack_from(data, pos + 8)[0]
            pos += 16
            keep = table == _FST_HAS_OSYMBOLS
            symbols: list[bytes] = []
            for _ in range(size):
                length = _I32.unpack_from(data, pos)[0]
                if keep:
                    symbols.append(data[pos + 4 : pos + 4 + length])
                pos += 4 + length + 8
            if keep:
                return symbols
    return None

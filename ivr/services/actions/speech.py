"""``recognize_number``: fetch the caller's spoken request number and recognise it offline.

The recording is fetched by the one safe downloader (``ivr.telephony.recordings``), decoded
by Vosk with a grammar of Russian number words, and turned into digits; an ambiguous reading
is reported as such so the caller is asked again rather than told a guess. A slow action:
it runs before the turn's transaction, so no other call waits for the download or the
decoding.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from ivr.engine.steps import ActionRequest
from ivr.services.calls import SlowActionContext
from ivr.speech.numbers import GRAMMAR_WORDS, parse_number
from ivr.speech.recognizer import Recognizer
from ivr.telephony.recordings import RecordingError, RecordingFetcher

log = logging.getLogger(__name__)

# Twilio may still be finishing the file when the <Record> action arrives: try again briefly.
FETCH_ATTEMPTS = 8
FETCH_PAUSE = 0.25


class RecognizeNumber:
    """Recording → digits, with the recogniser the server was given (or none)."""

    def __init__(self, fetcher: RecordingFetcher, recognizer: Recognizer | None) -> None:
        self.fetcher = fetcher
        self.recognizer = recognizer
        self.grammar = list(GRAMMAR_WORDS)

    def __call__(self, action: ActionRequest, ctx: SlowActionContext) -> Mapping[str, Any]:
        if self.recognizer is None:
            return {"digits": ""}
        sid = str(action.args["recording_sid"])
        audio = self._fetch(sid)
        if audio is None:
            return {"digits": ""}
        transcript = self.recognizer.recognize(audio, self.grammar)
        reading = parse_number(transcript.text)
        log.info(
            "call %s: spoken number recognised in %.2f s (%.1f s of audio): %s",
            ctx.call.sid,
            transcript.decode_seconds,
            transcript.audio_seconds,
            "ambiguous" if reading.ambiguous else ("ok" if reading.digits else reading.reason),
        )
        if reading.ambiguous:
            return {"digits": "", "ambiguous": True}
        return {"digits": reading.digits or ""}

    def _fetch(self, sid: str) -> bytes | None:
        for attempt in range(FETCH_ATTEMPTS):
            try:
                return self.fetcher.fetch(sid)
            except RecordingError as exc:
                if attempt == FETCH_ATTEMPTS - 1:
                    log.warning("recording %s could not be fetched: %s", sid, exc)
                    return None
                time.sleep(FETCH_PAUSE)
        return None

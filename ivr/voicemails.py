"""Voicemails: one row per RecordingSid, the audio fetched safely and kept on disk.

The row (and the request it created) is committed before any webhook answers; the download
happens after, and a failed download is retried by ``ivr worker``.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.recordings import RecordingError, RecordingFetcher, is_recording_sid
from ivr.store.call_records import CallRecord, read_call
from ivr.store.db import Database
from ivr.store.models import Voicemail
from ivr.store.requests import create_request

log = logging.getLogger(__name__)

# A status callback for a recording shorter than this does not create a voicemail by itself.
MIN_SECONDS = 1


def ensure_voicemail(
    session: Session, recording_sid: str, call: CallRecord | None, duration: int, now: datetime
) -> tuple[Voicemail, bool]:
    """The voicemail of a recording, created with its request if new; (row, created)."""
    existing = session.scalar(
        select(Voicemail).where(Voicemail.recording_sid == recording_sid).with_for_update()
    )
    if existing is not None:
        if duration and not existing.duration:
            existing.duration = duration
        return existing, False
    try:
        with session.begin_nested():
            request = create_request(
                session,
                source="voicemail",
                category="voicemail",
                now=now.astimezone(UTC),
                caller=call.caller if call else "",
                line=call.line if call else "",
                call_sid=call.sid if call else "",
            )
            voicemail = Voicemail(
                recording_sid=recording_sid,
                call_sid=call.sid if call else "",
                caller=call.caller if call else "",
                line=call.line if call else "",
                duration=duration,
                request_number=request.number,
                status="pending",
                file_path="",
                download_attempts=0,
                last_error="",
                created_at=now.astimezone(UTC),
            )
            session.add(voicemail)
    except IntegrityError:
        # The status callback and the caller's turn raced; the other one stored it.
        found = session.scalar(select(Voicemail).where(Voicemail.recording_sid == recording_sid))
        if found is None:
            raise
        return found, False
    return voicemail, True


class VoicemailStore:
    """Records voicemail recordings reported by Twilio and keeps their audio."""

    def __init__(self, db: Database, fetcher: RecordingFetcher, directory: Path) -> None:
        self.db = db
        self.fetcher = fetcher
        self.directory = directory

    def on_recording_status(
        self, params: dict[str, str], now: datetime, min_seconds: int = MIN_SECONDS
    ) -> None:
        """Twilio's recording status callback for a voicemail ``<Record>``.

        A recording shorter than the node's ``min_seconds`` was refused in the call (the
        caller recorded again), so it creates nothing here either.
        """
        sid = params.get("RecordingSid", "")
        if not is_recording_sid(sid):
            log.warning("recording status callback with a malformed RecordingSid; ignored")
            return
        status = params.get("RecordingStatus", "completed")
        duration = int(params.get("RecordingDuration", "0") or 0)
        with self.db.transaction() as session:
            existing = session.scalar(select(Voicemail).where(Voicemail.recording_sid == sid))
            if existing is None and (status != "completed" or duration < min_seconds):
                log.info("recording %s is %s (%ss): nothing to keep", sid, status, duration)
                return
            call = read_call(session, params.get("CallSid", ""))
            voicemail, _ = ensure_voicemail(session, sid, call, duration, now)
            if status == "absent":
                voicemail.status = "absent"
            elif status == "failed":
                voicemail.status = "failed"
                voicemail.last_error = "Twilio reported the recording failed"
            voicemail_id, pending = voicemail.id, voicemail.status == "pending"
        if pending and status == "completed":
            self.download(voicemail_id, now)

    def download(self, voicemail_id: int, now: datetime) -> bool:
        """Fetch and store one voicemail's audio; on failure keep the row for a retry."""
        with self.db.sessions() as session:
            voicemail = session.get(Voicemail, voicemail_id)
            if voicemail is None or voicemail.status != "pending":
                return False
            sid = voicemail.recording_sid
        try:
            audio = self.fetcher.fetch(sid)
            path = self._write(sid, audio)
        except (RecordingError, OSError) as exc:
            with self.db.transaction() as session:
                row = session.get(Voicemail, voicemail_id, with_for_update=True)
                if row is not None:
                    row.download_attempts += 1
                    row.last_error = str(exc)
            log.warning("voicemail %s: download failed (%s); the worker will retry", sid, exc)
            return False
        with self.db.transaction() as session:
            row = session.get(Voicemail, voicemail_id, with_for_update=True)
            if row is not None:
                row.download_attempts += 1
                row.status = "stored"
                row.file_path = str(path)
                row.last_error = ""
                row.downloaded_at = now.astimezone(UTC)
        log.info("voicemail %s stored (%d bytes)", sid, len(audio))
        return True

    def _write(self, sid: str, audio: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{sid}.wav"
        partial = path.with_suffix(".part")
        partial.write_bytes(audio)
        os.replace(partial, path)
        return path

    def retry_pending(self, now: datetime, limit: int = 50) -> int:
        """Download voicemails still pending (for ``ivr worker``); returns how many stored."""
        with self.db.sessions() as session:
            ids = session.scalars(
                select(Voicemail.id)
                .where(Voicemail.status == "pending")
                .order_by(Voicemail.id)
                .limit(limit)
            ).all()
        return sum(self.download(vid, now) for vid in ids)

"""Voicemails: one row per RecordingSid, the audio fetched safely and kept on disk.

The row (and the request it created) is committed before any webhook answers; the download
happens after, and a failed download is retried by ``ivr worker``.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.store.call_records import CallRecord, read_call
from ivr.store.db import Database
from ivr.store.models import Voicemail
from ivr.store.requests import create_request
from ivr.telephony.carrier_fields import whole_seconds
from ivr.telephony.recordings import RecordingError, RecordingFetcher, is_recording_sid

log = logging.getLogger(__name__)

# A status callback for a recording shorter than this does not create a voicemail by itself.
MIN_SECONDS = 1
# Beyond the fetch's own time limit, how long a download claim holds (see ``__init__``).
CLAIM_MARGIN_SECONDS = 10


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
        # The status callback may come first, for a call not stored yet: whoever knows the
        # caller fills them in, so the promised callback has a number to dial.
        if call is not None and not existing.caller:
            existing.caller, existing.line = call.caller, call.line
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

    def __init__(
        self,
        db: Database,
        fetcher: RecordingFetcher,
        directory: Path,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.fetcher = fetcher
        self.directory = directory
        self.clock = clock
        # A download takes at most the fetcher's time limit; writing the file, a moment. The
        # margin is short because a claim that lapses too early costs only a second download
        # (each writes a file of its own, then one atomic rename), while one that lapses late
        # leaves a voicemail whose downloader was killed waiting that much longer.
        self._claim_for = timedelta(seconds=fetcher.timeout + CLAIM_MARGIN_SECONDS)

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
        duration = whole_seconds(params.get("RecordingDuration", "0") or "0")
        if duration is None:
            # Kept rather than judged too short: a message is never dropped on a bad field.
            log.warning("recording %s: malformed RecordingDuration; kept as of unknown length", sid)
        with self.db.transaction() as session:
            existing = session.scalar(select(Voicemail).where(Voicemail.recording_sid == sid))
            too_short = duration is not None and duration < min_seconds
            if existing is None and (status != "completed" or too_short):
                log.info("recording %s is %s (%ss): nothing to keep", sid, status, duration)
                return
            call = read_call(session, params.get("CallSid", ""))
            voicemail, _ = ensure_voicemail(session, sid, call, duration or 0, now)
            if status == "absent":
                voicemail.status = "absent"
            elif status == "failed":
                voicemail.status = "failed"
                voicemail.last_error = "Twilio reported the recording failed"
            voicemail_id, pending = voicemail.id, voicemail.status == "pending"
        if pending and status == "completed":
            self.download(voicemail_id, now)

    def download(self, voicemail_id: int, now: datetime) -> bool:
        """Fetch and store one voicemail's audio; on failure keep the row for a retry.

        The download is claimed first (a conditional update), so when two deliveries of
        the status callback, or a web worker and ``ivr worker``, reach the same voicemail
        at once, exactly one fetches it; the other returns at once. The claim lapses after
        the fetch's own time limit and a margin, so a process killed mid-download does not
        keep the voicemail from being retried. ``now`` is the call's time (for the row);
        the claim runs on the real clock, which every process shares.
        """
        claimed_at = self.clock()
        claim = (
            update(Voicemail)
            .where(
                Voicemail.id == voicemail_id,
                Voicemail.status == "pending",
                or_(
                    Voicemail.download_claimed_until.is_(None),
                    Voicemail.download_claimed_until < claimed_at,
                ),
            )
            .values(
                download_claimed_until=claimed_at + self._claim_for,
                download_attempts=Voicemail.download_attempts + 1,
            )
        )
        with self.db.transaction() as session:
            if session.connection().execute(claim).rowcount != 1:
                return False
            sid = session.scalars(
                select(Voicemail.recording_sid).where(Voicemail.id == voicemail_id)
            ).one()
        try:
            audio = self.fetcher.fetch(sid)
            path = self._write(sid, audio)
        except (RecordingError, OSError) as exc:
            with self.db.transaction() as session:
                row = session.get(Voicemail, voicemail_id, with_for_update=True)
                if row is not None:
                    row.last_error = str(exc)
                    row.download_claimed_until = None
            log.warning("voicemail %s: download failed (%s); the worker will retry", sid, exc)
            return False
        with self.db.transaction() as session:
            row = session.get(Voicemail, voicemail_id, with_for_update=True)
            if row is not None:
                row.status = "stored"
                row.file_path = str(path)
                row.last_error = ""
                row.downloaded_at = now.astimezone(UTC)
                row.download_claimed_until = None
        log.info("voicemail %s stored (%d bytes)", sid, len(audio))
        return True

    def _write(self, sid: str, audio: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{sid}.wav"
        # A name of this download's own: even a download whose claim lapsed never writes
        # into another's partial file.
        partial = path.with_name(f"{sid}.{uuid.uuid4().hex}.part")
        try:
            partial.write_bytes(audio)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
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

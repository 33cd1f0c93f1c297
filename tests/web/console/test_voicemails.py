"""The voicemail pages: newest first, numbers masked for operators, audio only behind
sign-in and only from the recordings directory, marking handled, and calling back."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select

from ivr.domain.schedule import MOSCOW
from ivr.store.models import AuditEntry, Callback, Voicemail, stored_utc
from tests.conftest import Clock
from tests.web.console.conftest import Console, seed_voicemail


def _rows(page: str) -> list[str]:
    return [chunk.split('"', 1)[0] for chunk in page.split('<tr id="voicemail-')[1:]]


def test_newest_first_with_line_request_and_duration(
    app: Flask, supervisor: Console, clock: Clock
) -> None:
    first, _ = seed_voicemail(app, seconds=12)
    clock.moment += timedelta(minutes=5)
    second, number = seed_voicemail(app, caller="+79035550101", seconds=75)
    page = supervisor.get("/console/voicemails/").get_data(as_text=True)
    assert _rows(page) == [str(second), str(first)]
    assert "+7 903 555-01-01" in page
    assert "Главная линия поддержки · +7 800 555-35-35" in page
    assert number in page
    assert "1 мин 15 с" in page and "12 с" in page
    assert "25.11.2026 10:05" in page


def test_an_operator_sees_only_the_end_of_a_number(app: Flask, operator: Console) -> None:
    seed_voicemail(app, caller="+79161234567")
    page = operator.get("/console/voicemails/").get_data(as_text=True)
    assert "+* *** ***-**-67" in page
    assert "1234567" not in page and "916" not in page


def test_the_audio_is_served_to_a_signed_in_account(app: Flask, operator: Console) -> None:
    voicemail, _ = seed_voicemail(app, seconds=2)
    response = operator.get(f"/console/voicemails/{voicemail}/audio")
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert response.data[:4] == b"RIFF"
    assert response.headers["Cache-Control"] == "no-store"
    partial = operator.get(
        f"/console/voicemails/{voicemail}/audio", headers={"Range": "bytes=100-199"}
    )
    assert partial.status_code == 206
    assert len(partial.data) == 100
    with app.extensions["ivr"].db.sessions() as session:
        played = session.scalars(select(AuditEntry.action)).all()
    assert played.count("voicemail_played") == 1


def test_the_audio_is_never_served_from_outside_the_recordings_directory(
    app: Flask, operator: Console
) -> None:
    voicemail, _ = seed_voicemail(app)
    # The database file sits beside the recordings directory: a path in the row that
    # climbs out of it is refused.
    with app.extensions["ivr"].db.transaction() as session:
        row = session.get(Voicemail, voicemail)
        assert row is not None
        row.file_path = str(app.extensions["ivr"].settings.recordings_dir / ".." / "ivr.db")
    assert operator.get(f"/console/voicemails/{voicemail}/audio").status_code == 404
    # Only an id reaches the route: a path is not a route at all.
    assert operator.get("/console/voicemails/..%2F..%2Fivr.db/audio").status_code == 404


def test_no_audio_before_it_is_downloaded(app: Flask, operator: Console) -> None:
    voicemail, _ = seed_voicemail(app, status="pending")
    page = operator.get("/console/voicemails/").get_data(as_text=True)
    assert "загружается" in page and "<audio" not in page
    assert operator.get(f"/console/voicemails/{voicemail}/audio").status_code == 404


def test_mark_handled_with_a_note(app: Flask, operator: Console) -> None:
    voicemail, number = seed_voicemail(app)
    operator.get("/console/voicemails/")
    response = operator.post(
        f"/console/voicemails/{voicemail}/handled", {"note": "Перезвонила, +79161234567 ок"}
    )
    assert response.status_code == 302
    page = operator.get("/console/voicemails/").get_data(as_text=True)
    assert "Сообщение отмечено как обработанное." in page
    assert "Необработанных сообщений нет." in page
    handled = operator.get("/console/voicemails/?show=handled").get_data(as_text=True)
    assert "Перезвонила, +79161234567 ок" in handled
    assert "operator" in handled
    with app.extensions["ivr"].db.sessions() as session:
        row = session.get(Voicemail, voicemail)
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "voicemail_handled")
        ).one()
    assert row is not None and row.handled_by == "operator"
    assert entry.target == f"сообщение {voicemail}"
    # A number typed into the note is masked in the audit log, as in the logs.
    assert "+*********67" in entry.detail and "1234567" not in entry.detail
    assert number not in entry.detail


def test_marking_an_unknown_voicemail_is_404(operator: Console) -> None:
    operator.get("/console/voicemails/")
    assert operator.post("/console/voicemails/999/handled", {"note": ""}).status_code == 404


def test_call_back_books_the_next_free_slot_for_the_voicemail_request(
    app: Flask, operator: Console, clock: Clock
) -> None:
    # Wednesday 22:30: the first slot the dispatcher dials in is Thursday 09:00.
    clock.set(2026, 11, 25, 22, 30)
    voicemail, number = seed_voicemail(app, caller="+79161234567")
    operator.get("/console/voicemails/")
    response = operator.post(f"/console/voicemails/{voicemail}/callback")
    assert response.status_code == 302
    page = operator.get("/console/voicemails/").get_data(as_text=True)
    assert "Обратный звонок записан на 26.11.2026 09:00." in page
    with app.extensions["ivr"].db.sessions() as session:
        booking = session.scalars(select(Callback)).one()
    assert booking.phone == "+79161234567"
    assert booking.request_number == number
    assert booking.status == "booked"
    assert booking.line == "+78005553535"
    # The booking shows beside the message, and a second one is refused.
    assert "Обратный звонок:" in page and "записан" in page
    operator.post(f"/console/voicemails/{voicemail}/callback")
    again = operator.get("/console/voicemails/").get_data(as_text=True)
    assert "У этого номера уже есть обратный звонок." in again


def test_call_back_not_before_a_chosen_moment(app: Flask, operator: Console, clock: Clock) -> None:
    voicemail, _ = seed_voicemail(app)
    operator.get("/console/voicemails/")
    operator.post(f"/console/voicemails/{voicemail}/callback", {"after": "2026-11-27T14:10"})
    with app.extensions["ivr"].db.sessions() as session:
        booking = session.scalars(select(Callback)).one()
    assert stored_utc(booking.slot_start) == datetime(2026, 11, 27, 14, 15, tzinfo=MOSCOW)


def test_no_call_back_without_the_callers_number(app: Flask, operator: Console) -> None:
    voicemail, _ = seed_voicemail(app, caller="")
    page = operator.get("/console/voicemails/").get_data(as_text=True)
    assert "Перезвонить" not in page
    operator.post(f"/console/voicemails/{voicemail}/callback")
    page = operator.get("/console/voicemails/").get_data(as_text=True)
    assert "Номер звонившего не определён" in page

"""Voicemail through signed webhooks: record, save once, download safely, retry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from ivr.config import Settings
from ivr.services.voicemails import CLAIM_MARGIN_SECONDS
from ivr.store.models import Request, Voicemail, stored_utc
from ivr.web import create_app
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Clock,
    TwilioWebhooks,
    call_params,
    make_settings,
    voicemails,
)
from tests.support.recording_host import RecordingHost, serve, wav_bytes

SID = "RE" + "ab" * 16


@pytest.fixture
def host() -> Iterator[RecordingHost]:
    with serve(RecordingHost(ACCOUNT_SID, AUTH_TOKEN, {SID: wav_bytes()})) as running:
        yield running


@pytest.fixture
def evil() -> Iterator[RecordingHost]:
    with serve(RecordingHost("ACevil", "x")) as running:
        yield running


@pytest.fixture
def vm_settings(database_url: str, tmp_path: Path, host: RecordingHost) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        twilio_api_base=host.base_url,
        recordings_dir=tmp_path / "recordings",
    )


@pytest.fixture
def vm_app(vm_settings: Settings, clock: Clock) -> Iterator[Flask]:
    clock.set(2026, 11, 25, 22, 30)
    application = create_app(vm_settings, clock=clock)
    yield application
    application.extensions["ivr"].db.dispose()


@pytest.fixture
def phone(vm_app: Flask) -> TwilioWebhooks:
    return TwilioWebhooks(vm_app.test_client())


def leave_message(phone: TwilioWebhooks, url: str = "https://api.twilio.com/x") -> str:
    phone.post("/voice/incoming", call_params())
    record = phone.post("/voice/step?turn=1", call_params(Digits="1")).get_data(as_text=True)
    assert record.endswith(
        '<Record action="https://ivr.example.test/voice/step?turn=2" finishOnKey="#" '
        'maxLength="180" method="POST" playBeep="true" '
        'recordingStatusCallback="https://ivr.example.test/voice/recording'
        '?purpose=voicemail&amp;min=2" '
        'recordingStatusCallbackEvent="completed absent" '
        'recordingStatusCallbackMethod="POST" timeout="5" />'
        '<Redirect method="POST">https://ivr.example.test/voice/step?turn=2&amp;ev=timeout</Redirect></Response>'
    )
    fields = call_params(RecordingSid=SID, RecordingUrl=url, RecordingDuration="12")
    return phone.post("/voice/step?turn=2", fields).get_data(as_text=True)


def status_callback(phone: TwilioWebhooks, **fields: str) -> int:
    params = call_params(RecordingSid=SID, RecordingStatus="completed", RecordingDuration="12")
    params.update(fields)
    return phone.post("/voice/recording?purpose=voicemail", params).status_code


def test_message_is_saved_with_a_request_number_read_in_groups(
    phone: TwilioWebhooks, vm_app: Flask
) -> None:
    body = leave_message(phone)
    [voicemail] = voicemails(vm_app)
    with vm_app.extensions["ivr"].db.sessions() as session:
        request = session.get(Request, voicemail.request_number)
    assert request is not None and request.source == "voicemail"
    number = voicemail.request_number
    assert len(number) == 8 and number.isdigit()
    assert "Спасибо, ваше сообщение сохранено. Номер обращения:" in body
    assert number not in body  # read as words in groups, not as one long number
    # No SMS configured here: nothing promised; ✱ says the number again.
    assert "придёт вам в СМС" not in body
    assert "Чтобы повторить номер обращения, нажмите звёздочку." in body
    again = phone.post("/voice/step?turn=3", call_params(Digits="*")).get_data(as_text=True)
    assert "Спасибо, ваше сообщение сохранено. Номер обращения:" in again
    bye = phone.post("/voice/step?turn=4&ev=timeout", call_params()).get_data(as_text=True)
    assert bye.endswith("<Hangup /></Response>")
    assert voicemail.status == "pending" and voicemail.duration == 12


def test_status_callback_stores_audio_once_however_often_twilio_retries(
    phone: TwilioWebhooks, vm_app: Flask, host: RecordingHost, vm_settings: Settings
) -> None:
    leave_message(phone)
    assert status_callback(phone) == 204
    assert status_callback(phone) == 204
    [voicemail] = voicemails(vm_app)
    assert voicemail.status == "stored"
    assert Path(voicemail.file_path).read_bytes() == wav_bytes()
    assert Path(voicemail.file_path).parent == vm_settings.recordings_dir
    assert [seen.path for seen in host.seen] == [
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{SID}.wav"
    ]


def test_two_deliveries_at_once_download_the_recording_once(
    phone: TwilioWebhooks, vm_app: Flask, host: RecordingHost
) -> None:
    leave_message(phone)
    host.delay = 0.5  # the first download is still under way when the second arrives
    start = threading.Barrier(2)

    def deliver() -> int:
        start.wait()
        return status_callback(phone)

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(lambda _: deliver(), range(2)))

    assert statuses == [204, 204]
    [voicemail] = voicemails(vm_app)
    assert (voicemail.status, voicemail.download_attempts, voicemail.last_error) == (
        "stored",
        1,
        "",
    )
    assert voicemail.download_claimed_until is None
    assert len(host.seen) == 1
    assert sorted(p.name for p in Path(voicemail.file_path).parent.iterdir()) == [f"{SID}.wav"]


def test_a_lapsed_claim_lets_the_worker_download_again(
    phone: TwilioWebhooks, vm_app: Flask, host: RecordingHost, clock: Clock
) -> None:
    leave_message(phone)
    store = vm_app.extensions["ivr"].voicemails
    [pending] = voicemails(vm_app)
    # A process claimed the download and was killed: its claim is in the past.
    with vm_app.extensions["ivr"].db.transaction() as session:
        row = session.get(Voicemail, pending.id)
        assert row is not None
        row.download_claimed_until = datetime.now(UTC) + timedelta(minutes=5)
    assert store.retry_pending(clock()) == 0  # still claimed: left alone
    with vm_app.extensions["ivr"].db.transaction() as session:
        row = session.get(Voicemail, pending.id)
        assert row is not None
        row.download_claimed_until = datetime.now(UTC) - timedelta(seconds=1)
    assert store.retry_pending(clock()) == 1
    [voicemail] = voicemails(vm_app)
    assert voicemail.status == "stored"


def test_a_download_claim_holds_for_the_fetch_limit_and_a_short_margin(
    phone: TwilioWebhooks, vm_app: Flask, host: RecordingHost, vm_settings: Settings
) -> None:
    """Long enough that no second download starts while one is under way, short enough that
    a voicemail whose downloader was killed is retried soon."""
    leave_message(phone)
    host.delay = 1.0
    with ThreadPoolExecutor(1) as pool:
        before = datetime.now(UTC)
        delivery = pool.submit(status_callback, phone)
        while not host.seen:
            threading.Event().wait(0.01)
        [voicemail] = voicemails(vm_app)
        assert delivery.result() == 204
    assert voicemail.download_claimed_until is not None
    held = (stored_utc(voicemail.download_claimed_until) - before).total_seconds()
    expected = vm_settings.recording_timeout + CLAIM_MARGIN_SECONDS
    assert expected - 1 <= held <= expected + 1


def test_caller_hanging_up_before_the_action_still_leaves_a_voicemail(
    phone: TwilioWebhooks, vm_app: Flask
) -> None:
    phone.post("/voice/incoming", call_params())
    phone.post("/voice/step?turn=1", call_params(Digits="1"))
    assert status_callback(phone) == 204
    [voicemail] = voicemails(vm_app)
    assert voicemail.status == "stored"
    # The late action finds the same voicemail and tells the same number.
    late = phone.post(
        "/voice/step?turn=2", call_params(RecordingSid=SID, RecordingDuration="12")
    ).get_data(as_text=True)
    assert "сообщение сохранено" in late
    assert len(voicemails(vm_app)) == 1


def test_failed_download_keeps_the_row_and_a_retry_stores_it(
    phone: TwilioWebhooks, vm_app: Flask, host: RecordingHost, clock: Clock
) -> None:
    leave_message(phone)
    host.fail_with = 500
    assert status_callback(phone) == 204
    [voicemail] = voicemails(vm_app)
    assert (voicemail.status, voicemail.download_attempts) == ("pending", 1)
    assert "500" in voicemail.last_error
    host.fail_with = None
    assert vm_app.extensions["ivr"].voicemails.retry_pending(clock()) == 1
    [voicemail] = voicemails(vm_app)
    assert voicemail.status == "stored"


def test_hostile_recording_url_is_never_fetched(
    phone: TwilioWebhooks, vm_app: Flask, host: RecordingHost, evil: RecordingHost
) -> None:
    leave_message(phone, url=evil.base_url + "/steal")
    status_callback(phone, RecordingUrl=evil.base_url + "/steal")
    assert evil.seen == []
    assert len(host.seen) == 1


@pytest.mark.parametrize(
    "sid", ["RE../../../etc/passwd", "http://evil.example/x", "RE" + "G" * 32, "", "RE12"]
)
def test_malformed_recording_sid_fetches_nothing_and_stores_nothing(
    phone: TwilioWebhooks, vm_app: Flask, host: RecordingHost, sid: str
) -> None:
    phone.post("/voice/incoming", call_params())
    assert status_callback(phone, RecordingSid=sid) == 204
    assert host.seen == []
    assert voicemails(vm_app) == []


def test_redirect_to_a_foreign_host_is_refused(
    phone: TwilioWebhooks, vm_app: Flask, host: RecordingHost, evil: RecordingHost
) -> None:
    leave_message(phone)
    host.redirect_to = evil.base_url + f"/2010-04-01/Accounts/ACevil/Recordings/{SID}.wav"
    status_callback(phone)
    assert evil.connections == 0
    [voicemail] = voicemails(vm_app)
    assert voicemail.status == "pending"
    assert "redirect" in voicemail.last_error


def test_too_short_recording_is_explained_and_recorded_again(
    phone: TwilioWebhooks, vm_app: Flask
) -> None:
    phone.post("/voice/incoming", call_params())
    phone.post("/voice/step?turn=1", call_params(Digits="1"))
    body = phone.post(
        "/voice/step?turn=2", call_params(RecordingSid=SID, RecordingDuration="1")
    ).get_data(as_text=True)
    assert "Сообщение не записалось. Попробуйте, пожалуйста, ещё раз после сигнала." in body
    assert '<Record action="https://ivr.example.test/voice/step?turn=3"' in body
    assert voicemails(vm_app) == []


def test_absent_recording_creates_nothing(phone: TwilioWebhooks, vm_app: Flask) -> None:
    phone.post("/voice/incoming", call_params())
    assert status_callback(phone, RecordingStatus="absent", RecordingDuration="0") == 204
    assert voicemails(vm_app) == []


def test_recording_callback_needs_a_signature(vm_app: Flask) -> None:
    client = vm_app.test_client()
    response = client.post("/voice/recording?purpose=voicemail", data=call_params(RecordingSid=SID))
    assert response.status_code == 403


def test_a_refused_short_recording_is_not_kept_by_its_status_callback(
    phone: TwilioWebhooks, vm_app: Flask
) -> None:
    phone.post("/voice/incoming", call_params())
    phone.post("/voice/step?turn=1", call_params(Digits="1"))
    phone.post("/voice/step?turn=2", call_params(RecordingSid=SID, RecordingDuration="1"))
    params = call_params(RecordingSid=SID, RecordingStatus="completed", RecordingDuration="1")
    assert phone.post("/voice/recording?purpose=voicemail&min=2", params).status_code == 204
    assert voicemails(vm_app) == []

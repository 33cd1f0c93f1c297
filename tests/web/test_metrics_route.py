"""``GET /metrics``: hidden without a token, refused without the right one, and what it
counts after calls placed through the app: each count moved by exactly what the calls did."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr.config import Settings
from ivr.services.calls import CallService
from ivr.store.models import Callback, DispatcherHost, Voicemail
from ivr.web import MAX_WEBHOOK_BYTES, create_app
from ivr.web.metrics_route import bearer_matches
from tests.conftest import Clock, TwilioWebhooks, call_params, make_settings
from tests.support.metrics import Samples, counted, key

TOKEN = "scrape-token-0123456789abcdef"
HOTLINE = "+78005553535"
SID = "CA" + "1" * 32
WEBHOOKS = "ivr_webhook_duration_seconds_count"


@pytest.fixture
def metrics_app(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    """The app with a metrics token."""
    app = create_app(make_settings(database_url, tmp_path, metrics_token=TOKEN), clock=clock)
    yield app
    app.extensions["ivr"].db.dispose()


@pytest.fixture
def phone(metrics_app: Flask) -> TwilioWebhooks:
    return TwilioWebhooks(metrics_app.test_client())


def scrape(client: FlaskClient) -> Samples:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type == "text/plain; version=1.0.0; charset=utf-8"
    return Samples(response.get_data(as_text=True))


def webhook(route: str, outcome: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return key(WEBHOOKS, route=route, outcome=outcome)


# -- protection ---------------------------------------------------------------------------


def test_without_a_token_configured_there_is_no_metrics_route(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
    ],
)
def test_a_request_without_the_token_gets_401(metrics_app: Flask, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = metrics_app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"ivr_" not in response.get_data()


def test_the_token_opens_it_whatever_the_scheme_is_spelt(metrics_app: Flask) -> None:
    client = metrics_app.test_client()
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = client.get("/metrics", headers={"Authorization": f"{scheme} {TOKEN}"})
        assert response.status_code == 200
        assert b"# TYPE ivr_webhook_duration_seconds histogram" in response.get_data()


def test_bearer_matches() -> None:
    assert bearer_matches(f"Bearer {TOKEN}", TOKEN)
    assert bearer_matches(f"Bearer  {TOKEN} ", TOKEN)
    assert not bearer_matches(f"Bearer {TOKEN}", TOKEN + "0")
    assert not bearer_matches("Bearer тест", TOKEN)
    assert not bearer_matches("", TOKEN)


def test_the_token_is_set_by_its_variable() -> None:
    settings = Settings.from_environ({"IVR_ENVIRONMENT": "test", "IVR_METRICS_TOKEN": TOKEN})
    assert settings.metrics_token == TOKEN
    assert Settings.from_environ({"IVR_ENVIRONMENT": "test"}).metrics_token == ""


# -- what a call counts -------------------------------------------------------------------


def test_a_call_counts_its_start_turns_webhooks_and_end(
    metrics_app: Flask, phone: TwilioWebhooks
) -> None:
    client = metrics_app.test_client()
    before = scrape(client)
    assert phone.post("/voice/incoming", call_params(SID)).status_code == 200
    assert phone.post("/voice/step?turn=1", call_params(SID, Digits="*")).status_code == 200
    # Twilio's retry of the same turn is answered again, but moves the call on no further.
    assert phone.post("/voice/step?turn=1", call_params(SID, Digits="*")).status_code == 200
    ended = call_params(SID, CallStatus="completed", CallDuration="40")
    assert phone.post("/voice/status", ended).status_code == 204
    # A repeated status callback is no second end.
    assert phone.post("/voice/status", ended).status_code == 204
    after = scrape(client)

    assert counted(before, after) == {
        key("ivr_calls_started_total", line=HOTLINE, direction="inbound"): 1,
        key("ivr_call_turns_total", flow="hotline"): 2,
        key("ivr_calls_ended_total", line=HOTLINE, direction="inbound", status="completed"): 1,
        webhook("/voice/incoming", "answered"): 1,
        webhook("/voice/step", "answered"): 2,
        webhook("/voice/status", "answered"): 2,
    }
    # Every request falls in some bucket, and took some time.
    labels = {"route": "/voice/step", "outcome": "answered"}
    assert after.get("ivr_webhook_duration_seconds_bucket", le="+Inf", **labels) == 2
    assert after.get("ivr_webhook_duration_seconds_bucket", le="15.0", **labels) == 2
    assert after.get("ivr_webhook_duration_seconds_sum", **labels) > 0


def test_a_call_to_a_number_nobody_serves_counts_as_an_unknown_line(
    metrics_app: Flask, phone: TwilioWebhooks
) -> None:
    client = metrics_app.test_client()
    before = scrape(client)
    phone.post("/voice/incoming", call_params(SID, To="+74951112233"))
    after = scrape(client)
    # No turn of a flow: the caller only hears that the number is not served.
    assert counted(before, after) == {
        key("ivr_calls_started_total", line="unknown", direction="inbound"): 1,
        webhook("/voice/incoming", "answered"): 1,
    }
    assert (
        b"74951112233"
        not in client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data()
    )


def test_a_callback_counts_on_the_line_it_is_placed_from(
    metrics_app: Flask, phone: TwilioWebhooks
) -> None:
    now = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    with metrics_app.extensions["ivr"].db.transaction() as session:
        booking = Callback(
            phone="+79161234567",
            line=HOTLINE,
            flow="callback",
            request_number="12345678",
            slot_start=now,
            slot_end=now,
            status="dialing",
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(booking)
        session.flush()
        callback = booking.id
    client = metrics_app.test_client()
    before = scrape(client)
    outbound = call_params(SID, From=HOTLINE, To="+79161234567", Direction="outbound-api")
    assert phone.post(f"/voice/incoming?flow=callback&callback={callback}", outbound).status_code
    after = scrape(client)
    assert counted(before, after) == {
        key("ivr_calls_started_total", line=HOTLINE, direction="outbound"): 1,
        key("ivr_call_turns_total", flow="callback"): 1,
        webhook("/voice/incoming", "answered"): 1,
    }
    # The person called back is no label.
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data()
    assert b"79161234567" not in text


def test_refused_and_malformed_webhooks_count_by_outcome(
    metrics_app: Flask, phone: TwilioWebhooks
) -> None:
    client = metrics_app.test_client()
    before = scrape(client)
    assert phone.post("/voice/step?turn=1", call_params(), signature="forged").status_code == 403
    too_big = call_params(SID, Padding="x" * MAX_WEBHOOK_BYTES)
    assert phone.post("/voice/status", too_big).status_code == 413
    after = scrape(client)
    assert counted(before, after) == {
        webhook("/voice/step", "refused"): 1,
        webhook("/voice/status", "client_error"): 1,
    }


def test_a_failure_inside_counts_the_apology_and_a_failed_status_a_server_error(
    metrics_app: Flask, phone: TwilioWebhooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(CallService, "incoming", broken)
    monkeypatch.setattr(CallService, "status", broken)
    monkeypatch.setattr(CallService, "queue_wait", broken)
    client = metrics_app.test_client()
    before = scrape(client)
    # 10:00 on a Wednesday: the line is open, the apology puts the caller through to a person.
    assert phone.post("/voice/incoming", call_params(SID)).status_code == 200
    assert phone.post("/voice/queue/wait", call_params(SID, QueueTime="30")).status_code == 200
    assert phone.post("/voice/status", call_params(SID, CallStatus="completed")).status_code == 500
    after = scrape(client)
    assert counted(before, after) == {
        key("ivr_apologies_total", answer="operator"): 1,
        key("ivr_apologies_total", answer="queue"): 1,
        webhook("/voice/incoming", "apology"): 1,
        webhook("/voice/queue/wait", "apology"): 1,
        webhook("/voice/status", "server_error"): 1,
    }


def test_an_apology_after_hours_counts_as_the_voice_message_it_offers(
    metrics_app: Flask, phone: TwilioWebhooks, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("a bug")

    monkeypatch.setattr(CallService, "step", broken)
    clock.set(2026, 11, 25, 22, 30)
    client = metrics_app.test_client()
    phone.post("/voice/incoming", call_params(SID))
    before = scrape(client)
    assert phone.post("/voice/step?turn=1", call_params(SID, Digits="1")).status_code == 200
    assert counted(before, scrape(client)) == {
        key("ivr_apologies_total", answer="voicemail"): 1,
        webhook("/voice/step", "apology"): 1,
    }


def test_other_routes_are_not_counted_as_webhooks(metrics_app: Flask) -> None:
    client = metrics_app.test_client()
    before = scrape(client)
    assert client.get("/healthz").status_code == 200
    assert client.get("/voice/nowhere").status_code == 404
    scrape(client)
    assert counted(before, scrape(client)) == {}


# -- what the database says ---------------------------------------------------------------


def test_the_scrape_reads_bookings_voicemails_and_heartbeats(
    metrics_app: Flask, clock: Clock
) -> None:
    now = clock().astimezone(UTC)
    with metrics_app.extensions["ivr"].db.transaction() as session:
        for index, (status, due) in enumerate(
            [("booked", -5), ("booked", 60), ("retry", -1), ("failed", -600), ("dialing", -2)]
        ):
            session.add(
                Callback(
                    phone=f"+7916000000{index}",
                    line=HOTLINE,
                    flow="callback",
                    request_number=f"1000000{index}",
                    slot_start=now,
                    slot_end=now,
                    status=status,
                    next_attempt_at=now + timedelta(minutes=due),
                    created_at=now,
                    updated_at=now,
                )
            )
        for index, status in enumerate(["pending", "pending", "failed", "stored"]):
            session.add(
                Voicemail(
                    recording_sid="RE" + f"{index}" * 32,
                    call_sid=SID,
                    request_number=f"2000000{index}",
                    status=status,
                    created_at=now,
                )
            )
        session.add(
            DispatcherHost(
                worker="node-1:4242",
                started_at=now - timedelta(hours=1),
                last_pass_at=now - timedelta(seconds=12),
                last_pass_seconds=0.25,
                passes=240,
            )
        )
    samples = scrape(metrics_app.test_client())
    assert samples.get("ivr_database_up") == 1
    assert samples.labelled("ivr_callbacks") == {
        (("status", "booked"),): 2,
        (("status", "dialing"),): 1,
        (("status", "retry"),): 1,
        (("status", "completed"),): 0,
        (("status", "failed"),): 1,
        (("status", "expired"),): 0,
        (("status", "canceled"),): 0,
    }
    assert samples.get("ivr_callbacks_due") == 2
    assert samples.labelled("ivr_voicemails") == {
        (("status", "pending"),): 2,
        (("status", "stored"),): 1,
        (("status", "absent"),): 0,
        (("status", "failed"),): 1,
    }
    worker = {"worker": "node-1:4242"}
    assert samples.get("ivr_dispatcher_last_pass_duration_seconds", **worker) == 0.25
    assert samples.get("ivr_dispatcher_seconds_since_last_pass", **worker) == 12
    assert samples.get("ivr_dispatcher_passes_total", **worker) == 240

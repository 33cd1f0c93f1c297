"""The harness against the shipped flows, in-process: whole calls as Twilio would place them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from ivr.harness.inputs import Press, Speak
from ivr.harness.local import LocalApp
from ivr.harness.simulator import CallSpec, parse_moment
from ivr.harness.transport import AppTransport
from ivr.store.models import Call
from ivr.web import create_app
from tests.conftest import Clock
from tests.harness.conftest import MAIN_LINE, PUBLIC_URL, TOKEN, harness_settings

GOODBYE = "Спасибо за звонок. До свидания!"


def call(local: LocalApp, at: str, *inputs: Press | Speak, **kw: object) -> CallSpec:
    return CallSpec(to=MAIN_LINE, at=parse_moment(at), inputs=tuple(inputs), **kw)  # type: ignore[arg-type]


def test_working_hours_call_through_the_menu_to_a_queue(local: LocalApp) -> None:
    result = local.harness().place(call(local, "2026-11-25T10:00", Press("1"), Press("2")))

    assert result.outcome.label() == "queue tech"
    transcript = result.transcript()
    assert transcript[3].startswith("IVR: Чтобы сразу поговорить со специалистом, нажмите 0.")
    assert transcript[4] == "CALLER presses 1"
    assert transcript[5].startswith("IVR: Технические проблемы.")
    assert transcript[6] == "CALLER presses 2"
    assert "→ queue tech" in transcript
    assert transcript[-1] == "CALL ENDED: queue tech"
    # The waitUrl is asked twice, the second time after the first announcement and pause.
    waits = [ex for ex in result.exchanges if ex.kind == "queue-wait"]
    assert waits[0].params["QueueTime"] == "0"
    assert int(waits[1].params["QueueTime"]) > 20
    # A tip while the caller has not waited yet; «заняты» once they have.
    assert result.heard()[-2:] == [
        "Пока вы ждёте: многие вопросы можно решить в чате на портале Госуслуги. "
        "Чат работает круглосуточно.",
        "Все специалисты сейчас заняты. Пожалуйста, оставайтесь на линии, вам обязательно ответят.",
    ]
    assert [ex.kind for ex in result.exchanges] == [
        "incoming",
        "gather",
        "gather",
        "queue-wait",
        "queue-wait",
        "status-callback",
    ]
    assert [ex.status for ex in result.exchanges] == [200, 200, 200, 200, 200, 204]
    # The server's own log of the call, closed by the status callback.
    assert result.call_log is not None
    assert result.call_log["path"] == [
        "greeting",
        "hours",
        "main_menu",
        "tech_menu",
        "tip_errors",
        "to_tech",
    ]
    assert result.call_log["status"] == "completed"
    assert result.call_log["duration"] == result.duration


def test_every_request_carries_twilios_fields_and_signature(local: LocalApp) -> None:
    sent: list[tuple[str, dict[str, str], dict[str, str]]] = []

    class Recording(AppTransport):
        def send(self, method, url, params, headers):  # type: ignore[no-untyped-def]
            sent.append((url, dict(params), dict(headers)))
            return super().send(method, url, params, headers)

    harness = local.harness()
    harness.transport = Recording(local.app, PUBLIC_URL)
    result = harness.place(call(local, "2026-11-25T10:00", Press("5")))

    validator = RequestValidator(TOKEN)
    for url, params, headers in sent:
        assert validator.validate(url, params, headers["X-Twilio-Signature"]), url
        assert params["CallSid"] == result.sid
        assert params["AccountSid"].startswith("AC")
        assert params["From"] == "+79161234567" and params["To"] == MAIN_LINE
        assert params["Direction"] == "inbound"
    assert sent[0][0] == PUBLIC_URL + "/voice/incoming"
    assert sent[0][1]["CallStatus"] == "ringing"
    # The Gather's relative action, resolved against the URL of the request that returned it.
    assert sent[1][0] == PUBLIC_URL + "/voice/step?turn=1"
    assert sent[1][1]["Digits"] == "5"
    assert sent[-1][0] == PUBLIC_URL + "/voice/status"
    assert sent[-1][1]["CallStatus"] == "completed"
    assert sent[-1][1]["CallDuration"] == str(result.duration)
    # The call's clock moves on from --at as the call goes.
    assert sent[0][2]["X-IVR-Clock"] == "2026-11-25T10:00:00+03:00"
    assert sent[1][2]["X-IVR-Clock"] > sent[0][2]["X-IVR-Clock"]


def test_after_hours_call_hears_when_we_open_and_the_night_menu(local: LocalApp) -> None:
    result = local.harness().place(call(local, "2026-11-25T22:30", Press("4")))

    assert (
        result.heard()[3]
        == "Сейчас линия закрыта. Мы откроемся завтра в восемь часов по московскому времени."
    )
    assert result.heard()[-1] == GOODBYE
    assert result.outcome.label() == "hangup"
    assert result.call_log is not None
    assert "after_hours" in result.call_log["path"]
    assert "main_menu" not in result.call_log["path"]


@pytest.mark.parametrize(
    ("at", "node"),
    [("2026-01-02T15:00", "after_hours"), ("2026-01-02T10:00", "main_menu")],
)
def test_public_holiday_hours(local: LocalApp, at: str, node: str) -> None:
    # 2 January is a New Year holiday: open 08:00-14:00 only.
    result = local.harness().place(call(local, at, Press("4")))

    assert result.call_log is not None
    assert result.call_log["path"][2] == node


@pytest.mark.parametrize("at", ["2026-11-25T10:00", "2026-11-25T22:30", "2026-01-02T15:00"])
def test_silence_all_the_way_is_never_a_dead_end(local: LocalApp, at: str) -> None:
    result = local.harness().place(call(local, at))

    assert result.outcome.kind in ("queue", "hangup"), result.outcome
    if result.outcome.kind == "hangup":
        # A goodbye, not a bare hang-up.
        assert result.heard()[-1] == GOODBYE
    # Asked again once, then the line's silence_limit (2) sends the caller on: to a person,
    # or after hours to the other channels and a goodbye.
    assert result.transcript().count("CALLER is silent") == 2


def test_wrong_signature_is_refused_with_403_and_reported(local: LocalApp) -> None:
    result = local.harness(auth_token="not-the-servers-token").place(
        call(local, "2026-11-25T10:00", Press("1"))
    )

    assert result.outcome.kind == "refused"
    assert not result.outcome.ok
    assert "HTTP 403 from /voice/incoming" in result.outcome.detail
    assert "TWILIO_AUTH_TOKEN" in result.outcome.detail
    assert [ex.status for ex in result.exchanges] == [403]
    assert result.transcript() == [f"CALL ENDED: {result.outcome.label()}"]
    with local.services.db.sessions() as session:
        assert session.scalars(select(Call)).all() == []


def test_bad_signature_option_is_refused_too(local: LocalApp) -> None:
    spec = call(local, "2026-11-25T10:00", bad_signature=True)
    assert local.harness().place(spec).outcome.kind == "refused"


def test_speech_at_a_speech_gather_is_sent_as_speech_result(local: LocalApp) -> None:
    result = local.harness().place(call(local, "2026-11-25T10:00", Speak("вопрос про оплату")))

    gather = result.exchanges[1]
    assert gather.params["SpeechResult"] == "вопрос про оплату"
    assert gather.params["Confidence"] == "0.92"
    assert "Digits" not in gather.params
    assert result.outcome.label() == "queue payments"


def test_json_transcript_is_stable_and_lists_verbs(local: LocalApp) -> None:
    spec = call(local, "2026-11-25T10:00", Press("6"), Press("2"), Press("3"))
    first = local.harness().place(spec)
    with LocalApp.start(harness_settings()) as other:
        second = other.harness().place(spec)

    assert first.sid == second.sid
    assert first.to_json_text() == second.to_json_text()
    data = first.to_json()
    assert data["outcome"] == {
        "kind": "queue",
        "target": "services",
        "detail": "",
        "label": "queue services",
    }
    incoming = data["turns"][0]
    assert incoming["request"]["path"] == "/voice/incoming"
    assert incoming["request"]["params"]["CallSid"] == first.sid
    verbs = incoming["response"]["verbs"]
    assert [v["verb"] for v in verbs] == ["Say", "Say", "Say", "Gather", "Redirect"]
    gather = verbs[3]
    assert gather["attrs"]["action"] == PUBLIC_URL + "/voice/step?turn=1"
    assert gather["attrs"]["input"] == "dtmf speech"
    assert gather["children"][0]["verb"] == "Say"
    assert gather["children"][0]["text"].startswith("Чтобы сразу поговорить со специалистом")
    assert verbs[4] == {
        "verb": "Redirect",
        "attrs": {"method": "POST"},
        "text": PUBLIC_URL + "/voice/step?turn=1&ev=timeout",
    }


def test_call_sid_differs_with_the_inputs_and_follows_sid() -> None:
    base = CallSpec(to=MAIN_LINE, inputs=(Press("1"),))
    assert base.call_sid() == CallSpec(to=MAIN_LINE, inputs=(Press("1"),)).call_sid()
    assert base.call_sid() != CallSpec(to=MAIN_LINE, inputs=(Press("2"),)).call_sid()
    assert CallSpec(to=MAIN_LINE, sid="CA" + "f" * 32).call_sid() == "CA" + "f" * 32


def _moment_app(tmp_path: Path, sqlite_url: str, environment: str) -> LocalApp:
    settings = harness_settings(
        environment=environment,
        database_url=sqlite_url,
        var_dir=tmp_path / "var",
        secret_key="k" * 32,
    )
    # Wednesday 10:00: the server's own clock says the line is open.
    return LocalApp(create_app(settings, clock=Clock(parse_moment("2026-11-25T10:00"))))


def test_production_ignores_the_clock_header(tmp_path: Path, sqlite_url: str) -> None:
    with _moment_app(tmp_path, sqlite_url, "production") as production:
        assert production.settings.is_production
        result = production.harness().place(call(production, "2026-11-25T22:30", Press("5")))
    assert result.exchanges[0].headers["X-IVR-Clock"].startswith("2026-11-25T22:30")
    assert result.call_log is not None
    assert result.call_log["path"][2] == "main_menu"


def test_development_honours_the_clock_header(tmp_path: Path, sqlite_url: str) -> None:
    with _moment_app(tmp_path, sqlite_url, "development") as development:
        result = development.harness().place(call(development, "2026-11-25T22:30", Press("4")))
    assert result.call_log is not None
    assert result.call_log["path"][2] == "after_hours"


def test_in_process_settings_never_touch_the_configured_database(tmp_path: Path) -> None:
    configured = harness_settings(
        environment="production",
        database_url=f"sqlite:///{tmp_path}/real.db",
        twilio_auth_token="",
    )
    with LocalApp.start(configured) as local:
        assert local.settings.environment == "development"
        assert local.settings.database_url != configured.database_url
        assert local.settings.twilio_auth_token  # a throwaway token: still signed and checked
        assert not local.settings.skip_signature_check
        result = local.harness().place(call(local, "2026-11-25T22:30"))
    assert result.outcome.ok
    assert not (tmp_path / "real.db").exists()

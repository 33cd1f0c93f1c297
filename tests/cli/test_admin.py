"""Admin commands: request import (errors with lines, idempotence), listings, show."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.cli import main
from ivr.store.db import Database
from ivr.store.models import Callback, Request, Voicemail

GOOD = """number,category,status,created_at,due_at,next_step
123456,documents,in_work,2026-11-20,2026-11-25,Дождитесь ответа в личном кабинете.
7654321,complaint,Ожидает ответа,2026-11-01T09:30,,Ответьте на письмо специалиста.
"""


def run(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"IVR_DATABASE_URL": database_url})


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "requests.csv"
    path.write_text(GOOD, encoding="utf-8")
    return path


def test_import_is_idempotent_and_updates_changed_rows(database_url: str, csv_file: Path) -> None:
    first = run(database_url, "requests", "import", str(csv_file))
    assert first.exit_code == 0, first.output
    assert "Загружено строк: 2 — новых 2, изменено 0, без изменений 0." in first.output
    again = run(database_url, "requests", "import", str(csv_file))
    assert "Загружено строк: 2 — новых 0, изменено 0, без изменений 2." in again.output
    csv_file.write_text(GOOD.replace("in_work", "answered"), encoding="utf-8")
    changed = run(database_url, "requests", "import", str(csv_file))
    assert "Загружено строк: 2 — новых 0, изменено 1, без изменений 1." in changed.output
    db = Database(database_url)
    with db.sessions() as session:
        request = session.get(Request, "123456")
        assert request is not None and request.status == "answered"
        waiting = session.get(Request, "7654321")
        assert waiting is not None and waiting.status == "waiting_for_caller"
        assert waiting.due_at is None
    db.dispose()


def test_bad_rows_are_reported_with_their_lines_and_nothing_is_imported(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "number,category,status,created_at,due_at\n"
        "12345,docs,in_work,2026-11-20,2026-11-25\n"
        "123456,docs,lost,2026-11-20,2026-11-25\n"
        "234567,docs,closed,yesterday,2026-11-25\n"
        "345678,docs,closed,2026-11-20,2026-11-25\n"
        "345678,docs,closed,2026-11-20,2026-11-25\n",
        encoding="utf-8",
    )
    result = run(database_url, "requests", "import", str(path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{path}:2: номер обращения «12345» должен состоять из 6–10 цифр" in lines
    assert (
        f"{path}:3: неизвестный статус «lost»; допустимы: зарегистрировано, в обработке, "
        "в работе, ожидает ответа, ответ получен, закрыто или registered, processing, "
        "in_work, waiting_for_caller, answered, closed" in lines
    )
    assert (
        f"{path}:4: created_at «yesterday» — не дата; нужно 2026-11-25 или 2026-11-25T10:00"
        in lines
    )
    assert f"{path}:6: обращение 345678 уже есть в строке 5" in lines
    assert run(database_url, "requests", "show", "345678").exit_code == 1
    skipped = run(database_url, "requests", "import", "--skip-bad", str(path))
    assert "Загружено строк: 1 — новых 1" in skipped.output
    assert run(database_url, "requests", "show", "345678").exit_code == 0


def test_missing_columns_are_named(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text("number,status\n123456,closed\n", encoding="utf-8")
    result = run(database_url, "requests", "import", str(path))
    assert result.exit_code == 1
    assert f"{path}:1: в заголовке нет столбцов: category, created_at, due_at" in result.output


def test_listings_and_show_in_json(database_url: str, csv_file: Path) -> None:
    run(database_url, "requests", "import", str(csv_file))
    now = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)
    db = Database(database_url)
    with db.transaction() as session:
        session.add(
            Voicemail(
                recording_sid="RE" + "1" * 32,
                call_sid="CA1",
                caller="+79161234567",
                line="+78005553535",
                duration=12,
                request_number="123456",
                status="stored",
                file_path="var/recordings/x.wav",
                download_attempts=1,
                last_error="",
                created_at=now,
            )
        )
        session.add(
            Callback(
                phone="+79161234567",
                line="+78005553535",
                flow="callback",
                request_number="123456",
                slot_start=now,
                slot_end=now,
                status="failed",
                priority=0,
                attempts=3,
                next_attempt_at=now,
                last_result="no-answer",
                outbound_call_sid="",
                booked_call_sid="CA1",
                created_at=now,
                updated_at=now,
            )
        )
    db.dispose()
    voicemails = json.loads(run(database_url, "voicemails", "list", "--json").output)
    assert [(v["request"], v["status"], v["created"]) for v in voicemails] == [
        ("123456", "stored", "2026-11-25 22:00")
    ]
    failed = json.loads(
        run(database_url, "callbacks", "list", "--status", "failed", "--json").output
    )
    assert [(c["phone"], c["attempts"], c["last_result"]) for c in failed] == [
        ("+79161234567", 3, "no-answer")
    ]
    assert (
        json.loads(run(database_url, "callbacks", "list", "--status", "booked", "--json").output)
        == []
    )
    shown = json.loads(run(database_url, "requests", "show", "123456", "--json").output)
    assert shown["status"] == "in_work"
    assert shown["due"] == "2026-11-25 23:59"
    assert [v["status"] for v in shown["voicemails"]] == ["stored"]
    assert [c["status"] for c in shown["callbacks"]] == ["failed"]
    table = run(database_url, "voicemails", "list")
    assert "123456" in table.output and "stored" in table.output


def test_the_call_log_lists_paths_and_masked_inputs(database_url: str, tmp_path: Path) -> None:
    from ivr.web import create_app
    from tests.conftest import Clock, TwilioWebhooks, call_params, make_settings

    clock = Clock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    app = create_app(make_settings(database_url, tmp_path), clock=clock)
    phone = TwilioWebhooks(app.test_client())
    phone.post("/voice/incoming", call_params())
    phone.post("/voice/step?turn=1", call_params(Digits="4"))
    phone.post("/voice/step?turn=2", call_params(Digits="12345678#"))
    app.extensions["ivr"].db.dispose()
    [call] = json.loads(
        run(database_url, "calls", "list", "--line", "8 800 555-35-35", "--json").output
    )
    assert call["path"] == "greeting → hours → main_menu → status_check"
    assert call["inputs"] == "4, ********#"
    assert "12345678" not in json.dumps(call)
    assert (
        json.loads(run(database_url, "calls", "list", "--line", "+74950000000", "--json").output)
        == []
    )

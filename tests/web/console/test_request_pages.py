"""The requests page: look-up with status history, and the CSV import from the browser with
the same ``file:line`` problems as ``ivr requests import``."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from ivr.cli import main
from tests.conftest import Clock
from tests.web.console.conftest import Console, seed_voicemail

HEADER = "number,category,status,created_at,due_at,next_step\n"
GOOD = "7654321,documents,В работе,2026-11-20,2026-12-20,Проверяем документы\n"
BAD = "12,documents,В работе,2026-11-20,2026-12-20,\n"
UNKNOWN_STATUS = "7654322,documents,Потеряно,2026-11-20,,\n"


def _upload(console: Console, text: str, name: str = "statuses.csv", **extra: str) -> str:
    console.get("/console/requests/")
    response = console.post(
        "/console/requests/import",
        {"file": (io.BytesIO(text.encode("utf-8")), name), **extra},
        content_type="multipart/form-data",
    )
    return response.get_data(as_text=True)


def test_look_up_a_request_with_its_history_and_voicemail(
    app: Flask, operator: Console, supervisor: Console, clock: Clock
) -> None:
    _, number = seed_voicemail(app)
    clock.moment += timedelta(hours=1)
    _upload(supervisor, HEADER + f"{number},voicemail,В работе,2026-11-25,2026-11-26,\n")
    page = operator.get(f"/console/requests/?number={number[:4]} {number[4:]}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    history = text.split('id="history"', 1)[1].split("</table>", 1)[0]
    assert history.index("Зарегистрировано") < history.index("В работе")
    assert "голосовое сообщение" in history and "импорт" in history and "supervisor" in history
    assert "25.11.2026 10:00" in history and "25.11.2026 11:00" in history
    assert "Голосовые сообщения" in text.split('id="request"', 1)[1]
    # The operator sees the caller masked here too.
    assert "+* *** ***-**-67" in text


def test_an_unknown_number(operator: Console) -> None:
    page = operator.get("/console/requests/?number=99999999")
    assert page.status_code == 404
    assert "Обращения 99999999 нет." in page.get_data(as_text=True)


def test_import_refuses_a_file_with_a_bad_row_as_the_command_does(
    app: Flask, supervisor: Console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = HEADER + GOOD + BAD + UNKNOWN_STATUS
    page = _upload(supervisor, text)
    assert "Ничего не загружено" in page
    shown = [
        line.split("<li>", 1)[1].split("</li>", 1)[0]
        for line in page.split('class="problems">', 1)[1].split("</ul>", 1)[0].split("</li>")
        if "<li>" in line
    ]
    # The command line says exactly the same of the same file.
    (tmp_path / "statuses.csv").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    cli = CliRunner().invoke(
        main,
        ["requests", "import", "statuses.csv"],
        env={
            "IVR_ENVIRONMENT": "test",
            "IVR_DATABASE_URL": app.extensions["ivr"].settings.database_url,
        },
    )
    assert cli.exit_code == 1
    assert shown == [line for line in cli.stderr.splitlines() if line.startswith("statuses.csv:")]
    assert shown[0] == "statuses.csv:3: номер обращения «12» должен состоять из 6–10 цифр"
    assert supervisor.get("/console/requests/?number=7654321").status_code == 404


def test_import_the_good_rows_when_asked(app: Flask, supervisor: Console) -> None:
    page = _upload(supervisor, HEADER + GOOD + BAD, skip_bad="y")
    assert "Загружено строк: 1 — новых 1, изменено 0, без изменений 0." in page
    assert "Пропущено строк с ошибками: 1." in page
    found = supervisor.get("/console/requests/?number=7654321").get_data(as_text=True)
    assert "В работе" in found and "Проверяем документы" in found
    again = _upload(supervisor, HEADER + GOOD)
    assert "без изменений 1" in again
    audit = supervisor.get("/console/audit/").get_data(as_text=True)
    assert "импорт обращений" in audit and "statuses.csv" in audit


def test_import_names_a_file_that_is_not_utf8(supervisor: Console) -> None:
    supervisor.get("/console/requests/")
    response = supervisor.post(
        "/console/requests/import",
        {"file": (io.BytesIO((HEADER + GOOD).encode("cp1251")), "../../etc/w.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    # The name is the file's own, never a path.
    assert "etc_w.csv:2: файл не в кодировке UTF-8; сохраните его как CSV UTF-8" in page


def test_import_without_a_file(supervisor: Console) -> None:
    supervisor.get("/console/requests/")
    response = supervisor.post("/console/requests/import", content_type="multipart/form-data")
    assert response.status_code == 302
    assert "Выберите файл CSV." in supervisor.get("/console/requests/").get_data(as_text=True)


def test_a_file_larger_than_a_webhook_is_accepted(supervisor: Console) -> None:
    step = "Документы проверяются в ведомстве. " * 6
    rows = "".join(
        f"{1000000 + i},documents,В работе,2026-11-20,2026-12-20,{step}\n" for i in range(5000)
    )
    assert len((HEADER + rows).encode()) > 1024 * 1024
    page = _upload(supervisor, HEADER + rows)
    assert "новых 5000" in page

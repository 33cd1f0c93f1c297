"""The console in a real browser: Playwright driving Debian's Chromium against a real
``ivr serve`` (two workers), with calls placed by ``ivr call``, the local harness.

Skipped, saying why, when Playwright or Chromium is missing. Every page visited is saved as
a screenshot under the test's temporary directory, or ``IVR_SCREENSHOT_DIR`` when set, to be
looked at.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ivr.domain.schedule import MOSCOW, is_public_day_off
from ivr.harness.processes import ServerProcess, free_port, ivr_environ, run_ivr

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN, ADMIN_PASSWORD = "admin", "browser-test-admin-pw"
OPERATOR, OPERATOR_PASSWORD = "anna", "browser-test-operator-pw"
MAIN_LINE = "+78005553535"
# Long enough for a loaded machine; a wait, not a measure of speed.
WAIT_MS = 60_000


@dataclass
class Deployment:
    """A running server, its environment, and where screenshots go."""

    server: ServerProcess
    env: dict[str, str]
    workdir: Path
    recordings_port: int
    shots: Path

    def call(self, *args: str) -> dict[str, Any]:
        """Place a call with the harness against the server; its JSON transcript."""
        result = run_ivr(
            [
                "call",
                "--url",
                self.server.url,
                "--to",
                MAIN_LINE,
                "--recordings-port",
                str(self.recordings_port),
                "--json",
                *args,
            ],
            self.env,
            self.workdir,
        )
        assert result.returncode == 0, result.stderr
        found: dict[str, Any] = json.loads(result.stdout)
        return found


def _tonight() -> str:
    """Today 22:30 in Moscow: the main line is closed (its latest hours end at 20:00)."""
    today = datetime.now(MOSCOW).date()
    return f"{today.isoformat()}T22:30"


def _next_calling_day() -> date:
    """The first day after today the dispatcher calls on (not a public holiday)."""
    day = datetime.now(MOSCOW).date() + timedelta(days=1)
    while is_public_day_off(day):
        day += timedelta(days=1)
    return day


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium under Playwright, or a skip that says what is missing."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install -e '.[dev]')")
    expect.set_options(timeout=WAIT_MS)
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install chromium)")
    playwright = sync_playwright().start()
    try:
        # The page's locale (the context's) does not reach the browser's own widgets (date
        # fields, file buttons): those follow LANGUAGE, given chromium-l10n's Russian.
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env={**os.environ, "LANGUAGE": "ru"}
        )
    except Exception as exc:
        playwright.stop()
        pytest.skip(f"Chromium at {CHROMIUM} did not start: {exc}")
    try:
        yield launched
    finally:
        launched.close()
        playwright.stop()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """``ivr serve`` with two workers on a fresh database, an admin and an operator."""
    workdir = tmp_path_factory.mktemp("console")
    shots = Path(os.environ.get("IVR_SCREENSHOT_DIR") or workdir / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    port, recordings_port = free_port(), free_port()
    env = ivr_environ(
        workdir,
        f"sqlite:///{workdir}/ivr.db",
        port,
        IVR_TWILIO_API_BASE=f"http://127.0.0.1:{recordings_port}",
    )
    assert run_ivr(["db", "upgrade"], env, workdir).returncode == 0
    for login, role, password in (
        (ADMIN, "admin", ADMIN_PASSWORD),
        (OPERATOR, "operator", OPERATOR_PASSWORD),
    ):
        added = _users_add(env, workdir, login, role, password)
        assert added.returncode == 0, added.stderr
    server = ServerProcess(env, workdir, port, workers=2, threads=2).start()
    try:
        yield Deployment(server, env, workdir, recordings_port, shots)
    finally:
        server.stop()


def _users_add(env: dict[str, str], workdir: Path, login: str, role: str, password: str) -> Any:
    import subprocess

    from ivr.harness.processes import IVR

    return subprocess.run(
        [IVR, "users", "add", login, "--role", role, "--name", login.title(), "--password-stdin"],
        input=password + "\n",
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def page(browser: Any, deployment: Deployment) -> Iterator[Any]:
    """A fresh browser context (its own cookies) and page."""
    context = browser.new_context(
        base_url=deployment.server.url, viewport={"width": 1360, "height": 900}, locale="ru-RU"
    )
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def shot(deployment: Deployment, page: Any, name: str) -> None:
    """Save what the page shows, whole."""
    page.screenshot(path=str(deployment.shots / f"{name}.png"), full_page=True)


def sign_in(page: Any, login: str, password: str) -> None:
    page.goto("/console/login")
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(re.compile(r"/console/(dashboard|voicemails)/"))


def test_sign_in_see_a_new_voicemail_play_it_and_mark_it_handled(
    page: Any, deployment: Deployment
) -> None:
    from playwright.sync_api import expect

    page.goto("/console/voicemails/")
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    shot(deployment, page, "01-login")
    page.get_by_label("Логин").fill(ADMIN)
    page.get_by_label("Пароль").fill("not the password")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_contain_text("Неверный логин или пароль")
    shot(deployment, page, "02-login-refused")
    page.get_by_label("Пароль").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/console/voicemails/"))
    expect(page.get_by_text("Необработанных сообщений нет.")).to_be_visible()
    shot(deployment, page, "03-voicemails-empty")

    transcript = deployment.call(
        "--from", "+79161230001", "--at", _tonight(), "--press", "1", "--talk", "6"
    )
    assert any("сообщение сохранено" in said for said in transcript["heard"])

    # The open list refreshes itself: the message appears without reloading the page.
    row = page.locator("tr[id^=voicemail-]").first
    expect(row.locator("audio")).to_be_visible()
    expect(row).to_contain_text("+7 916 123-00-01")
    expect(row).to_contain_text("6 с")
    request_number = row.locator("td.mono").inner_text().strip()
    assert re.fullmatch(r"\d{8}", request_number)

    audio = row.locator("audio")
    duration = audio.evaluate(
        """(el) => new Promise((resolve, reject) => {
            if (el.readyState >= 1) { resolve(el.duration); return; }
            el.addEventListener('loadedmetadata', () => resolve(el.duration), {once: true});
            const failed = () => reject(new Error('audio error ' + (el.error && el.error.code)));
            el.addEventListener('error', failed, {once: true});
            el.load();
        })"""
    )
    assert 5.5 <= duration <= 6.5
    played = audio.evaluate(
        """(el) => el.play().then(() => new Promise((resolve) => {
            const check = () =>
                el.currentTime > 0 ? resolve(el.currentTime) : setTimeout(check, 50);
            check();
        }))"""
    )
    assert played > 0
    audio.evaluate("(el) => el.pause()")
    shot(deployment, page, "04-voicemail-new")

    row.get_by_placeholder("Что сделано (необязательно)").fill("Перезвонили, вопрос решён")
    row.get_by_role("button", name="Обработано").click()
    expect(page.get_by_role("status")).to_contain_text("Сообщение отмечено как обработанное.")
    expect(page.get_by_text("Необработанных сообщений нет.")).to_be_visible()
    page.get_by_role("link", name="Обработанные", exact=True).click()
    handled = page.locator("tr[id^=voicemail-]").first
    expect(handled).to_contain_text("Перезвонили, вопрос решён")
    shot(deployment, page, "05-voicemails-handled")

    page.goto(f"/console/requests/?number={request_number}")
    expect(page.locator("#history")).to_contain_text("Зарегистрировано")
    shot(deployment, page, "06-request")

    page.goto("/console/audit/")
    expect(page.locator("table")).to_contain_text("сообщение обработано")
    expect(page.locator("table")).to_contain_text("сообщение прослушано")
    shot(deployment, page, "07-audit")


def test_reschedule_a_callback(page: Any, deployment: Deployment) -> None:
    from playwright.sync_api import expect

    transcript = deployment.call(
        "--from", "+79161230003", "--at", _tonight(), "--press", "2", "--press", "1", "--press", "1"
    )
    assert any("Готово" in said for said in transcript["heard"])
    # A pass of the dispatcher, so that its state shows (nothing is due yet).
    assert run_ivr(["worker", "--once"], deployment.env, deployment.workdir).returncode == 0
    sign_in(page, ADMIN, ADMIN_PASSWORD)
    page.goto("/console/callbacks/")
    row = page.locator("tr[id^=callback-]", has_text="+7 916 123-00-03")
    expect(row).to_contain_text("записан")
    expect(page.locator("#dispatcher")).to_contain_text("Последний проход")
    shot(deployment, page, "08-callbacks")

    day = _next_calling_day()
    row.get_by_label("Новое время").fill(f"{day.isoformat()}T11:30")
    row.get_by_role("button", name="Перенести").click()
    expect(page.get_by_role("status")).to_contain_text(f"перенесён на {day:%d.%m.%Y} 11:30")
    moved = page.locator("tr[id^=callback-]", has_text="+7 916 123-00-03")
    expect(moved).to_contain_text(f"{day:%d.%m.%Y} 11:30–11:45")
    expect(moved).to_contain_text("перенесён")
    shot(deployment, page, "09-callback-rescheduled")

    page.goto("/console/dashboard/")
    expect(page.locator("#live")).to_contain_text("звонков сейчас")
    shot(deployment, page, "10-dashboard")
    page.goto("/console/calls/")
    expect(page.locator("table")).to_contain_text("заказал звонок")
    shot(deployment, page, "11-calls")
    page.locator("table a").first.click()
    expect(page.locator("ol.path")).to_contain_text("after_hours_menu")
    shot(deployment, page, "12-call")


def test_import_a_csv_with_a_bad_row(page: Any, deployment: Deployment, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    upload = tmp_path / "statuses.csv"
    with upload.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["number", "category", "status", "created_at", "due_at", "next_step"])
        writer.writerow(["7654321", "documents", "В работе", "2026-11-20", "2026-12-20", ""])
        writer.writerow(["12", "documents", "В работе", "2026-11-20", "2026-12-20", ""])
    sign_in(page, ADMIN, ADMIN_PASSWORD)
    page.goto("/console/requests/")
    page.get_by_label("Файл CSV").set_input_files(str(upload))
    page.get_by_role("button", name="Загрузить").click()
    problems = page.locator("#import-problems")
    expect(problems).to_contain_text(
        "statuses.csv:3: номер обращения «12» должен состоять из 6–10 цифр"
    )
    expect(problems).to_contain_text("Ничего не загружено")
    shot(deployment, page, "13-import-refused")

    page.get_by_label("Файл CSV").set_input_files(str(upload))
    page.get_by_label("Загрузить хорошие строки, даже если есть ошибки").check()
    page.get_by_role("button", name="Загрузить").click()
    expect(page.locator("#import-result")).to_contain_text("новых 1")
    shot(deployment, page, "14-import-done")


def test_the_flows_page_shows_the_diagram(page: Any, deployment: Deployment) -> None:
    from playwright.sync_api import expect

    if shutil.which("dot") is None:
        pytest.skip("Graphviz (dot) is not installed: the diagram cannot be drawn")
    sign_in(page, ADMIN, ADMIN_PASSWORD)
    page.goto("/console/flows/")
    expect(page.locator("table")).to_contain_text("hotline")
    shot(deployment, page, "15-flows")
    page.get_by_role("link", name="hotline", exact=True).click()
    image = page.get_by_alt_text("Схема сценария hotline")
    expect(image).to_be_visible()
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    page.get_by_label("Дата").fill("2026-12-31")
    page.get_by_label("Время (по Москве)").fill("21:30")
    page.get_by_role("button", name="Показать").click()
    expect(page.locator("#preview")).to_contain_text("выбирает ветку «праздник» → after_hours")
    shot(deployment, page, "16-flow")


def test_an_operator_sees_masked_numbers_and_no_supervisor_pages(
    page: Any, deployment: Deployment
) -> None:
    from playwright.sync_api import expect

    deployment.call("--from", "+79161230005", "--at", _tonight(), "--press", "1", "--talk", "4")
    sign_in(page, OPERATOR, OPERATOR_PASSWORD)
    expect(page).to_have_url(re.compile(r"/console/voicemails/"))
    row = page.locator("tr[id^=voicemail-]", has_text="05").first
    expect(row).to_contain_text("+* *** ***-**-05")
    expect(page.locator("header nav")).not_to_contain_text("Журнал звонков")
    shot(deployment, page, "17-operator-voicemails")
    response = page.goto("/console/calls/")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("Нет доступа")
    shot(deployment, page, "18-operator-forbidden")

"""The flows pages (admins): the diagram, validation, versions, and "what happens at"."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import TwilioWebhooks, call_params
from tests.web.console.conftest import Console


def test_every_flow_is_listed_and_the_files_are_sound(admin: Console) -> None:
    page = admin.get("/console/flows/").get_data(as_text=True)
    for name in ("hotline", "abroad", "callback", "regional"):
        assert f'href="/console/flows/{name}"' in page
    assert "Файлы сценариев проверены, ошибок нет" in page
    assert "+7 800 555-35-35" in page


def test_a_broken_edit_is_shown_while_the_old_flows_serve(
    app: Flask, admin: Console, tmp_path: Path
) -> None:
    registry = app.extensions["ivr"].registry
    flows = tmp_path / "flows"
    shutil.copytree(registry.flows_dir, flows)
    registry.flows_dir = flows
    (flows / "site_help.yaml").write_text("name: [", encoding="utf-8")
    registry.reload()
    page = admin.get("/console/flows/").get_data(as_text=True)
    assert "в них есть ошибки" in page
    assert "site_help.yaml:1: YAML syntax error" in page
    assert 'href="/console/flows/site_help"' in page  # still served


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
def test_the_diagram_is_the_ivr_graph_svg(app: Flask, admin: Console) -> None:
    from ivr.flows.graph import flow_graph, node_files

    response = admin.get("/console/flows/hotline/diagram.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    flow = app.extensions["ivr"].registry.current().flows["hotline"]
    assert response.data == flow_graph(flow, node_files(flow)).pipe(format="svg")
    page = admin.get("/console/flows/hotline").get_data(as_text=True)
    assert '<img src="/console/flows/hotline/diagram.svg"' in page


def test_without_graphviz_the_page_says_so(admin: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    from ivr.services.console import flow_desk

    monkeypatch.setattr(flow_desk, "_cache", flow_desk.OrderedDict())
    monkeypatch.setattr(flow_desk.shutil, "which", lambda _name: None)
    response = admin.get("/console/flows/abroad/diagram.svg")
    assert response.status_code == 503
    assert "Graphviz" in response.get_data(as_text=True)


def test_an_unknown_flow(admin: Console) -> None:
    assert admin.get("/console/flows/nothing").status_code == 404
    assert admin.get("/console/flows/nothing/diagram.svg").status_code == 404


def test_versions_kept_in_the_database(app: Flask, admin: Console) -> None:
    page = admin.get("/console/flows/hotline").get_data(as_text=True)
    assert "Звонков на этом сценарии ещё не было." in page
    webhooks = TwilioWebhooks(app.test_client())
    webhooks.post("/voice/incoming", call_params("CA" + "1" * 32))
    webhooks.post("/voice/incoming", call_params("CA" + "2" * 32))
    version = app.extensions["ivr"].registry.current().flows["hotline"].version
    page = admin.get("/console/flows/hotline").get_data(as_text=True)
    versions = page.split('id="versions"', 1)[1]
    assert f'<td class="mono">{version}</td><td>25.11.2026 10:00</td><td>2</td>' in versions
    assert "текущая" in versions


def test_what_happens_on_new_years_eve_evening(admin: Console) -> None:
    page = admin.get("/console/flows/hotline?day=2026-12-31&time=21:30").get_data(as_text=True)
    preview = page.split('id="preview"', 1)[1].split("</section>", 1)[0]
    assert "31.12.2026 21:30</strong>: линия закрыта: праздничный или выходной день" in preview
    assert "часы в этот день: 08:00–14:00" in preview
    assert 'выбирает ветку «праздник» → <span class="mono">after_hours</span>' in preview
    assert (
        "Следующее открытие: 01.01.2027 08:00 — звонивший услышит «завтра в восемь часов "
        "по московскому времени»"
    ) in (preview)
    assert (
        "Сейчас линия закрыта. Мы откроемся завтра в восемь часов по московскому времени."
        in preview
    )
    assert "ждёт, что звонивший нажмёт кнопку или скажет" in preview


def test_what_happens_on_a_working_morning(admin: Console) -> None:
    page = admin.get("/console/flows/hotline?day=2026-11-25&time=10:00").get_data(as_text=True)
    preview = page.split('id="preview"', 1)[1].split("</section>", 1)[0]
    assert "линия открыта · рабочий день · часы в этот день: 08:00–20:00" in preview
    assert "выбирает ветку «открыто»" in preview
    assert "Следующее открытие" not in preview


def test_what_happens_in_english_on_the_line_from_abroad(admin: Console) -> None:
    page = admin.get("/console/flows/abroad?day=2026-11-25&time=03:00&lang=en").get_data(
        as_text=True
    )
    preview = page.split('id="preview"', 1)[1].split("</section>", 1)[0]
    assert 'option value="en" selected' in preview
    assert "линия открыта · рабочий день · часы в этот день: 00:00–24:00" in preview
    assert "Hello! You have reached the support line" in preview


def test_a_malformed_moment_falls_back_to_now(admin: Console) -> None:
    page = admin.get("/console/flows/hotline?day=soon&time=25:99").get_data(as_text=True)
    assert "25.11.2026 10:00</strong>: линия открыта" in page

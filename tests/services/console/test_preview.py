"""``what_happens_at``: the engine runs a flow from its start at a chosen moment."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from ivr.domain.schedule import MOSCOW
from ivr.flows.model import Flow
from ivr.flows.registry import load_flow_set
from ivr.services.console.preview import what_happens_at

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def flows() -> dict[str, Flow]:
    found, problems = load_flow_set([ROOT / "flows"], ROOT / "prompts")
    assert found is not None, problems
    return found.flows


def test_a_working_saturday_morning_is_open(flows: dict[str, Flow]) -> None:
    # 27 December 2025 was a working Saturday? Use a plain Saturday at 10:00 instead.
    preview = what_happens_at(flows["hotline"], datetime(2026, 11, 28, 10, 0, tzinfo=MOSCOW))
    assert preview.state == "линия открыта"
    assert preview.day_kind == "выходной"
    assert preview.hours == ["09:00–18:00"]
    assert [(b.node, b.branch, b.target) for b in preview.branches] == [
        ("hours", "open", "main_menu")
    ]
    assert preview.next_opening is None and preview.next_opening_words == ""


def test_a_weekday_evening_names_the_next_opening_as_the_caller_hears_it(
    flows: dict[str, Flow],
) -> None:
    preview = what_happens_at(flows["hotline"], datetime(2026, 11, 27, 21, 0, tzinfo=MOSCOW))
    assert preview.state == "линия закрыта"
    assert preview.branches[0].branch == "closed"
    assert preview.next_opening == datetime(2026, 11, 28, 9, 0, tzinfo=MOSCOW)
    assert preview.next_opening_words == "завтра в девять часов по московскому времени"
    assert (
        "Сейчас линия закрыта. Мы откроемся завтра в девять часов по московскому времени."
        in preview.heard
    )
    assert preview.path[-1] == "after_hours_menu"
    assert preview.stops_at == "ждёт, что звонивший нажмёт кнопку или скажет"


def test_a_moment_in_another_zone_is_read_in_moscow_time(flows: dict[str, Flow]) -> None:
    from datetime import UTC

    # 18:30 UTC is 21:30 in Moscow: closed.
    preview = what_happens_at(flows["hotline"], datetime(2026, 11, 27, 18, 30, tzinfo=UTC))
    assert preview.state == "линия закрыта"


def test_a_flow_without_hours(flows: dict[str, Flow]) -> None:
    preview = what_happens_at(flows["callback"], datetime(2026, 11, 27, 3, 0, tzinfo=MOSCOW))
    assert preview.state == "линия работает круглосуточно"
    assert preview.has_schedule is False
    assert preview.stops_at == "ставит в очередь к специалисту «callbacks»"


def test_a_language_the_flow_does_not_speak_falls_back_to_its_first(
    flows: dict[str, Flow],
) -> None:
    preview = what_happens_at(flows["hotline"], datetime(2026, 11, 27, 10, 0, tzinfo=MOSCOW), "de")
    assert preview.lang == "ru"

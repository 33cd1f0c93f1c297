"""Waiting in a queue: announcements, leaving for a callback by key or because of a long wait."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.domain.schedule import MOSCOW
from ivr.services.actions.callbacks import new_booking
from ivr.store.models import Callback, CallbackSlot, Request, RequestHistory
from ivr.web import create_app
from tests.conftest import ROOT, Clock, TwilioWebhooks, call_params, make_settings

FLOW = """
name: waiting
lines: ["+74950000001", "+74950000002"]
start: line
defaults: {operator: desk, goodbye: goodbye}
nodes:
  line:
    kind: menu
    say: main_menu
    options: {"1": desk, "2": slow_desk}
  desk:
    kind: queue
    queue: desk
    wait: [queue_wait, queue_tip]
    wait_pause: 20
    leave_key: "1"
    leave_offer: callback_offer_in_queue
    leave_after: 40
    on_leave: call_me
  slow_desk:
    kind: queue
    queue: desk
    wait: queue_wait
    max_wait: 120
    on_leave: call_me_now
  call_me: {kind: callback, next: bye}
  call_me_now: {kind: callback, immediate: true, next: bye}
  bye: {kind: hangup}
"""
OFFER = "Чтобы не ждать, нажмите 1, и мы перезвоним вам."


@pytest.fixture
def queue_app(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "waiting.yaml").write_text(FLOW, encoding="utf-8")
    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", prompts)
    with (prompts / "ru.yaml").open("a", encoding="utf-8") as handle:
        handle.write(f"\ncallback_offer_in_queue: {OFFER}\n")
    settings = make_settings(database_url, tmp_path, flows_dir=flows, prompts_dir=prompts)
    app = create_app(settings, clock=clock)
    yield app
    app.extensions["ivr"].db.dispose()


@pytest.fixture
def phone(queue_app: Flask) -> TwilioWebhooks:
    return TwilioWebhooks(queue_app.test_client())


def test_the_offer_to_leave_comes_after_the_wait_and_a_key_leaves(phone: TwilioWebhooks) -> None:
    phone.post("/voice/incoming", call_params(To="+74950000001"))
    enqueue = phone.post("/voice/step?turn=1", call_params(To="+74950000001", Digits="1"))
    assert ">desk</Enqueue>" in enqueue.get_data(as_text=True)
    early = phone.post("/voice/queue/wait", call_params(QueueTime="10", AvgQueueTime="300"))
    assert OFFER not in early.get_data(as_text=True)
    assert early.get_data(as_text=True).endswith('<Pause length="20" /></Response>')
    later = phone.post("/voice/queue/wait", call_params(QueueTime="45")).get_data(as_text=True)
    key_url = "https://ivr.example.test/voice/queue/key?waited=45"
    assert f'<Gather action="{key_url}"' in later and OFFER in later
    other_key = phone.post("/voice/queue/key", call_params(Digits="5", QueueTime="50"))
    assert "<Leave" not in other_key.get_data(as_text=True)
    # A wrong key whose request carries no QueueTime: the offer is made again all the same.
    no_time = phone.post("/voice/queue/key?waited=45", call_params(Digits="5"))
    assert "<Leave" not in no_time.get_data(as_text=True)
    assert OFFER in no_time.get_data(as_text=True)
    left = phone.post("/voice/queue/key", call_params(Digits="1", QueueTime="50"))
    assert left.get_data(as_text=True).endswith("<Leave /></Response>")
    after = phone.post("/voice/step?turn=2", call_params(To="+74950000001", QueueResult="leave"))
    assert "Мы перезвоним на номер" in after.get_data(as_text=True)


def test_a_long_average_wait_leaves_at_once_for_an_immediate_callback(
    phone: TwilioWebhooks, queue_app: Flask
) -> None:
    phone.post("/voice/incoming", call_params(To="+74950000002"))
    phone.post("/voice/step?turn=1", call_params(To="+74950000002", Digits="2"))
    short = phone.post("/voice/queue/wait", call_params(QueueTime="0", AvgQueueTime="60"))
    assert "<Leave" not in short.get_data(as_text=True)
    long = phone.post("/voice/queue/wait", call_params(QueueTime="0", AvgQueueTime="600"))
    assert long.get_data(as_text=True).endswith("<Leave /></Response>")
    booked = phone.post("/voice/step?turn=2", call_params(To="+74950000002", QueueResult="leave"))
    assert "Номер обращения" in booked.get_data(as_text=True)
    with queue_app.extensions["ivr"].db.sessions() as session:
        [callback] = session.scalars(select(Callback)).all()
        assert (callback.phone, callback.priority, callback.status) == ("+79161234567", 1, "booked")


def test_outside_calling_hours_an_immediate_callback_books_the_next_slot_by_itself(
    phone: TwilioWebhooks, queue_app: Flask, clock: Clock
) -> None:
    clock.set(2026, 11, 26, 3, 10)  # nobody dials before 09:00
    phone.post("/voice/incoming", call_params(To="+74950000002"))
    phone.post("/voice/step?turn=1", call_params(To="+74950000002", Digits="2"))
    told = phone.post("/voice/step?turn=2", call_params(To="+74950000002", QueueResult="leave"))
    text = told.get_data(as_text=True)
    assert "в ближайшие" not in text and "Чтобы записаться" not in text
    assert (
        "Мы перезвоним вам сегодня с девяти до девяти пятнадцати по московскому времени: "
        "раньше, к сожалению, не получится." in text
    )
    assert "Чтобы отказаться от звонка, нажмите 2." in text
    with queue_app.extensions["ivr"].db.sessions() as session:
        [callback] = session.scalars(select(Callback)).all()
        assert (callback.kind, callback.priority, callback.status) == ("slot", 0, "booked")
        [slot] = session.scalars(select(CallbackSlot)).all()
        assert slot.booked == 1


def test_the_caller_refuses_the_slot_booked_for_them_and_its_place_is_given_back(
    phone: TwilioWebhooks, queue_app: Flask, clock: Clock
) -> None:
    clock.set(2026, 11, 26, 3, 10)
    phone.post("/voice/incoming", call_params(To="+74950000002"))
    phone.post("/voice/step?turn=1", call_params(To="+74950000002", Digits="2"))
    phone.post("/voice/step?turn=2", call_params(To="+74950000002", QueueResult="leave"))
    refused = phone.post("/voice/step?turn=3", call_params(To="+74950000002", Digits="2"))
    assert "Хорошо, обратный звонок отменён." in refused.get_data(as_text=True)
    with queue_app.extensions["ivr"].db.sessions() as session:
        [callback] = session.scalars(select(Callback)).all()
        assert (callback.status, callback.last_result) == ("canceled", "canceled-by-caller")
        [slot] = session.scalars(select(CallbackSlot)).all()
        assert slot.booked == 0
        # Its request is closed, not left «зарегистрировано» for nobody to follow up.
        request = session.get(Request, callback.request_number)
        assert request is not None and request.status == "closed"
        history = session.scalars(
            select(RequestHistory)
            .where(RequestHistory.number == callback.request_number)
            .order_by(RequestHistory.id)
        ).all()
        assert [(entry.status, entry.source) for entry in history] == [
            ("registered", "callback"),
            ("closed", "callback"),
        ]
        assert history[-1].note == "звонивший отказался от обратного звонка"

    # Twilio repeats the webhook: the request is closed once.
    phone.post("/voice/step?turn=3", call_params(To="+74950000002", Digits="2"))
    with queue_app.extensions["ivr"].db.sessions() as session:
        assert len(session.scalars(select(RequestHistory)).all()) == 2


def test_an_immediate_callback_whose_slot_would_outlast_the_calling_hours_is_not_now(
    phone: TwilioWebhooks, queue_app: Flask, clock: Clock
) -> None:
    clock.set(2026, 11, 26, 19, 50)  # 19:50-20:05: the calls stop at 20:00
    phone.post("/voice/incoming", call_params(To="+74950000002"))
    phone.post("/voice/step?turn=1", call_params(To="+74950000002", Digits="2"))
    told = phone.post("/voice/step?turn=2", call_params(To="+74950000002", QueueResult="leave"))
    text = told.get_data(as_text=True)
    assert "в ближайшие" not in text
    assert "Мы перезвоним вам завтра с девяти до девяти пятнадцати" in text
    with queue_app.extensions["ivr"].db.sessions() as session:
        [callback] = session.scalars(select(Callback)).all()
        assert callback.kind == "slot"


def test_a_booking_for_a_time_does_not_stand_in_the_way_of_a_callback_now(
    phone: TwilioWebhooks, queue_app: Flask, clock: Clock
) -> None:
    clock.set(2026, 11, 26, 10, 0)
    with queue_app.extensions["ivr"].db.sessions() as session, session.begin():
        new_booking(
            session,
            phone="+79161234567",
            line="+74950000002",
            lang="ru",
            request_number="5550001",
            slot=(
                datetime(2026, 11, 26, 15, 0, tzinfo=MOSCOW),
                datetime(2026, 11, 26, 15, 15, tzinfo=MOSCOW),
            ),
            now=datetime(2026, 11, 26, 9, 0, tzinfo=MOSCOW),
            priority=1,
        )
    phone.post("/voice/incoming", call_params(To="+74950000002"))
    phone.post("/voice/step?turn=1", call_params(To="+74950000002", Digits="2"))
    told = phone.post("/voice/step?turn=2", call_params(To="+74950000002", QueueResult="leave"))
    text = told.get_data(as_text=True)
    assert "У вас уже заказан" not in text
    assert "Специалист позвонит вам в ближайшие 15 минут." in text
    with queue_app.extensions["ivr"].db.sessions() as session:
        kinds = sorted(c.kind for c in session.scalars(select(Callback)) if c.status == "booked")
        assert kinds == ["immediate", "slot"]


def test_the_callers_own_long_wait_leaves_the_queue_even_when_the_average_is_short(
    phone: TwilioWebhooks,
) -> None:
    phone.post("/voice/incoming", call_params(To="+74950000002"))
    phone.post("/voice/step?turn=1", call_params(To="+74950000002", Digits="2"))
    short = phone.post("/voice/queue/wait", call_params(QueueTime="100", AvgQueueTime="10"))
    assert "<Leave" not in short.get_data(as_text=True)
    long = phone.post("/voice/queue/wait", call_params(QueueTime="130", AvgQueueTime="10"))
    assert long.get_data(as_text=True).endswith("<Leave /></Response>")

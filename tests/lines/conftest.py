"""Calls to every line of DOMAIN.md through the signed webhooks: a ``phone`` that dials a
number and answers the IVR turn by turn, and the small helpers the line tests share."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from ivr.store.models import Call
from tests.conftest import TwilioWebhooks, call_params

HEAD = '<?xml version="1.0" encoding="UTF-8"?><Response>'
RU = 'language="ru-RU" voice="Polly.Tatyana"'
EN = 'language="en-US" voice="Polly.Joanna"'

# Every number of DOMAIN.md's table as it is printed there (8-… with spaces and dashes),
# with the flow that must answer it.
LINES = {
    "main": ("8 800 555-35-35", "hotline"),
    "abroad": ("+7 495 777-10-00", "abroad"),
    "accessible": ("8 800 100-00-01", "accessible"),
    "hard_of_hearing": ("8 800 200-00-02", "hard_of_hearing"),
    "site_help": ("8 800 300-00-03", "site_help"),
    "one_click": ("8 800 400-00-04", "one_click"),
    "moscow": ("+7 495 123-45-67", "regional"),
    "spb": ("+7 812 234-56-78", "regional"),
}


def say(text: str, voice: str = RU) -> str:
    """``<Say>`` at the normal rate."""
    return f"<Say {voice}>{text}</Say>"


def slow(text: str, voice: str = RU, rate: str = "80%") -> str:
    """``<Say>`` with SSML prosody, as a profile with a rate speaks."""
    return f'<Say {voice}><prosody rate="{rate}">{text}</prosody></Say>'


def pause(seconds: int = 1) -> str:
    return f'<Pause length="{seconds}" />'


def gather(
    turn: int,
    *prompts: str,
    hints: str | None = None,
    timeout: int = 6,
    speech: bool = True,
    language: str = "ru-RU",
) -> str:
    """A menu's ``<Gather>`` and the ``<Redirect>`` Twilio follows when the caller is silent."""
    attrs = [f'action="https://ivr.example.test/voice/step?turn={turn}"']
    if hints:
        attrs.append(f'hints="{hints}"')
    attrs.append(f'input="{"dtmf speech" if speech else "dtmf"}"')
    attrs += [f'language="{language}"', 'method="POST"', 'numDigits="1"']
    if speech:
        attrs.append('speechTimeout="auto"')
    attrs.append(f'timeout="{timeout}"')
    return (
        f"<Gather {' '.join(attrs)}>{''.join(prompts)}</Gather>"
        f"<Redirect "
        f'method="POST">https://ivr.example.test/voice/step?turn={turn}&amp;ev=timeout</Redirect>'
    )


def enqueue(turn: int, queue: str) -> str:
    return (
        f'<Enqueue action="https://ivr.example.test/voice/step?turn={turn}" method="POST" '
        f'waitUrl="https://ivr.example.test/voice/queue/wait" '
        f'waitUrlMethod="POST">{queue}</Enqueue>'
    )


def spoken(twiml: str) -> list[str]:
    """The texts of every ``<Say>`` in a document, in order."""
    return [
        re.sub(r"<[^>]+>", "", body)
        for body in re.findall(r"<Say [^>]*>(.*?)</Say>", twiml, flags=re.S)
    ]


def path_of(app: Flask, call: Phone) -> list[str]:
    """The nodes a call has passed, from the server's call log."""
    with app.extensions["ivr"].db.sessions() as session:
        row = session.get(Call, call.params["CallSid"])
        assert row is not None
        return list(row.path)


def gathers(twiml: str) -> list[dict[str, str]]:
    """The attributes of every ``<Gather>``."""
    return [
        dict(re.findall(r'(\w+)="([^"]*)"', attrs))
        for attrs in re.findall(r"<Gather ([^>]*)>", twiml)
    ]


class Phone:
    """One caller on one call: dials a number, then answers each turn of the IVR."""

    def __init__(self, twilio: TwilioWebhooks, sid: str, to: str, caller: str) -> None:
        self.twilio = twilio
        self.params = call_params(sid=sid, To=to, From=caller)
        self.last = ""

    def _post(self, path: str, **fields: str) -> str:
        response = self.twilio.post(path, {**self.params, **fields})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/xml"
        return response.get_data(as_text=True)

    def _step(self, suffix: str = "", **fields: str) -> str:
        turns = re.findall(r"/voice/step\?turn=(\d+)", self.last)
        assert turns, f"nothing to answer in {self.last!r}"
        self.last = self._post(f"/voice/step?turn={turns[-1]}{suffix}", **fields)
        return self.last

    def dial(self) -> str:
        """The call arrives."""
        self.last = self._post("/voice/incoming")
        return self.last

    def press(self, digits: str) -> str:
        """Keys at the current ``<Gather>``."""
        return self._step(Digits=digits)

    def speak(self, words: str, confidence: str = "0.9") -> str:
        """Speech at the current ``<Gather>``."""
        return self._step(SpeechResult=words, Confidence=confidence)

    def silence(self) -> str:
        """No answer: Twilio follows the ``<Redirect>`` after the ``<Gather>``."""
        return self._step("&ev=timeout")

    def left_queue(self, result: str = "leave") -> str:
        """The ``<Enqueue>`` action: the caller left the queue without a person."""
        return self._step(QueueResult=result, QueueTime="95")

    def queue_wait(self, waited: int, average: int = 0) -> str:
        """Twilio's ``waitUrl`` while the caller holds."""
        return self._post(
            "/voice/queue/wait",
            QueueTime=str(waited),
            AvgQueueTime=str(average),
            QueuePosition="3",
            CurrentQueueSize="5",
        )

    def queue_key(self, digits: str, waited: int) -> str:
        """A key pressed during the queue's wait announcements."""
        return self._post("/voice/queue/key", Digits=digits, QueueTime=str(waited))


PhoneFactory = Callable[..., Phone]

# Texts every line shares (prompts/ru.yaml).
WELCOME = "Здравствуйте! Вы позвонили в службу поддержки портала Госуслуги."
RECORDED = "Разговор записывается, чтобы мы могли улучшать качество помощи."
NO_PASSWORDS = (
    "Помните: наши сотрудники никогда не спрашивают пароли и коды из СМС. Никому их не сообщайте."
)
CONNECTING = "Соединяю вас со специалистом. Пожалуйста, оставайтесь на линии."
QUEUE_WAIT = (
    "Все специалисты сейчас заняты. Пожалуйста, оставайтесь на линии, вам обязательно ответят."
)
GOODBYE = "Спасибо за звонок. До свидания!"
QUEUE_TIP = (
    "Пока вы ждёте: многие вопросы можно решить в чате на портале Госуслуги. "
    "Чат работает круглосуточно."
)
PREPARE = (
    "Чтобы разговор занял меньше времени, приготовьте СНИЛС или ИНН, номер обращения, "
    "если он есть, и коротко сформулируйте вопрос."
)
NAVIGATION_PREPARE = (
    "Пока вы ждёте, откройте, пожалуйста, портал Госуслуги на компьютере или телефоне: так "
    "специалисту будет проще вам помочь."
)
STAY_ON_LINE = (
    "Извините, я вас не слышу. Я повторю медленнее. Если вам нужна помощь, оставайтесь на линии."
)
CALLBACK_OFFER = "Чтобы не ждать, нажмите 1, и мы перезвоним вам."
MAIN_MENU = (
    "Чтобы сразу поговорить со специалистом, нажмите 0. Или выберите тему. Технические "
    "проблемы на портале — нажмите 1. Вход в личный кабинет и восстановление доступа — 2. "
    "Вопросы об услугах и документах — 3. Статус обращения — 4. Оплата и возврат денег — 5. "
    "Жалобы, предложения и другие способы связи — 6. Повторить — звёздочка. Можно назвать "
    "тему своими словами."
)
AFTER_HOURS_MENU = (
    "Оставить голосовое сообщение — нажмите 1. Заказать обратный звонок в рабочее время — 2. "
    "Узнать статус обращения — 3. Другие способы связи — 4. Повторить — звёздочка."
)


@pytest.fixture
def phone(twilio: TwilioWebhooks) -> PhoneFactory:
    """``phone("8 800 100-00-01")``: a new call (its own CallSid) to a number."""
    made: list[Phone] = []

    def make(to: str, caller: str = "+79161234567", sid: str | None = None) -> Phone:
        call = Phone(twilio, sid or "CA" + f"{len(made) + 1:032d}", to, caller)
        made.append(call)
        return call

    return make


class TextStub:
    """Stands in for the ``send_text`` action: records the texts, reports them sent."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, action: Any, ctx: Any) -> Mapping[str, Any]:
        self.texts.append(str(action.args["text"]))
        return {"sent": True}


@pytest.fixture
def sms(app: Flask) -> TextStub:
    """Texts sent by the text alternative, instead of the real messenger (not configured in
    tests, so it reports «not sent»)."""
    stub = TextStub()
    calls = app.extensions["ivr"].calls
    calls.actions = replace(
        calls.actions, in_transaction={**calls.actions.in_transaction, "send_text": stub}
    )
    return stub

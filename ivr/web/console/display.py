"""How the console shows things: Moscow time, phone numbers (masked unless the role may see
them), durations, lines by their flow's title, and statuses in Russian."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from flask import Flask, g

from ivr.domain.privacy import mask_phone
from ivr.domain.schedule import MOSCOW
from ivr.services.console.accounts import ROLE_NAMES
from ivr.store.models import stored_utc
from ivr.web.extension import services

# Who may see a caller's whole number: operators see its last two digits only. They never
# dial by hand (a callback is placed by the dispatcher and put through to them), and the end
# of the number is enough to confirm with the caller that it is theirs (152-FZ: keep
# personal data only where needed).
FULL_NUMBERS_ROLE = "supervisor"

VOICEMAIL_STATUSES = {
    "pending": "загружается",
    "stored": "записано",
    "absent": "пустое",
    "failed": "ошибка записи",
}
CALLBACK_STATUSES = {
    "booked": "записан",
    "dialing": "набираем",
    "retry": "повторим",
    "failed": "не дозвонились",
    "expired": "просрочен",
    "completed": "выполнен",
    "canceled": "отменён",
}
REQUEST_STATUSES = {
    "registered": "Зарегистрировано",
    "processing": "В обработке",
    "in_work": "В работе",
    "waiting_for_caller": "Ожидает ответа",
    "answered": "Ответ получен",
    "closed": "Закрыто",
}
CATEGORIES = {
    "voicemail": "голосовое сообщение",
    "callback": "обратный звонок",
    "escalation": "эскалация просроченного обращения",
    "general": "общий вопрос",
}
SOURCES = {
    "voicemail": "голосовое сообщение",
    "callback": "обратный звонок",
    "escalation": "эскалация",
    "import": "импорт",
    "console": "консоль",
    "call": "звонок",
}
CALL_RESULTS = {
    "completed": "разговор состоялся",
    "busy": "занято",
    "no-answer": "не ответили",
    "failed": "ошибка вызова",
    "canceled": "отменён",
    "not-connected": "не соединили со специалистом",
    "no-status": "нет ответа от Twilio",
    "expired": "просрочен",
    "rescheduled": "перенесён",
    "canceled-by-hand": "отменён вручную",
    "done-by-hand": "выполнен вручную",
    "no-caller-id": "нет номера для вызова",
}


def msk(moment: datetime | None, fmt: str = "%d.%m.%Y %H:%M") -> str:
    """A stored moment in Moscow time."""
    if moment is None:
        return ""
    return stored_utc(moment).astimezone(MOSCOW).strftime(fmt)


def formatted_phone(number: str) -> str:
    """``+79161234567`` → ``+7 916 123-45-67`` (as given when it is no phone number)."""
    try:
        parsed = phonenumbers.parse(number, "RU")
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def may_see_numbers() -> bool:
    """Whether the signed-in account sees callers' whole numbers."""
    account = g.get("account")
    return account is not None and account.may(FULL_NUMBERS_ROLE)


def phone(number: str | None) -> str:
    """A caller's number as this account may see it; «не определён» when unknown."""
    if not number:
        return "не определён"
    shown = formatted_phone(number)
    return shown if may_see_numbers() else mask_phone(shown)


def seconds(value: int | None) -> str:
    """A duration: «45 с», «3 мин 05 с»."""
    if value is None:
        return ""
    if value < 60:
        return f"{value} с"
    minutes, rest = divmod(value, 60)
    return f"{minutes} мин {rest:02d} с" if rest else f"{minutes} мин"


def line_name(number: str) -> str:
    """A line of ours by its flow's title, with the number (empty for none)."""
    if not number:
        return ""
    flow = services().registry.current().for_line(number)
    shown = formatted_phone(number)
    if flow is None:
        return shown
    return f"{flow.title or flow.name} · {shown}"


def register(app: Flask) -> None:
    """Make these the templates' filters and the labels every template can read."""
    app.add_template_filter(msk, "msk")
    app.add_template_filter(phone, "phone")
    app.add_template_filter(seconds, "seconds")
    app.add_template_filter(line_name, "line")
    app.add_template_filter(formatted_phone, "number")

    @app.context_processor
    def labels() -> dict[str, object]:
        return {
            "voicemail_statuses": VOICEMAIL_STATUSES,
            "callback_statuses": CALLBACK_STATUSES,
            "request_statuses": REQUEST_STATUSES,
            "sources": SOURCES,
            "categories": CATEGORIES,
            "call_results": CALL_RESULTS,
            "role_names": ROLE_NAMES,
        }

"""Each line of DOMAIN.md answered at a working hour, after hours and on a public holiday:
whole TwiML documents of the first turn."""

from __future__ import annotations

import pytest

from tests.conftest import Clock
from tests.lines.conftest import (
    AFTER_HOURS_MENU,
    CONNECTING,
    EN,
    HEAD,
    LINES,
    MAIN_MENU,
    NO_PASSWORDS,
    RECORDED,
    WELCOME,
    PhoneFactory,
    enqueue,
    gather,
    pause,
    say,
    slow,
)
from tests.support.hints import AFTER_HOURS_HINTS, MAIN_HINTS, PERSON_HINTS

WORKING = (2026, 11, 25, 10, 0)  # a Wednesday morning
EVENING = (2026, 11, 25, 22, 30)  # the same Wednesday, late
NIGHT = (2026, 11, 26, 3, 0)
NEW_YEAR = (2026, 1, 2, 10, 0)  # a public holiday (the New Year break)
NEW_YEAR_AFTERNOON = (2026, 1, 2, 15, 0)
MAY_DAY = (2026, 5, 1, 10, 0)  # a public holiday, a Friday
MAY_DAY_NIGHT = (2026, 5, 1, 23, 0)

# Each centre says which it is.
REGIONAL_WELCOME = {
    "moscow": "Здравствуйте! Вы позвонили в московский региональный центр поддержки портала "
    "Госуслуги.",
    "spb": "Здравствуйте! Вы позвонили в региональный центр поддержки портала Госуслуги "
    "в Санкт-Петербурге.",
}


def closed(when: str) -> str:
    return say(f"Сейчас линия закрыта. Мы откроемся {when}.")


MAIN_OPEN = gather(1, say(MAIN_MENU), hints=MAIN_HINTS)
AFTER_HOURS = gather(1, say(AFTER_HOURS_MENU), hints=AFTER_HOURS_HINTS)
MAIN_GREETING = say(WELCOME) + say(RECORDED) + say(NO_PASSWORDS)


@pytest.mark.parametrize(
    ("moment", "after_greeting"),
    [
        (WORKING, MAIN_OPEN),
        (EVENING, closed("завтра в восемь часов по московскому времени") + AFTER_HOURS),
        # Public holidays: a short day, 08:00–14:00.
        (NEW_YEAR, MAIN_OPEN),
        (NEW_YEAR_AFTERNOON, closed("завтра в восемь часов по московскому времени") + AFTER_HOURS),
        (MAY_DAY, MAIN_OPEN),
    ],
    ids=["working", "evening", "holiday-morning", "holiday-afternoon", "may-day"],
)
def test_main_line(
    phone: PhoneFactory, clock: Clock, moment: tuple[int, ...], after_greeting: str
) -> None:
    clock.set(*moment)
    body = phone("8 800 555-35-35").dial()
    assert body == HEAD + MAIN_GREETING + after_greeting + "</Response>"


@pytest.mark.parametrize("line", ["moscow", "spb"])
@pytest.mark.parametrize(
    ("moment", "after_greeting"),
    [
        (WORKING, MAIN_OPEN),
        (
            (2026, 11, 25, 18, 0),
            closed("завтра в девять часов по московскому времени") + AFTER_HOURS,
        ),
        (EVENING, closed("завтра в девять часов по московскому времени") + AFTER_HOURS),
        (
            (2026, 11, 28, 12, 0),
            closed("в понедельник в девять часов по московскому времени") + AFTER_HOURS,
        ),
        # Regional centres are closed on public holidays.
        (
            NEW_YEAR,
            closed("двенадцатого января в девять часов по московскому времени") + AFTER_HOURS,
        ),
        (MAY_DAY, closed("в понедельник в девять часов по московскому времени") + AFTER_HOURS),
    ],
    ids=["working", "at-18", "evening", "saturday", "new-year", "may-day"],
)
def test_regional_lines(
    phone: PhoneFactory, clock: Clock, line: str, moment: tuple[int, ...], after_greeting: str
) -> None:
    clock.set(*moment)
    body = phone(LINES[line][0]).dial()
    greeting = say(REGIONAL_WELCOME[line]) + say(RECORDED) + say(NO_PASSWORDS)
    assert body == HEAD + greeting + after_greeting + "</Response>"


LANGUAGE_CHOICE = (
    "Здравствуйте! Вы позвонили в службу поддержки портала Госуслуги. "
    "Чтобы продолжить на русском языке, нажмите 1."
)
# Said by the English voice in the same menu.
FOR_ENGLISH = (
    "Hello! You have reached the support line of the Gosuslugi portal. For English, press 2."
)
ACCESSIBLE_MENU = [
    "Чтобы поговорить со специалистом, скажите «специалист» или нажмите 0.",
    "Узнать статус обращения — скажите «статус» или нажмите 1.",
    "Заказать обратный звонок — скажите «перезвоните» или нажмите 2.",
    "Получить СМС со ссылкой на чат и адресом почты — скажите «СМС» или нажмите 3.",
    "Другие возможности — скажите «другое» или нажмите 4.",
]
ACCESSIBLE_HINTS = (
    "статус, обращение, заявка, перезвонить, обратный звонок, звонок, смс, эсэмэс, эсэмэска, "
    "текст, ссылка, другое, дальше, другие возможности, " + PERSON_HINTS + ", один, два, три, "
    "четыре, ноль"
)


def slow_menu(prompts: list[str]) -> str:
    """A menu at the slow profile: 80 %, a second between options, said twice."""
    once = pause(1).join(slow(text) for text in prompts)
    return once + pause(2) + once


ROUND_THE_CLOCK = {
    "abroad": gather(
        1,
        say(LANGUAGE_CHOICE),
        say(FOR_ENGLISH, voice=EN),
        # A ru-RU recogniser hears "English" as «инглиш»: no Latin words in its hints.
        hints="русский, по русски, английский, по английски, инглиш, "
        + PERSON_HINTS
        + ", один, два, ноль",
    ),
    "accessible": pause(1).join(
        slow(text)
        for text in (
            "Здравствуйте! Это специальная линия поддержки портала Госуслуги. "
            "Отвечайте голосом или кнопками телефона, как вам удобнее.",
            RECORDED,
            NO_PASSWORDS,
        )
    )
    + gather(1, slow_menu(ACCESSIBLE_MENU), hints=ACCESSIBLE_HINTS, timeout=12),
    # The SMS first; it is not configured in tests: the caller (a mobile) is told it did not
    # go. The wait announcement comes from the queue.
    "hard_of_hearing": slow("Здравствуйте! Это поддержка Госуслуг.")
    + pause(1)
    + slow(
        "К сожалению, отправить СМС не получилось. Напишите нам в чат на портале Госуслуги "
        "или на почту: суппорт собака госуслуги точка ру."
    )
    + slow(RECORDED)
    + pause(1)
    + slow(NO_PASSWORDS)
    + enqueue(1, "tty"),
    "site_help": say(
        "Здравствуйте! Это помощь в работе с порталом Госуслуги. Специалист подскажет, как "
        "найти нужную услугу или раздел. Если понадобится, с вашего согласия он подключится "
        "к экрану и покажет, что делать."
    )
    + say(RECORDED)
    + say(NO_PASSWORDS)
    + say(CONNECTING)
    + enqueue(1, "navigation"),
    "one_click": say(
        "Здравствуйте! Это служба поддержки Госуслуг. Сейчас соединю вас со специалистом. "
        "Если ждать придётся долго, мы сами вам перезвоним."
    )
    + say(RECORDED)
    + say(NO_PASSWORDS)
    + enqueue(1, "mobility"),
}


@pytest.mark.parametrize("line", sorted(ROUND_THE_CLOCK))
@pytest.mark.parametrize(
    "moment",
    [WORKING, EVENING, NIGHT, NEW_YEAR, NEW_YEAR_AFTERNOON, MAY_DAY_NIGHT],
    ids=["working", "evening", "night", "new-year", "new-year-afternoon", "may-day-night"],
)
def test_round_the_clock_lines_answer_the_same_at_any_hour(
    phone: PhoneFactory, clock: Clock, line: str, moment: tuple[int, ...]
) -> None:
    clock.set(*moment)
    body = phone(LINES[line][0]).dial()
    assert body == HEAD + ROUND_THE_CLOCK[line] + "</Response>"

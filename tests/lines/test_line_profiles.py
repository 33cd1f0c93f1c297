"""The accessibility profiles of flows/parts/profiles.yaml, as the caller meets them in TwiML:
slower speech (SSML prosody), pauses between options, longer timeouts, a menu that repeats
itself, speech at every menu or keys only; switched on by a line, by a menu option, or by two
silences in a row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.web import create_app
from tests.conftest import Clock, TwilioWebhooks, make_settings
from tests.lines.conftest import (
    CONNECTING,
    HEAD,
    LINES,
    MAIN_MENU,
    STAY_ON_LINE,
    Phone,
    PhoneFactory,
    enqueue,
    gather,
    gathers,
    pause,
    say,
    slow,
    spoken,
)
from tests.support.hints import MAIN_HINTS

ROOT = Path(__file__).resolve().parents[2]
NO_INPUT = "Извините, я вас не слышу."


# -- each profile on a small flow of its own -------------------------------------------------

PROBE_FLOW = """
name: {name}
lines: ["{line}"]
start: menu
{profile}
defaults:
  operator: person
  no_input: no_input
include:
  - parts/profiles.yaml
nodes:
  # Options named by number only: no keywords.
  menu:
    kind: menu
    say: [first, second]
    options:
      "1": {{go: words}}
  # Options with keywords.
  words:
    kind: menu
    say: first
    options:
      "1": {{go: person, keywords: [оплата]}}
  person:
    kind: queue
    queue: general
"""
PROBE_PROMPTS = """
first: Первый вариант — нажмите 1.
second: Второй вариант — нажмите 2.
no_input: Не слышу.
"""


@pytest.fixture
def probe(tmp_path: Path, sqlite_url: str, clock: Clock) -> Iterator[TwilioWebhooks]:
    """An app over three probe flows: no profile, `slow`, `keypad` (the shipped profiles)."""
    flows, prompts = tmp_path / "flows", tmp_path / "prompts"
    (flows / "parts").mkdir(parents=True)
    prompts.mkdir()
    profiles = (ROOT / "flows" / "parts" / "profiles.yaml").read_text(encoding="utf-8")
    (flows / "parts" / "profiles.yaml").write_text(profiles, encoding="utf-8")
    for name, line, profile in (
        ("plain", "+74950000001", ""),
        ("slow", "+74950000002", "profile: slow"),
        ("keypad", "+74950000003", "profile: keypad"),
    ):
        text = PROBE_FLOW.format(name=name, line=line, profile=profile)
        (flows / f"{name}.yaml").write_text(text, encoding="utf-8")
    (prompts / "ru.yaml").write_text(PROBE_PROMPTS, encoding="utf-8")
    settings = make_settings(sqlite_url, tmp_path, flows_dir=flows, prompts_dir=prompts)
    app = create_app(settings, clock=clock)
    yield TwilioWebhooks(app.test_client())
    app.extensions["ivr"].db.dispose()


FIRST, SECOND = "Первый вариант — нажмите 1.", "Второй вариант — нажмите 2."
# The keyword menu's hints: its word, then its key and 0 said as numbers.
WORDS_HINTS = "оплата, один, ноль"


def test_no_profile_plain_speech_and_speech_only_where_there_are_keywords(
    probe: TwilioWebhooks,
) -> None:
    call = Phone(probe, "CA" + "a" * 32, "+74950000001", "+79161234567")
    assert call.dial() == (
        HEAD + gather(1, say(FIRST) + say(SECOND), speech=False, timeout=6) + "</Response>"
    )
    assert call.press("1") == (
        HEAD + gather(2, say(FIRST), hints=WORDS_HINTS, speech=True, timeout=6) + "</Response>"
    )


def test_slow_profile_rate_pauses_timeout_repeat_and_speech_at_every_menu(
    probe: TwilioWebhooks,
) -> None:
    call = Phone(probe, "CA" + "b" * 32, "+74950000002", "+79161234567")
    once = slow(FIRST) + pause(1) + slow(SECOND)
    # 80 % rate, a second between the options, the menu said twice, 12 s to answer, and
    # speech accepted although the menu has no keywords (option numbers may be said).
    assert call.dial() == (
        HEAD
        + gather(1, once + pause(2) + once, speech=True, timeout=12, hints="один, ноль")
        + "</Response>"
    )
    assert call.press("1") == (
        HEAD
        + gather(2, slow(FIRST) + pause(2) + slow(FIRST), hints=WORDS_HINTS, timeout=12)
        + "</Response>"
    )


def test_slow_profile_takes_option_numbers_by_voice(probe: TwilioWebhooks) -> None:
    call = Phone(probe, "CA" + "c" * 32, "+74950000002", "+79161234567")
    call.dial()
    assert f'hints="{WORDS_HINTS}"' in call.speak("один")


def test_keypad_profile_is_slow_but_never_listens_for_speech(probe: TwilioWebhooks) -> None:
    call = Phone(probe, "CA" + "d" * 32, "+74950000003", "+79161234567")
    once = slow(FIRST) + pause(1) + slow(SECOND)
    assert call.dial() == (
        HEAD + gather(1, once + pause(2) + once, speech=False, timeout=12) + "</Response>"
    )
    # Keys only even where the menu has keywords: no speech, no hints.
    assert call.press("1") == (
        HEAD
        + gather(2, slow(FIRST) + pause(2) + slow(FIRST), speech=False, timeout=12)
        + "</Response>"
    )


# -- the general accessible line: the slow profile for every call ---------------------------


def accessible(phone: PhoneFactory, caller: str = "+79161234567") -> Phone:
    call = phone(LINES["accessible"][0], caller=caller)
    call.dial()
    return call


def test_accessible_line_speaks_slowly_everywhere_and_listens_at_every_menu(
    phone: PhoneFactory,
) -> None:
    call = accessible(phone)
    bodies = [call.last, call.press("4"), call.press("1")]
    for body in bodies:
        texts = spoken(body)
        assert texts
        assert body.count('<prosody rate="80%">') == len(texts)
        assert '<Pause length="1" />' in body
    for body in bodies:
        (menu,) = gathers(body)
        assert menu["input"] == "dtmf speech"
        assert menu["timeout"] == "12"
    # The more-options menu has four options and a person.
    assert spoken(bodies[1])[:5] == [
        "Чат, почта и другие способы связи — скажите «чат» или нажмите 1.",
        "Если вам удобнее отвечать только кнопками, скажите «кнопки» или нажмите 2.",
        "Снова отвечать и голосом, и кнопками — нажмите 3.",
        "Вернуться к началу — скажите «назад» или нажмите 9.",
        "Чтобы поговорить со специалистом, скажите «специалист» или нажмите 0.",
    ]
    # The other channels, then the first menu again.
    assert "суппорт собака госуслуги точка ру" in spoken(bodies[2])[0]


@pytest.mark.parametrize(
    ("words", "heard"),
    [
        ("два", "Мы перезвоним на номер"),
        ("перезвоните мне", "Мы перезвоним на номер"),
        ("один", "Введите, пожалуйста, номер обращения"),
        ("ноль", CONNECTING),
        ("позовите специалиста", CONNECTING),
    ],
)
def test_accessible_line_takes_option_numbers_and_words_by_voice(
    phone: PhoneFactory, words: str, heard: str
) -> None:
    body = accessible(phone).speak(words)
    assert any(text.startswith(heard) for text in spoken(body)), spoken(body)


def test_accessible_line_switches_to_keys_only_and_back(phone: PhoneFactory) -> None:
    call = accessible(phone)
    call.press("4")
    keys = call.speak("мне удобнее кнопки")
    assert spoken(keys)[0] == "Хорошо. Теперь я жду только нажатий на кнопки."
    (menu,) = gathers(keys)
    assert menu["input"] == "dtmf"
    assert "hints" not in menu
    assert keys.count('<prosody rate="80%">') == len(spoken(keys))
    more = call.press("4")
    assert gathers(more)[0]["input"] == "dtmf"
    voice = call.press("3")
    assert spoken(voice)[0] == "Хорошо. Теперь можно снова отвечать голосом."
    assert gathers(voice)[0]["input"] == "dtmf speech"


def test_accessible_line_silence_is_told_a_person_will_come_then_a_person_comes(
    phone: PhoneFactory,
) -> None:
    call = accessible(phone)
    told = (
        "Извините, я вас не слышу. Если вам нужна помощь, оставайтесь на линии: "
        "я соединю вас со специалистом."
    )
    # Told once that a person will come; the second silence in a row (the line's
    # silence_limit) keeps that promise, although the menu allows three retries.
    body = call.silence()
    assert spoken(body)[0] == told
    assert "<Gather" in body
    assert call.silence().endswith(enqueue(3, "accessible") + "</Response>")


def test_a_keypad_caller_is_offered_keys_only(phone: PhoneFactory) -> None:
    call = accessible(phone)
    call.press("4")
    body = call.press("2")
    assert gathers(body)[0]["input"] == "dtmf"
    # Nothing says «скажите»: the menu is read in its keys-only wording.
    assert spoken(body) == [
        "Хорошо. Теперь я жду только нажатий на кнопки.",
        *[
            "Чтобы поговорить со специалистом, нажмите 0.",
            "Узнать статус обращения — нажмите 1.",
            "Заказать обратный звонок — нажмите 2.",
            "Получить СМС со ссылкой на чат и адресом почты — нажмите 3.",
            "Другие возможности — нажмите 4.",
        ]
        * 2,
    ]


def test_a_keypad_caller_who_falls_silent_gets_speech_back(phone: PhoneFactory) -> None:
    call = accessible(phone)
    call.press("4")
    call.press("2")
    # The first silence brings speech back (silence_switch_after 1).
    assert gathers(call.silence())[0]["input"] == "dtmf speech"


# -- a silence on any line with menus: the slow profile; the second in a row: a person ----


def slow_main_menu(turn: int) -> str:
    return gather(turn, slow(MAIN_MENU) + pause(2) + slow(MAIN_MENU), hints=MAIN_HINTS, timeout=12)


@pytest.mark.parametrize("line", ["main", "moscow", "spb"])
def test_a_silence_switches_to_the_slow_profile_and_the_second_reaches_a_person(
    phone: PhoneFactory, line: str
) -> None:
    call = phone(LINES[line][0])
    call.dial()
    assert call.silence() == HEAD + slow(STAY_ON_LINE) + slow_main_menu(2) + "</Response>"
    # Never dropped: a person, and the rest of the call stays slow.
    assert call.silence() == HEAD + slow(CONNECTING) + enqueue(3, "general") + "</Response>"


def test_the_slow_profile_stays_on_for_the_rest_of_the_call(phone: PhoneFactory) -> None:
    call = phone(LINES["main"][0])
    call.dial()
    call.silence()
    tech = call.press("1")
    assert gathers(tech)[0]["timeout"] == "12"
    assert tech.count('<prosody rate="80%">') == len(spoken(tech)) == 2


def test_a_silence_between_answers_does_not_count_towards_the_limit(
    phone: PhoneFactory,
) -> None:
    call = phone(LINES["main"][0])
    call.dial()
    call.silence()
    call.press("1")
    body = call.silence()
    # Asked again (slowly: the call switched at the first silence), not sent to a person.
    assert spoken(body)[0] == NO_INPUT
    assert "<Gather" in body and "<Enqueue" not in body


def test_after_hours_a_silence_also_switches_to_slow(phone: PhoneFactory, clock: Clock) -> None:
    clock.set(2026, 11, 25, 22, 30)
    call = phone(LINES["moscow"][0])
    call.dial()
    body = call.silence()
    # Slower, but after hours nobody works: no person is promised.
    assert spoken(body)[0] == "Извините, я вас не слышу. Я повторю медленнее."
    assert gathers(body)[0]["timeout"] == "12"
    assert body.count('<prosody rate="80%">') == len(spoken(body))
    # The second silence: the other channels and a goodbye, never silence.
    assert call.silence().endswith("До свидания!</prosody></Say><Hangup /></Response>")


def test_abroad_line_switches_to_slow_in_the_callers_language(phone: PhoneFactory) -> None:
    call = phone(LINES["abroad"][0], caller="+447700900123")
    call.dial()
    call.press("2")
    body = call.silence()
    assert (
        '<Say language="en-US" voice="Polly.Joanna"><prosody rate="80%">Sorry, I did not hear '
        "you. I will repeat that more "
        "slowly. If you need help, please stay on the line.</prosody></Say>"
    ) in body
    assert gathers(body)[0]["timeout"] == "12"


def test_abroad_language_menu_silence_switches_then_reaches_a_person(
    phone: PhoneFactory,
) -> None:
    call = phone(LINES["abroad"][0], caller="+447700900123")
    call.dial()
    assert spoken(call.silence())[0] == STAY_ON_LINE
    assert call.silence().endswith(enqueue(3, "general") + "</Response>")

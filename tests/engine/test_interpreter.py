"""Calls through the shipped main hotline, turn by turn, with whole step lists compared."""

from __future__ import annotations

import copy
from dataclasses import MISSING, fields
from datetime import UTC, datetime

import pytest

from ivr.domain.schedule import MOSCOW
from ivr.engine.interpreter import MAX_HOPS, EngineError, Turn, advance, new_state
from ivr.engine.state import CallState, Event
from ivr.engine.steps import Enqueue, Gather, Hangup, Pause, Say, Step
from ivr.flows.model import Flow
from tests.support.hints import AFTER_HOURS_HINTS, MAIN_HINTS, TECH_HINTS


def msk(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MOSCOW)


# Wednesday 25 November 2026, 10:00: the main line is open (Mon–Fri 08–20).
OPEN = msk(2026, 11, 25, 10)

CLOSED_TOMORROW_AT_8 = (
    "Сейчас линия закрыта. Мы откроемся завтра в восемь часов по московскому времени."
)
TIP_SMS = (
    "Код из СМС иногда приходит с задержкой до пяти минут. Проверьте, что телефон в сети, "
    "и не запрашивайте код много раз подряд. Сейчас соединю вас со специалистом."
)


# The support address as the Russian voice says it ({support_email} in the prompt texts).
SUPPORT_EMAIL_SAID = "суппорт собака госуслуги точка ру"


def say(flow: Flow, prompt_id: str, rate: str | None = None) -> Say:
    text = flow.prompt_text("ru", prompt_id).replace("{support_email}", SUPPORT_EMAIL_SAID)
    return Say(text, "ru", prompt_id=prompt_id, rate=rate)


def slow(flow: Flow, prompt_id: str) -> Say:
    """A prompt in the slow profile the hotline switches to after two silences."""
    return say(flow, prompt_id, rate="80%")


def greeting(flow: Flow) -> list[Step]:
    return [say(flow, "welcome"), say(flow, "recording_notice"), say(flow, "no_passwords")]


HINTS = {"main_menu": MAIN_HINTS, "tech_menu": TECH_HINTS, "after_hours_menu": AFTER_HOURS_HINTS}


def menu(flow: Flow, node_id: str, slowly: bool = False) -> Gather:
    """The Gather of a hotline menu: its prompt, keys and speech, with the hints above.
    ``slowly``: in the slow profile, which speaks at 80 %, says the menu twice with a pause
    and waits 12 s."""
    prompts: tuple[Say | Pause, ...] = (say(flow, node_id),)
    if slowly:
        prompts = (slow(flow, node_id), Pause(2), slow(flow, node_id))
    return Gather(
        prompts=prompts,
        lang="ru",
        dtmf=True,
        speech=True,
        timeout=12 if slowly else 6,
        num_digits=1,
        hints=tuple(HINTS[node_id].split(", ")),
    )


def operator(flow: Flow, slowly: bool = False) -> list[Step]:
    return [say(flow, "connecting", "80%" if slowly else None), Enqueue("general", "operator")]


def digits(keys: str) -> Event:
    return Event("digits", digits=keys)


def speech(text: str) -> Event:
    return Event("speech", speech=text, confidence=0.9)


def start(flow: Flow, now: datetime = OPEN) -> Turn:
    return advance(flow, new_state(flow), Event.start(), now)


def then(flow: Flow, turn: Turn, event: Event, now: datetime = OPEN) -> Turn:
    return advance(flow, turn.state, event, now)


def test_a_new_call_state_names_the_flow_version_and_first_language(hotline: Flow) -> None:
    assert new_state(hotline, {"caller": "+79161234567"}) == CallState(
        flow="hotline",
        version=hotline.version,
        lang="ru",
        vars={"caller": "+79161234567"},
    )


def test_in_working_hours_the_greeting_is_followed_by_the_main_menu(hotline: Flow) -> None:
    turn = start(hotline)
    assert turn.steps == [*greeting(hotline), menu(hotline, "main_menu")]
    assert turn.action is None
    assert turn.state == CallState(
        flow="hotline",
        version=hotline.version,
        lang="ru",
        node="main_menu",
        path=["greeting", "hours", "main_menu"],
    )
    assert turn.steps[0] == Say(
        "Здравствуйте! Вы позвонили в службу поддержки портала Госуслуги.",
        "ru",
        prompt_id="welcome",
    )


def test_key_1_opens_the_tech_menu(hotline: Flow) -> None:
    turn = then(hotline, start(hotline), digits("1"))
    assert turn.steps == [menu(hotline, "tech_menu")]
    assert turn.state.node == "tech_menu"
    assert turn.state.path[-1] == "tech_menu"


def test_star_repeats_the_menu_without_counting_a_miss(hotline: Flow) -> None:
    missed = then(hotline, start(hotline), Event.timeout())
    assert missed.state.attempts == {"main_menu": 1}
    repeated = then(hotline, missed, digits("*"))
    assert repeated.steps == [menu(hotline, "main_menu", slowly=True)]
    assert repeated.state.attempts == {"main_menu": 1}
    # The star was no miss, and it broke the run of silences: the next silence is asked
    # again (the call is slow already), only the one after it reaches a person.
    missed_again = then(hotline, repeated, Event.timeout())
    assert missed_again.steps == [
        slow(hotline, "no_input"),
        menu(hotline, "main_menu", slowly=True),
    ]
    assert missed_again.state.attempts == {"main_menu": 2}
    third = then(hotline, missed_again, Event.timeout())
    assert third.steps == operator(hotline, slowly=True)


def test_saying_repeat_repeats_the_menu_without_counting_a_miss(hotline: Flow) -> None:
    turn = then(hotline, start(hotline), speech("Повторите, пожалуйста"))
    assert turn.steps == [menu(hotline, "main_menu")]
    assert turn.state.attempts == {}


def test_zero_goes_to_the_general_operator_queue(hotline: Flow) -> None:
    turn = then(hotline, start(hotline), digits("0"))
    assert turn.steps == [say(hotline, "connecting"), Enqueue("general", "operator")]
    assert turn.state.node == "operator"
    assert not turn.state.done


def test_zero_in_a_submenu_also_goes_to_the_operator(hotline: Flow) -> None:
    tech = then(hotline, start(hotline), digits("1"))
    assert then(hotline, tech, digits("0")).steps == operator(hotline)


def test_asking_for_a_person_goes_to_the_operator(hotline: Flow) -> None:
    turn = then(hotline, start(hotline), speech("соедините с оператором"))
    assert turn.steps == operator(hotline)


def test_a_silence_slows_the_call_down_and_the_second_in_a_row_reaches_the_operator(
    hotline: Flow,
) -> None:
    turn = start(hotline)
    turn = then(hotline, turn, Event.timeout())
    # Slower, and the caller hears that a person is coming.
    assert turn.steps == [
        slow(hotline, "stay_on_line"),
        menu(hotline, "main_menu", slowly=True),
    ]
    assert (turn.state.attempts, turn.state.profile) == ({"main_menu": 1}, "slow")
    # The second silence in a row: the flow's silence_limit, whatever retries are left.
    turn = then(hotline, turn, Event.timeout())
    assert turn.steps == operator(hotline, slowly=True)
    assert turn.state.node == "operator"
    assert turn.state.attempts == {}


def test_wrong_keys_use_the_retries_but_silences_the_silence_limit(hotline: Flow) -> None:
    turn = start(hotline)
    for _ in range(2):  # retries 2: asked again twice
        turn = then(hotline, turn, digits("7"))
        assert turn.state.node == "main_menu"
    assert then(hotline, turn, digits("7")).steps == operator(hotline)
    # A silence after a wrong key is the first in a row: asked again, not sent on.
    after_wrong_key = then(hotline, then(hotline, start(hotline), digits("7")), Event.timeout())
    assert after_wrong_key.state.node == "main_menu"


def test_an_answer_in_between_starts_the_count_of_silences_again(hotline: Flow) -> None:
    turn = then(hotline, start(hotline), Event.timeout())
    turn = then(hotline, turn, digits("1"))  # the technical-problems menu
    turn = then(hotline, turn, Event.timeout())
    assert turn.state.node == "tech_menu"
    assert then(hotline, turn, Event.timeout()).state.node == "operator"


@pytest.mark.parametrize("key", ["7", "#"])
def test_a_wrong_key_says_no_match_and_asks_again(hotline: Flow, key: str) -> None:
    turn = then(hotline, start(hotline), digits(key))
    assert turn.steps == [
        Say("Извините, такого варианта нет.", "ru", prompt_id="no_match"),
        menu(hotline, "main_menu"),
    ]
    assert turn.state.node == "main_menu"
    assert turn.state.attempts == {"main_menu": 1}


def test_speech_about_sms_at_the_tech_menu_gives_the_sms_tip_then_the_tech_queue(
    hotline: Flow,
) -> None:
    tech = then(hotline, start(hotline), digits("1"))
    turn = then(hotline, tech, speech("у меня не приходит смс"))
    assert turn.steps == [
        Say(TIP_SMS, "ru", prompt_id="tip_sms"),
        say(hotline, "hold_on"),
        Enqueue("tech", "to_tech"),
    ]
    assert turn.state.node == "to_tech"
    assert turn.state.path[-3:] == ["tech_menu", "tip_sms", "to_tech"]


def after_hours(flow: Flow, closed_text: str) -> list[Step]:
    """What a caller hears when the line is closed: when it opens, then what can be done."""
    return [
        *greeting(flow),
        Say(closed_text, "ru", prompt_id="closed"),
        menu(flow, "after_hours_menu"),
    ]


def channels_and_goodbye(flow: Flow, rate: str | None = None) -> list[Step]:
    """The channels, then goodbye; in the slow profile with its one-second pause between."""
    pause: list[Step] = [Pause(1)] if rate else []
    return [
        say(flow, "channels", rate),
        *pause,
        Say("Спасибо за звонок. До свидания!", "ru", prompt_id="goodbye", rate=rate),
        Hangup(),
    ]


@pytest.mark.parametrize(
    "now",
    [msk(2026, 11, 25, 22), datetime(2026, 11, 25, 19, 0, tzinfo=UTC)],
    ids=["moscow-time", "utc-time"],
)
def test_after_hours_the_caller_hears_when_the_line_opens(hotline: Flow, now: datetime) -> None:
    turn = start(hotline, now)
    assert turn.steps == after_hours(hotline, CLOSED_TOMORROW_AT_8)
    assert turn.state.node == "after_hours_menu"
    assert turn.state.path == ["greeting", "hours", "after_hours", "after_hours_menu"]


def test_after_hours_the_caller_can_hear_the_other_channels_and_goodbye(hotline: Flow) -> None:
    late = msk(2026, 11, 25, 22)
    turn = then(hotline, start(hotline, late), digits("4"), late)
    assert turn.steps == channels_and_goodbye(hotline)
    assert turn.state.done
    assert turn.state.node is None


def test_after_hours_zero_says_nobody_answers_until_the_line_opens(hotline: Flow) -> None:
    late = msk(2026, 11, 25, 22)
    turn = then(hotline, start(hotline, late), digits("0"), late)
    assert turn.steps == [
        Say(
            "Специалисты сейчас не работают. "
            "Линия откроется завтра в восемь часов по московскому времени.",
            "ru",
            prompt_id="no_operators",
        ),
        menu(hotline, "after_hours_menu"),
    ]


def test_after_hours_silence_ends_with_the_other_channels(hotline: Flow) -> None:
    late = msk(2026, 11, 25, 22)
    turn = start(hotline, late)
    # Slower after a silence, but nobody works now: no person is promised.
    turn = then(hotline, turn, Event.timeout(), late)
    assert turn.steps == [
        slow(hotline, "slower_again"),
        menu(hotline, "after_hours_menu", slowly=True),
    ]
    last = then(hotline, turn, Event.timeout(), late)
    assert last.steps == channels_and_goodbye(hotline, "80%")


def test_before_opening_the_line_opens_today(hotline: Flow) -> None:
    # Sunday 29 November 2026, 09:00: Sundays open at 10:00.
    turn = start(hotline, msk(2026, 11, 29, 9))
    assert turn.steps == after_hours(
        hotline,
        "Сейчас линия закрыта. Мы откроемся сегодня в десять часов по московскому времени.",
    )


def test_a_public_holiday_has_short_hours(hotline: Flow) -> None:
    # 2 January 2026 is a public holiday: open 08:00–14:00 only.
    assert start(hotline, msk(2026, 1, 2, 15)).steps == after_hours(hotline, CLOSED_TOMORROW_AT_8)
    assert start(hotline, msk(2026, 1, 2, 10)).steps == [
        *greeting(hotline),
        menu(hotline, "main_menu"),
    ]


@pytest.mark.parametrize("result", ["bridged", "hangup", "bridging-in-progress"])
def test_a_caller_who_reached_a_person_or_hung_up_is_done(hotline: Flow, result: str) -> None:
    queued = then(hotline, start(hotline), digits("0"))
    turn = then(hotline, queued, Event("queue", data={"result": result}))
    assert turn.steps == [Hangup()]
    assert turn.state.done


@pytest.mark.parametrize("result", ["queue-full", "leave", "error"])
def test_a_caller_who_left_the_queue_goes_to_its_on_leave_node(hotline: Flow, result: str) -> None:
    queued = then(hotline, start(hotline), digits("0"))
    turn = then(hotline, queued, Event("queue", data={"result": result}))
    # The queues offer a callback instead of waiting; leaving goes to its booking, which
    # asks for a number to call (this test's call has no caller number).
    assert turn.steps == [
        Gather(
            prompts=(say(hotline, "callback_enter_number"),),
            lang="ru",
            timeout=15,
            num_digits=None,
            finish_on_key="#",
        )
    ]
    assert not turn.state.done
    assert turn.state.path[-2:] == ["operator", "queue_callback"]


def test_advance_does_not_change_the_state_it_is_given(hotline: Flow) -> None:
    first = start(hotline)
    before = copy.deepcopy(first.state)
    missed = then(hotline, first, Event.timeout())
    chosen = then(hotline, first, digits("1"))
    assert first.state == before
    assert missed.state != before
    assert chosen.state != before
    assert missed.state.attempts is not first.state.attempts
    assert chosen.state.path is not first.state.path


def test_the_same_turn_always_gives_the_same_result(hotline: Flow) -> None:
    first = start(hotline)
    assert then(hotline, first, Event.timeout()) == then(hotline, first, Event.timeout())


def test_a_stored_state_continues_the_call_the_same_way(hotline: Flow) -> None:
    first = start(hotline)
    stored = CallState.from_json(first.state.to_json())
    assert stored == first.state
    assert advance(hotline, stored, digits("1"), OPEN) == then(hotline, first, digits("1"))


@pytest.mark.parametrize("event", [Event.start(), digits("1"), Event.timeout()])
def test_a_finished_call_only_answers_hang_up(hotline: Flow, event: Event) -> None:
    queued = then(hotline, start(hotline), digits("0"))
    done = then(hotline, queued, Event("queue", data={"result": "bridged"}))
    assert done.state.done
    turn = advance(hotline, done.state, event, OPEN)
    assert turn == Turn([Hangup()], done.state)


def test_a_naive_time_is_refused(hotline: Flow) -> None:
    with pytest.raises(EngineError, match="aware datetime"):
        advance(hotline, new_state(hotline), Event.start(), datetime(2026, 11, 25, 10))
    turn = start(hotline)
    with pytest.raises(EngineError, match="aware datetime"):
        advance(hotline, turn.state, digits("1"), datetime(2026, 11, 25, 10))


def test_a_flow_that_never_waits_is_stopped_instead_of_spinning() -> None:
    # The validator refuses such a flow; the engine must still not loop forever on one.
    flow = Flow.model_validate(
        {
            "name": "spin",
            "start": "a",
            "nodes": {"a": {"kind": "goto", "to": "b"}, "b": {"kind": "goto", "to": "a"}},
        }
    )
    with pytest.raises(EngineError, match=f"flow 'spin' passed {MAX_HOPS} nodes without waiting"):
        advance(flow, new_state(flow), Event.start(), OPEN)


def test_a_state_survives_its_json_form(hotline: Flow) -> None:
    state = then(hotline, start(hotline), Event.timeout()).state
    data = state.to_json()
    assert set(data) == {f.name for f in fields(CallState)}
    assert CallState.from_json(data) == state


def test_a_copy_of_a_state_is_equal_and_independent() -> None:
    state = CallState(
        flow="hotline",
        version="v1",
        lang="en",
        profile="slow",
        node="main_menu",
        attempts={"main_menu": 1},
        vars={"caller": "+79161234567"},
        path=["greeting", "main_menu"],
        done=True,
    )
    # Every field is set apart from its default, so a field the copy forgets shows.
    for f in fields(CallState):
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        assert getattr(state, f.name) != default, f.name
    copy = state.copy()
    assert copy == state
    copy.attempts["main_menu"] = 2
    copy.vars["lang"] = "ru"
    copy.path.append("tech_menu")
    assert (state.attempts, state.vars, state.path) == (
        {"main_menu": 1},
        {"caller": "+79161234567"},
        ["greeting", "main_menu"],
    )

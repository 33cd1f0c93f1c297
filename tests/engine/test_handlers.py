"""What each node kind does, on small flows written here (prompt texts in conftest.PROMPTS)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from ivr.domain.schedule import MOSCOW
from ivr.engine.handlers import HANDLERS
from ivr.engine.interpreter import Turn, advance, new_state
from ivr.engine.state import Event
from ivr.engine.steps import Dial, Enqueue, Gather, Hangup, Pause, Say
from ivr.flows.model import Flow
from ivr.flows.nodes import NODE_KINDS

MakeFlow = Callable[[str], Flow]

# Wednesday 25 November 2026, 10:00 Moscow time.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW)

MENUS = """
name: menus
languages: [ru, en]
start: hello
defaults:
  operator: operator
  no_input: no_input
  no_match: no_match
  goodbye: goodbye
  repeat_keywords: [повтор]
  operator_keywords: [оператор]
nodes:
  hello: {kind: prompt, say: hello, pause: 1.6, next: menu}
  menu:
    kind: menu
    say: menu
    options:
      "1": {go: tip, keywords: [совет, главное меню]}
      "2": sub
      "9": {go: menu, lang: en, keywords: [english]}
  sub:
    kind: menu
    say: sub
    timeout: 10
    retries: 1
    no_input: again
    no_match: wrong
    on_failure: sorry
    options:
      "0": desk
      "1": menu
  tip: {kind: prompt, say: tip, next: bye}
  sorry: {kind: hangup, say: sorry}
  operator: {kind: queue, queue: general, say: connecting, wait: wait}
  desk: {kind: queue, queue: desk}
  bye: {kind: hangup}
"""


def ru(prompt_id: str, text: str) -> Say:
    return Say(text, "ru", prompt_id=prompt_id)


MENU = Gather(
    prompts=(ru("menu", "Меню."),),
    lang="ru",
    speech=True,
    timeout=6,
    # Whole words in the gather's language (not "english"), then the keys' numbers.
    hints=("совет", "главное меню", "оператор", "один", "два", "девять", "ноль"),
)
SUB = Gather(prompts=(ru("sub", "Подменю."),), lang="ru", speech=False, timeout=10, hints=())
# The tip, then the hang-up node 'bye' with the flow's default goodbye.
TIP_AND_BYE = [ru("tip", "Совет."), ru("goodbye", "До свидания."), Hangup()]


def start(flow: Flow, now: datetime = NOW, variables: dict[str, str] | None = None) -> Turn:
    return advance(flow, new_state(flow, variables), Event.start(), now)


def then(flow: Flow, turn: Turn, event: Event) -> Turn:
    return advance(flow, turn.state, event, NOW)


def digits(keys: str) -> Event:
    return Event("digits", digits=keys)


def speech(text: str) -> Event:
    return Event("speech", speech=text)


@pytest.fixture
def menus(make_flow: MakeFlow) -> Flow:
    return make_flow(MENUS)


def test_every_node_kind_has_a_handler() -> None:
    assert set(HANDLERS) == set(NODE_KINDS)


# --- prompt, goto, hangup ------------------------------------------------------------------


def test_a_prompt_speaks_pauses_and_goes_on_and_a_menu_asks(menus: Flow) -> None:
    turn = start(menus)
    assert turn.steps == [ru("hello", "Здравствуйте."), Pause(2), MENU]
    assert turn.state.node == "menu"


@pytest.mark.parametrize(("pause", "seconds"), [("0.2", 1), ("1", 1), ("2.5", 2), ("3", 3)])
def test_a_pause_is_whole_seconds_and_never_zero(
    make_flow: MakeFlow, pause: str, seconds: int
) -> None:
    flow = make_flow(
        f"name: p\nstart: a\nnodes:\n  a: {{kind: prompt, say: hello, pause: {pause}, next: b}}"
        "\n  b: {kind: hangup}\n"
    )
    assert start(flow).steps == [ru("hello", "Здравствуйте."), Pause(seconds), Hangup()]


def test_goto_speaks_and_jumps_and_hangup_says_goodbye_by_default(make_flow: MakeFlow) -> None:
    flow = make_flow(
        "name: g\nstart: a\ndefaults: {goodbye: goodbye}\nnodes:\n"
        "  a: {kind: goto, say: tip, to: b}\n  b: {kind: hangup}\n"
    )
    turn = start(flow)
    assert turn.steps == [ru("tip", "Совет."), ru("goodbye", "До свидания."), Hangup()]
    assert turn.state.done
    assert turn.state.path == ["a", "b"]


def test_hangup_without_any_goodbye_just_hangs_up(make_flow: MakeFlow) -> None:
    flow = make_flow("name: h\nstart: a\nnodes:\n  a: {kind: hangup}\n")
    assert start(flow).steps == [Hangup()]


def test_values_are_filled_into_prompts_and_unknown_ones_left_empty(make_flow: MakeFlow) -> None:
    flow = make_flow("name: v\nstart: a\nnodes:\n  a: {kind: hangup, say: named}\n")
    assert start(flow, variables={"name": "Анна"}).steps == [
        ru("named", "Здравствуйте, Анна."),
        Hangup(),
    ]


# --- menus ---------------------------------------------------------------------------------


def test_a_key_chooses_its_option(menus: Flow) -> None:
    turn = then(menus, start(menus), digits("2"))
    assert turn.steps == [SUB]
    assert turn.state.node == "sub"


def test_only_the_first_of_several_keys_counts(menus: Flow) -> None:
    assert then(menus, start(menus), digits("21")).steps == [SUB]


@pytest.mark.parametrize(
    "said",
    ["дайте совет", "Советом помогите!", "вернитесь в ГЛАВНОЕ меню"],
    ids=["word", "word-with-an-ending", "two-words-in-order"],
)
def test_a_spoken_keyword_chooses_its_option(menus: Flow, said: str) -> None:
    turn = then(menus, start(menus), speech(said))
    assert turn.steps == TIP_AND_BYE


def test_a_phrase_is_heard_in_any_order_and_form_but_not_scattered(menus: Flow) -> None:
    assert then(menus, start(menus), speech("меню главное")).steps == TIP_AND_BYE
    assert then(menus, start(menus), speech("в главном меню")).steps == TIP_AND_BYE
    turn = then(menus, start(menus), speech("главное — это не ваше меню"))
    assert turn.steps == [ru("no_match", "Нет такого."), MENU]
    assert turn.state.attempts == {"menu": 1}


def test_the_operator_keyword_and_zero_lead_to_the_operator(menus: Flow) -> None:
    queue = [ru("connecting", "Соединяю."), Enqueue("general", "operator")]
    assert then(menus, start(menus), speech("позовите оператора")).steps == queue
    assert then(menus, start(menus), digits("0")).steps == queue


def test_an_option_for_zero_wins_over_the_operator(menus: Flow) -> None:
    sub = then(menus, start(menus), digits("2"))
    assert then(menus, sub, digits("0")).steps == [Enqueue("desk", "desk")]


def test_an_option_may_switch_the_language(menus: Flow) -> None:
    turn = then(menus, start(menus), digits("9"))
    assert turn.state.lang == "en"
    assert turn.steps == [
        Gather(
            prompts=(Say("Menu.", "en", prompt_id="menu"),),
            lang="en",
            speech=True,
            timeout=6,
            # English words only for an en-US recogniser, and the keys' numbers in English.
            hints=("english", "one", "two", "nine", "zero"),
        )
    ]
    # Everything after speaks English too.
    assert then(menus, turn, digits("7")).steps[0] == Say(
        "No such option.", "en", prompt_id="no_match"
    )


def test_a_menu_may_set_its_own_timeout_prompts_retries_and_failure_exit(menus: Flow) -> None:
    sub = then(menus, start(menus), digits("2"))
    wrong = then(menus, sub, digits("5"))
    assert wrong.steps == [ru("wrong", "Не то."), SUB]
    failed = then(menus, wrong, Event.timeout())
    assert failed.steps == [ru("sorry", "Не получилось."), Hangup()]
    assert failed.state.done


def test_a_node_no_input_prompt_replaces_the_default(menus: Flow) -> None:
    sub = then(menus, start(menus), digits("2"))
    assert then(menus, sub, Event.timeout()).steps == [ru("again", "Ещё раз."), SUB]


def test_leaving_a_menu_forgets_its_misses(menus: Flow) -> None:
    sub = then(menus, start(menus), digits("2"))
    missed = then(menus, sub, Event.timeout())
    assert missed.state.attempts == {"sub": 1}
    back = then(menus, then(menus, missed, digits("1")), digits("2"))
    assert back.state.attempts == {}
    # One miss allowed again: retries count from zero after coming back.
    assert then(menus, back, Event.timeout()).steps == [ru("again", "Ещё раз."), SUB]


def test_a_stray_event_at_a_menu_asks_again_without_counting(menus: Flow) -> None:
    turn = then(menus, start(menus), Event("recording", data={"url": "x"}))
    assert turn.steps == [MENU]
    assert turn.state.attempts == {}


# --- schedule ------------------------------------------------------------------------------

SCHEDULED = """
name: scheduled
languages: [{lang}]
start: hours
schedule:
  hours: {{mon-fri: "09:00-18:00"}}
  holidays: closed
nodes:
  hours: {{kind: schedule, open: opened, closed: closed{holiday}}}
  opened: {{kind: hangup, say: hello}}
  closed: {{kind: hangup, say: closed}}
  holiday: {{kind: hangup, say: holiday}}
"""


def scheduled(make_flow: MakeFlow, holiday_branch: bool = True, lang: str = "ru") -> Flow:
    return make_flow(
        SCHEDULED.format(lang=lang, holiday=", holiday: holiday" if holiday_branch else "")
    )


def test_an_open_line_takes_the_open_branch(make_flow: MakeFlow) -> None:
    assert start(scheduled(make_flow)).steps == [ru("hello", "Здравствуйте."), Hangup()]


def test_a_closed_line_takes_the_closed_branch_and_says_when_it_opens(
    make_flow: MakeFlow,
) -> None:
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=MOSCOW)
    assert start(scheduled(make_flow), saturday).steps == [
        ru("closed", "Закрыто, откроемся в понедельник в девять часов по московскому времени."),
        Hangup(),
    ]


def test_the_next_opening_is_said_in_the_call_language(make_flow: MakeFlow) -> None:
    evening = datetime(2026, 11, 25, 19, 0, tzinfo=MOSCOW)
    assert start(scheduled(make_flow, lang="en"), evening).steps == [
        Say("Closed, we open tomorrow at nine a.m. Moscow time.", "en", prompt_id="closed"),
        Hangup(),
    ]


def test_a_prompt_in_a_fixed_language_says_the_next_opening_in_it(make_flow: MakeFlow) -> None:
    evening = datetime(2026, 11, 25, 19, 0, tzinfo=MOSCOW)
    flow = make_flow(
        SCHEDULED.format(lang="ru", holiday=", holiday: holiday").replace(
            "say: closed}", "say: [closed, closed@en]}"
        )
    )
    assert start(flow, evening).steps == [
        ru("closed", "Закрыто, откроемся завтра в девять часов по московскому времени."),
        Say("Closed, we open tomorrow at nine a.m. Moscow time.", "en", prompt_id="closed"),
        Hangup(),
    ]


def test_a_holiday_takes_the_holiday_branch_or_else_the_closed_one(make_flow: MakeFlow) -> None:
    holiday = datetime(2026, 1, 2, 10, 0, tzinfo=MOSCOW)
    assert start(scheduled(make_flow), holiday).steps == [ru("holiday", "Праздник."), Hangup()]
    without = make_flow(
        SCHEDULED.format(lang="ru", holiday="").replace(
            "  holiday: {kind: hangup, say: holiday}\n", ""
        )
    )
    assert start(without, holiday).steps == [
        ru(
            "closed",
            "Закрыто, откроемся двенадцатого января в девять часов по московскому времени.",
        ),
        Hangup(),
    ]


def test_a_flow_without_a_schedule_is_always_open(make_flow: MakeFlow) -> None:
    flow = make_flow(
        "name: s\nstart: hours\nnodes:\n  hours: {kind: schedule, open: a, closed: b}\n"
        "  a: {kind: hangup, say: hello}\n  b: {kind: hangup, say: closed}\n"
    )
    night = datetime(2026, 1, 1, 3, 0, tzinfo=MOSCOW)
    assert start(flow, night).steps == [ru("hello", "Здравствуйте."), Hangup()]


# --- queue and dial ------------------------------------------------------------------------

ENDS = """
name: ends
start: menu
defaults: {operator: queue, goodbye: goodbye}
nodes:
  menu:
    kind: menu
    say: menu
    options:
      "1": call
      "2": call_once
      "3": lonely_queue
  queue: {kind: queue, queue: general, say: connecting, wait: [wait], on_leave: sorry}
  lonely_queue: {kind: queue, queue: night}
  call: {kind: dial, number: "+74951234567", timeout: 20, say: connecting, on_fail: sorry}
  call_once: {kind: dial, number: "+74957654321"}
  sorry: {kind: hangup, say: sorry}
"""


@pytest.fixture
def ends(make_flow: MakeFlow) -> Flow:
    return make_flow(ENDS)


def test_a_queue_speaks_then_enqueues_and_waits(ends: Flow) -> None:
    turn = then(ends, start(ends), digits("0"))
    assert turn.steps == [ru("connecting", "Соединяю."), Enqueue("general", "queue")]
    assert turn.state.node == "queue"
    assert not turn.state.done


@pytest.mark.parametrize(
    "event",
    [Event("queue", data={"result": "queue-full"}), Event("queue"), digits("1")],
    ids=["queue-full", "no-result", "not-a-queue-result"],
)
def test_leaving_a_queue_without_a_person_goes_to_on_leave(ends: Flow, event: Event) -> None:
    queued = then(ends, start(ends), digits("0"))
    assert then(ends, queued, event).steps == [ru("sorry", "Не получилось."), Hangup()]


def test_a_queue_without_on_leave_says_goodbye(ends: Flow) -> None:
    queued = then(ends, start(ends), digits("3"))
    assert queued.steps == [Enqueue("night", "lonely_queue")]
    left = then(ends, queued, Event("queue", data={"result": "leave"}))
    assert left.steps == [ru("goodbye", "До свидания."), Hangup()]
    assert left.state.done


def test_a_queue_result_of_bridged_ends_the_call(ends: Flow) -> None:
    queued = then(ends, start(ends), digits("0"))
    turn = then(ends, queued, Event("queue", data={"result": "bridged"}))
    assert turn.steps == [Hangup()]
    assert turn.state.done


def test_dial_connects_and_an_answered_call_ends(ends: Flow) -> None:
    dialled = then(ends, start(ends), digits("1"))
    assert dialled.steps == [ru("connecting", "Соединяю."), Dial("+74951234567", 20)]
    assert dialled.state.node == "call"
    for status in ("completed", "answered"):
        turn = then(ends, dialled, Event("dial", data={"status": status}))
        assert turn.steps == [Hangup()]
        assert turn.state.done


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed", "canceled"])
def test_an_unanswered_dial_goes_to_on_fail(ends: Flow, status: str) -> None:
    dialled = then(ends, start(ends), digits("1"))
    turn = then(ends, dialled, Event("dial", data={"status": status}))
    assert turn.steps == [ru("sorry", "Не получилось."), Hangup()]


def test_an_unanswered_dial_without_on_fail_says_goodbye(ends: Flow) -> None:
    dialled = then(ends, start(ends), digits("2"))
    assert dialled.steps == [Dial("+74957654321", 30)]
    turn = then(ends, dialled, Event("dial", data={"status": "busy"}))
    assert turn.steps == [ru("goodbye", "До свидания."), Hangup()]


FIXED_LANGUAGE = """
name: fixed
start: menu
defaults: {operator: desk}
nodes:
  menu:
    kind: menu
    say: [menu, menu@en]
    options:
      "1": {go: bye}
  desk: {kind: queue, queue: desk}
  bye: {kind: hangup, say: [goodbye@en]}
"""


def test_a_prompt_named_with_a_language_is_said_in_it_in_a_russian_call(
    make_flow: MakeFlow,
) -> None:
    flow = make_flow(FIXED_LANGUAGE)
    first = start(flow)
    assert first.state.lang == "ru"
    [menu] = first.steps
    assert isinstance(menu, Gather)
    assert menu.prompts == (ru("menu", "Меню."), Say("Menu.", "en", prompt_id="menu"))
    assert then(flow, first, digits("1")).steps[0] == Say("Goodbye.", "en", prompt_id="goodbye")
    # Only what the flow says is kept: the Russian goodbye is not.
    assert flow.prompts == {"ru": {"menu": "Меню."}, "en": {"menu": "Menu.", "goodbye": "Goodbye."}}


LINES = """
name: centres
lines: ["+74950000001", "+78120000002"]
start: centre
nodes:
  centre:
    kind: line
    lines: {"8 495 000-00-01": moscow, "+78120000002": spb}
  moscow: {kind: hangup, say: hello}
  spb: {kind: hangup, say: tip}
"""


@pytest.mark.parametrize(
    ("dialled", "heard"),
    [
        ("+74950000001", "Здравствуйте."),
        ("+78120000002", "Совет."),
        # An outbound call (no dialled line of ours): the first branch.
        ("", "Здравствуйте."),
    ],
)
def test_a_line_node_branches_on_the_number_dialled(
    make_flow: MakeFlow, dialled: str, heard: str
) -> None:
    flow = make_flow(LINES)
    turn = start(flow, variables={"line": dialled})
    assert turn.steps == [
        Say(heard, "ru", prompt_id="hello" if heard == "Здравствуйте." else "tip"),
        Hangup(),
    ]

"""The request-status line end to end, in Russian, through signed webhooks.

The app is built with a recogniser double that "hears" Russian words chosen per test, so the
whole path runs for real except Vosk itself: the signed ``<Record>`` action, the safe download
of the recording from a local stand-in for Twilio's recording host, the number grammar, the
digit converter, the read-back in groups, the confirmation, the lookup in the ``requests``
table, the escalation with its priority callback, and the fallbacks (ask again, keypad only,
a person).
"""

from __future__ import annotations

import base64
import io
import re
import wave
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

import ivr.services.actions.speech
from ivr.domain.schedule import MOSCOW
from ivr.domain.spoken import digits_in_groups
from ivr.speech.numbers import GRAMMAR_WORDS
from ivr.speech.recognizer import Recognizer, Transcript, Word
from ivr.store.models import Callback, Request, Voicemail
from ivr.web import create_app
from tests.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_URL,
    Clock,
    TwilioWebhooks,
    call_params,
    make_settings,
)
from tests.support.locks import call_row_is_free
from tests.support.recording_host import RecordingHost, serve

CALLER = "+79161234567"

ASK_KEYS_OR_VOICE = (
    "Введите номер обращения на клавиатуре и нажмите решётку. "
    "Или дождитесь сигнала и назовите номер голосом."
)
ASK_KEYS = "Введите, пожалуйста, номер обращения на клавиатуре и нажмите решётку."
NOT_UNDERSTOOD = "Извините, я не разобрала номер."
AMBIGUOUS = "Номер можно понять по-разному. Пожалуйста, назовите его по одной цифре."
UNKNOWN = "Обращение с таким номером не найдено. Проверьте, пожалуйста, номер."
CONFIRM_TAIL = "Если верно, нажмите 1 или скажите «да». Если нет, нажмите 2."
OVERDUE_OFFER = (
    "Приносим извинения за задержку. Чтобы мы ускорили рассмотрение и перезвонили вам, "
    "нажмите 1. Чтобы продолжить, нажмите 2."
)
MAIN_MENU_START = "Чтобы сразу поговорить со специалистом, нажмите 0."
AFTER_HOURS_MENU_START = "Оставить голосовое сообщение — нажмите 1."


def recording_sid(n: int) -> str:
    return f"RE{n:032x}"


def wav_for(n: int) -> bytes:
    """A distinct 8 kHz mono 16-bit WAV per recording, as Twilio's <Record> delivers."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(n.to_bytes(2, "little") * 8000)
    return buffer.getvalue()


@dataclass
class SpeechDouble:
    """A :class:`Recognizer` that "hears" the given Russian phrases, one per recording.

    The last phrase repeats once the list runs out. Every call is remembered with the audio
    and the grammar it was given.
    """

    phrases: Sequence[str]
    heard: list[tuple[bytes, list[str] | None]] = field(default_factory=list)

    def recognize(self, wav: bytes, grammar: Sequence[str] | None = None) -> Transcript:
        self.heard.append((wav, list(grammar) if grammar is not None else None))
        text = self.phrases[min(len(self.heard), len(self.phrases)) - 1]
        words = tuple(
            Word(word, 0.9, 0.5 * index, 0.5 * index + 0.4)
            for index, word in enumerate(text.split())
        )
        return Transcript(
            text=text,
            words=words,
            confidence=0.9 if words else 0.0,
            audio_seconds=1.0,
            decode_seconds=0.01,
        )


@dataclass
class Answer:
    """One TwiML answer, parsed."""

    body: str
    root: ET.Element

    @classmethod
    def of(cls, body: str) -> Answer:
        return cls(body, ET.fromstring(body.encode()))

    @property
    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]

    @property
    def says(self) -> list[str]:
        """Every spoken text, in order, inside a <Gather> or not."""
        return [say.text or "" for say in self.root.iter("Say")]

    @property
    def text(self) -> str:
        return " ".join(self.says)

    def first(self, tag: str) -> ET.Element | None:
        return self.root.find(tag)

    @property
    def record(self) -> ET.Element | None:
        return self.first("Record")

    @property
    def gather(self) -> ET.Element | None:
        return self.first("Gather")

    @property
    def next_turn(self) -> int:
        turns = {int(turn) for turn in re.findall(r"turn=(\d+)", self.body)}
        assert len(turns) == 1, f"the answer points at turns {turns}"
        return turns.pop()


class Caller:
    """One caller on the phone: each method is one signed webhook, the turns kept in step."""

    def __init__(self, app: Flask, sid: str = "CA" + "5" * 32) -> None:
        self.app = app
        self.webhooks = TwilioWebhooks(app.test_client())
        self.sid = sid
        self.turn = 0
        self.recordings = 0

    def _post(self, path: str, **fields: str) -> Answer:
        response = self.webhooks.post(path, call_params(sid=self.sid, **fields))
        assert response.status_code == 200, response.get_data(as_text=True)
        answer = Answer.of(response.get_data(as_text=True))
        if answer.verbs and answer.verbs[-1] not in ("Hangup", "Enqueue"):
            self.turn = answer.next_turn
        return answer

    def dial(self) -> Answer:
        return self._post("/voice/incoming")

    def press(self, digits: str) -> Answer:
        return self._post(f"/voice/step?turn={self.turn}", Digits=digits)

    def say(self, speech: str) -> Answer:
        """Speech recognised by Twilio's <Gather input="speech"> (the yes/no confirmation)."""
        return self._post(f"/voice/step?turn={self.turn}", SpeechResult=speech, Confidence="0.9")

    def speak(self, sid: str | None = None, *, finish_key: str | None = None) -> Answer:
        """The <Record> action: the caller said something and the recording is available.

        ``finish_key`` is the key that ended the recording, which Twilio sends as ``Digits``.
        """
        self.recordings += 1
        sid = sid or recording_sid(self.recordings)
        fields = {
            "RecordingSid": sid,
            "RecordingUrl": (
                f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}"
            ),
            "RecordingDuration": "4",
        }
        if finish_key is not None:
            fields["Digits"] = finish_key
        return self._post(f"/voice/step?turn={self.turn}", **fields)

    def silence(self) -> Answer:
        """Nothing pressed or recorded: the <Redirect> after the <Gather>/<Record>."""
        return self._post(f"/voice/step?turn={self.turn}&ev=timeout")


@pytest.fixture
def host() -> Iterator[RecordingHost]:
    recordings = {recording_sid(n): wav_for(n) for n in range(1, 10)}
    with serve(RecordingHost(ACCOUNT_SID, AUTH_TOKEN, recordings)) as running:
        yield running


AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(
    database_url: str, tmp_path: Path, host: RecordingHost, clock: Clock
) -> Iterator[AppFactory]:
    """Builds the app with the recogniser given (or none), the recording host wired in."""
    apps: list[Flask] = []

    def make(recognizer: Recognizer | None, **overrides: object) -> Flask:
        settings = make_settings(
            database_url,
            tmp_path,
            twilio_api_base=host.base_url,
            recordings_dir=tmp_path / "recordings",
            **overrides,
        )
        application = create_app(settings, clock=clock, recognizer=recognizer)
        apps.append(application)
        return application

    yield make
    for application in apps:
        application.extensions["ivr"].db.dispose()


def seed_request(
    app: Flask,
    number: str,
    *,
    status: str = "in_work",
    due_at: datetime | None = datetime(2026, 11, 27, 18, 0, tzinfo=MOSCOW),
    next_step: str = "Дождитесь ответа специалиста в личном кабинете.",
    category: str = "services",
) -> None:
    """A request as the back office would have imported it."""
    with app.extensions["ivr"].db.transaction() as session:
        session.add(
            Request(
                number=number,
                category=category,
                status=status,
                source="import",
                created_at=datetime(2026, 11, 10, 9, 0, tzinfo=UTC),
                due_at=due_at.astimezone(UTC) if due_at is not None else None,
                next_step=next_step,
                caller="+79990000000",
                line="+78005553535",
                call_sid="CA" + "0" * 32,
            )
        )


def requests_about(app: Flask, parent: str) -> list[Request]:
    with app.extensions["ivr"].db.sessions() as session:
        return list(session.scalars(select(Request).where(Request.parent_number == parent)))


def callbacks(app: Flask) -> list[Callback]:
    with app.extensions["ivr"].db.sessions() as session:
        return list(session.scalars(select(Callback)))


def to_status_line(caller: Caller, clock: Clock, *, after_hours: bool = False) -> Answer:
    """Dial the main line and choose "request status" from the menu of the hour."""
    if after_hours:
        clock.set(2026, 11, 25, 22, 30)  # Wednesday night: closed until 8:00
        greeting = caller.dial()
        assert "Сейчас линия закрыта." in greeting.text
        assert greeting.says[-1].startswith(AFTER_HOURS_MENU_START)
        return caller.press("3")
    greeting = caller.dial()
    assert greeting.says[-1].startswith(MAIN_MENU_START)
    return caller.press("4")


def assert_offers_keys_then_speech(answer: Answer) -> None:
    """A keypad <Gather>, then a <Record> for the spoken number, both reporting to one turn;
    before them only what is said (e.g. why the caller is asked again)."""
    assert answer.verbs[-3:] == ["Gather", "Record", "Redirect"]
    assert set(answer.verbs[:-3]) <= {"Say"}
    gather, record = answer.gather, answer.record
    assert gather is not None and record is not None
    assert gather.get("input") == "dtmf" and gather.get("finishOnKey") == "#"
    assert [say.text for say in gather.iter("Say")] == [ASK_KEYS_OR_VOICE]
    step = f"{PUBLIC_URL}/voice/step?turn={answer.next_turn}"
    assert gather.get("action") == record.get("action") == step
    assert record.attrib == {
        "action": step,
        "method": "POST",
        "finishOnKey": "#",
        "maxLength": "12",
        "timeout": "3",
        "playBeep": "true",
        "recordingStatusCallback": f"{PUBLIC_URL}/voice/recording?purpose=request_number&min=1",
        "recordingStatusCallbackMethod": "POST",
        "recordingStatusCallbackEvent": "completed absent",
    }


def assert_offers_keys_only(answer: Answer) -> None:
    assert answer.record is None and "<Record" not in answer.body
    gather = answer.gather
    assert gather is not None and gather.get("input") == "dtmf"
    assert [say.text for say in gather.iter("Say")] == [ASK_KEYS]
    assert "голос" not in answer.text


def assert_confirms(answer: Answer, groups: str) -> None:
    gather = answer.gather
    assert gather is not None
    assert (gather.get("input"), gather.get("numDigits"), gather.get("hints")) == (
        "dtmf speech",
        "1",
        "да, нет",
    )
    assert [say.text for say in gather.iter("Say")] == [f"Номер {groups}. {CONFIRM_TAIL}"]
    assert answer.record is None


# -- offering speech ---------------------------------------------------------------------------


def test_in_working_hours_key_4_offers_keys_then_a_recording(
    make_app: AppFactory, clock: Clock
) -> None:
    caller = Caller(make_app(SpeechDouble(["один"])))

    assert_offers_keys_then_speech(to_status_line(caller, clock))


def test_after_hours_key_3_offers_keys_then_a_recording(make_app: AppFactory, clock: Clock) -> None:
    caller = Caller(make_app(SpeechDouble(["один"])))

    assert_offers_keys_then_speech(to_status_line(caller, clock, after_hours=True))


# -- the spoken number, read back and confirmed ------------------------------------------------


def test_spoken_number_is_read_back_in_groups_and_confirmed_with_1(
    make_app: AppFactory, clock: Clock, host: RecordingHost
) -> None:
    double = SpeechDouble(["один два три четыре пять шесть"])
    app = make_app(double)
    seed_request(app, "123456")
    caller = Caller(app)
    to_status_line(caller, clock)

    confirm = caller.speak()

    assert_confirms(confirm, "сто двадцать три, четыреста пятьдесят шесть")
    # The recording was fetched safely from the (stand-in) Twilio host, with the account's
    # credentials, and handed to the recogniser with the number grammar.
    expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert [(seen.path, seen.authorization) for seen in host.seen] == [
        (f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid(1)}.wav", expected_auth)
    ]
    assert double.heard == [(wav_for(1), list(GRAMMAR_WORDS))]

    status = caller.press("1")

    assert status.says[:3] == [
        "Обращение сто двадцать три, четыреста пятьдесят шесть. Статус: в работе.",
        "Срок ответа — до двадцать седьмого ноября.",
        "Дождитесь ответа специалиста в личном кабинете.",
    ]
    # Not overdue: back to the main menu.
    assert status.says[-1].startswith(MAIN_MENU_START)
    assert OVERDUE_OFFER not in status.text


def test_the_recording_is_fetched_and_recognised_with_no_lock_held(
    make_app: AppFactory, clock: Clock, database_url: str
) -> None:
    """Fetching and decoding take up to seconds: no other call's turn may wait for them."""
    free_while_recognising: list[bool] = []

    @dataclass
    class LockWatchingDouble(SpeechDouble):
        def recognize(self, wav: bytes, grammar: Sequence[str] | None = None) -> Transcript:
            free_while_recognising.append(call_row_is_free(database_url, caller.sid))
            return super().recognize(wav, grammar)

    double = LockWatchingDouble(["один два три четыре пять шесть"])
    caller = Caller(make_app(double))
    to_status_line(caller, clock)

    assert_confirms(caller.speak(), "сто двадцать три, четыреста пятьдесят шесть")
    # Once: the turn started again after the recognition used its result, not a new one.
    assert free_while_recognising == [True]
    assert len(double.heard) == 1


def test_a_recogniser_that_fails_asks_the_caller_again_instead_of_apologising(
    make_app: AppFactory, clock: Clock
) -> None:
    class BrokenRecogniser:
        def recognize(self, wav: bytes, grammar: Sequence[str] | None = None) -> Transcript:
            raise RuntimeError("the model crashed")

    caller = Caller(make_app(BrokenRecogniser()))
    to_status_line(caller, clock)

    answer = caller.speak()

    assert answer.says[0] == NOT_UNDERSTOOD
    assert "техническая неполадка" not in answer.text
    assert_offers_keys_then_speech(answer)


def test_yes_said_aloud_confirms_too(make_app: AppFactory, clock: Clock) -> None:
    app = make_app(SpeechDouble(["девять восемь семь шесть пять четыре три"]))
    seed_request(app, "9876543", status="waiting_for_caller")
    caller = Caller(app)
    to_status_line(caller, clock)
    assert_confirms(caller.speak(), "девятьсот восемьдесят семь, шестьдесят пять, сорок три")

    status = caller.say("Да.")

    assert status.says[0] == (
        "Обращение девятьсот восемьдесят семь, шестьдесят пять, сорок три. "
        "Статус: ожидает вашего ответа."
    )


@pytest.mark.parametrize(
    ("category", "next_step"),
    [
        ("callback", "Дождитесь, пожалуйста, звонка специалиста в выбранное время."),
        ("escalation", "Дождитесь, пожалуйста, звонка старшего специалиста."),
        ("voicemail", "Специалист прослушает ваше сообщение и свяжется с вами."),
    ],
)
def test_a_request_the_line_registered_says_its_next_step_from_the_prompts(
    make_app: AppFactory, clock: Clock, category: str, next_step: str
) -> None:
    app = make_app(None)
    seed_request(app, "7654321", category=category, next_step="")
    caller = Caller(app)
    to_status_line(caller, clock)
    caller.press("7654321#")

    status = caller.press("1")

    assert status.says[2] == next_step


def test_a_number_spoken_in_groups_with_fillers_is_understood(
    make_app: AppFactory, clock: Clock
) -> None:
    app = make_app(SpeechDouble(["ну номер сто двадцать три [unk] четыреста пятьдесят шесть"]))
    seed_request(app, "123456", status="registered", due_at=None, next_step="")
    caller = Caller(app)
    to_status_line(caller, clock)
    assert_confirms(caller.speak(), "сто двадцать три, четыреста пятьдесят шесть")

    status = caller.press("1")

    assert status.says[0] == (
        "Обращение сто двадцать три, четыреста пятьдесят шесть. Статус: зарегистрировано."
    )
    assert "Срок ответа" not in status.text  # no deadline, no next step: none is said
    assert status.says[1].startswith(MAIN_MENU_START)


def test_the_deadline_is_the_moscow_date(make_app: AppFactory, clock: Clock) -> None:
    # 22:00 UTC on the 27th is already the 28th in Moscow.
    app = make_app(SpeechDouble(["один два три четыре пять шесть"]))
    seed_request(app, "123456", due_at=datetime(2026, 11, 27, 22, 0, tzinfo=UTC))
    caller = Caller(app)
    to_status_line(caller, clock)
    caller.speak()

    assert "Срок ответа — до двадцать восьмого ноября." in caller.press("1").says


def test_after_hours_the_status_is_told_and_the_night_menu_follows(
    make_app: AppFactory, clock: Clock
) -> None:
    app = make_app(SpeechDouble(["один два три четыре пять шесть"]))
    seed_request(app, "123456", status="answered")
    caller = Caller(app)
    to_status_line(caller, clock, after_hours=True)
    caller.speak()

    status = caller.press("1")

    assert status.says[0].endswith("Статус: ответ получен.")
    assert status.says[-1].startswith(AFTER_HOURS_MENU_START)


def test_keypad_entry_with_hash_works_too(make_app: AppFactory, clock: Clock) -> None:
    double = SpeechDouble(["ноль"])
    app = make_app(double)
    seed_request(app, "123456", status="processing")
    caller = Caller(app)
    to_status_line(caller, clock)

    confirm = caller.press("123456#")

    assert_confirms(confirm, "сто двадцать три, четыреста пятьдесят шесть")
    status = caller.press("1")
    assert status.says[0].endswith("Статус: в обработке.")
    assert double.heard == []  # keys need no recogniser


# -- asking again ------------------------------------------------------------------------------


def test_an_ambiguous_reading_asks_for_the_digits_one_by_one(
    make_app: AppFactory, clock: Clock
) -> None:
    double = SpeechDouble(["сто двадцать три тысяча двести", "один два три два ноль ноль"])
    app = make_app(double)
    caller = Caller(app)
    to_status_line(caller, clock)

    again = caller.speak()

    assert again.says[0] == AMBIGUOUS
    assert CONFIRM_TAIL not in again.text  # no guess is read back
    assert_offers_keys_then_speech(again)
    assert_confirms(caller.speak(), "сто двадцать три, двести")


def test_speech_that_is_not_a_number_is_not_understood_and_asked_again(
    make_app: AppFactory, clock: Clock
) -> None:
    caller = Caller(make_app(SpeechDouble(["[unk] [unk]"])))
    to_status_line(caller, clock)

    again = caller.speak()

    assert again.says[0] == NOT_UNDERSTOOD
    assert_offers_keys_then_speech(again)


def test_a_number_nobody_registered_is_told_as_unknown_and_asked_again(
    make_app: AppFactory, clock: Clock
) -> None:
    app = make_app(SpeechDouble(["шесть пять четыре три два один"]))
    seed_request(app, "123456")
    caller = Caller(app)
    to_status_line(caller, clock)
    assert_confirms(caller.speak(), "шестьсот пятьдесят четыре, триста двадцать один")

    unknown = caller.press("1")

    assert unknown.says[0] == UNKNOWN
    assert_offers_keys_then_speech(unknown)


def test_a_wrong_reading_is_rejected_with_2_and_the_caller_speaks_again(
    make_app: AppFactory, clock: Clock
) -> None:
    app = make_app(
        SpeechDouble(["один два три четыре пять семь", "один два три четыре пять шесть"])
    )
    seed_request(app, "123456")
    caller = Caller(app)
    to_status_line(caller, clock)
    assert_confirms(caller.speak(), "сто двадцать три, четыреста пятьдесят семь")

    again = caller.press("2")

    assert_offers_keys_then_speech(again)
    assert_confirms(caller.speak(), "сто двадцать три, четыреста пятьдесят шесть")
    assert caller.say("да").says[0].endswith("Статус: в работе.")


def test_two_misses_leave_the_keypad_only_and_three_bring_a_person(
    make_app: AppFactory, clock: Clock
) -> None:
    double = SpeechDouble(["[unk]"])
    caller = Caller(make_app(double))
    to_status_line(caller, clock)

    first = caller.speak()
    assert first.says[0] == NOT_UNDERSTOOD
    assert_offers_keys_then_speech(first)

    second = caller.speak()
    assert second.says[0] == NOT_UNDERSTOOD
    assert_offers_keys_only(second)

    third = caller.press("12#")  # too short for a request number

    # The third miss is said, then the hotline's operator route for the status line: a tip,
    # then the status queue.
    assert third.says[0] == NOT_UNDERSTOOD
    assert third.says[1].startswith("Статус обращения всегда виден в личном кабинете")
    # The tip says «сейчас соединю вас со специалистом»; the queue only asks to hold.
    assert "сейчас соединю вас со специалистом." in third.text
    assert "Соединяю вас со специалистом." not in third.text
    assert "Пожалуйста, оставайтесь на линии." in third.text
    assert third.verbs[-1] == "Enqueue"
    enqueue = third.first("Enqueue")
    assert enqueue is not None and enqueue.text == "status"
    assert len(double.heard) == 2  # the keypad-only turn recorded nothing


def test_after_hours_three_misses_say_nobody_works_and_return_to_the_menu(
    make_app: AppFactory, clock: Clock
) -> None:
    caller = Caller(make_app(SpeechDouble(["[unk]"])))
    to_status_line(caller, clock, after_hours=True)
    caller.speak()
    caller.speak()

    third = caller.silence()

    assert third.says[0] == NOT_UNDERSTOOD
    assert (
        third.says[1] == "Специалисты сейчас не работают. "
        "Линия откроется завтра в восемь часов по московскому времени."
    )
    assert third.says[-1].startswith(AFTER_HOURS_MENU_START)


def test_a_recording_that_cannot_be_fetched_is_not_understood(
    make_app: AppFactory, clock: Clock, host: RecordingHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ivr.services.actions.speech, "FETCH_PAUSE", 0.0)
    double = SpeechDouble(["один два три четыре пять шесть"])
    caller = Caller(make_app(double))
    to_status_line(caller, clock)

    again = caller.speak(sid="RE" + "f" * 32)  # the host has no such recording

    assert again.says[0] == NOT_UNDERSTOOD
    assert_offers_keys_then_speech(again)
    assert double.heard == []
    assert len(host.seen) == ivr.services.actions.speech.FETCH_ATTEMPTS


# -- overdue: escalation -----------------------------------------------------------------------


def test_an_overdue_request_offers_escalation_and_1_escalates_with_a_priority_callback(
    make_app: AppFactory, clock: Clock
) -> None:
    app = make_app(SpeechDouble(["семь семь семь восемь восемь восемь"]))
    seed_request(app, "777888", due_at=datetime(2026, 11, 20, 18, 0, tzinfo=MOSCOW))
    caller = Caller(app)
    to_status_line(caller, clock)
    caller.speak()

    offer = caller.press("1")

    assert offer.says == [
        "Обращение семьсот семьдесят семь, восемьсот восемьдесят восемь. Статус: в работе.",
        # The deadline has passed: said in the past tense.
        "Ответ нужно было дать до двадцатого ноября.",
        "Дождитесь ответа специалиста в личном кабинете.",
        OVERDUE_OFFER,
    ]
    gather = offer.gather
    assert gather is not None and gather.get("numDigits") == "1"

    escalated = caller.press("1")

    [escalation] = requests_about(app, "777888")
    assert (escalation.source, escalation.category, escalation.status) == (
        "escalation",
        "escalation",
        "registered",
    )
    assert escalation.caller == CALLER and escalation.call_sid == caller.sid
    assert escalated.says[0] == (
        "Мы передали обращение старшему специалисту. "
        f"Номер нового обращения: {digits_in_groups(escalation.number)}."
    )
    # The caller is told when the call comes: the slot booked below.
    assert escalated.says[1] == (
        "Старший специалист позвонит вам сегодня с десяти пятнадцати до десяти тридцати "
        "по московскому времени."
    )
    assert escalated.says[2:] == ["Чтобы повторить номер обращения, нажмите звёздочку."]
    assert caller.press("*").says == escalated.says
    assert caller.silence().says[-1].startswith(MAIN_MENU_START)
    [callback] = callbacks(app)
    assert (callback.phone, callback.request_number, callback.priority, callback.status) == (
        CALLER,
        escalation.number,
        1,
        "booked",
    )
    # The first slot at least 15 minutes after the call (10:00): 10:15-10:30 Moscow time.
    slot = callback.slot_start.replace(tzinfo=callback.slot_start.tzinfo or UTC)
    assert slot.astimezone(MOSCOW) == datetime(2026, 11, 25, 10, 15, tzinfo=MOSCOW)


def test_declining_the_escalation_creates_nothing(make_app: AppFactory, clock: Clock) -> None:
    app = make_app(SpeechDouble(["семь семь семь восемь восемь восемь"]))
    seed_request(app, "777888", due_at=datetime(2026, 11, 20, 18, 0, tzinfo=MOSCOW))
    caller = Caller(app)
    to_status_line(caller, clock)
    caller.speak()
    caller.press("1")

    back = caller.press("2")

    assert back.says[0].startswith(MAIN_MENU_START)
    assert requests_about(app, "777888") == []
    assert callbacks(app) == []


def test_an_answered_request_past_its_deadline_is_not_offered_escalation(
    make_app: AppFactory, clock: Clock
) -> None:
    app = make_app(SpeechDouble(["семь семь семь восемь восемь восемь"]))
    seed_request(app, "777888", status="closed", due_at=datetime(2026, 11, 20, tzinfo=MOSCOW))
    caller = Caller(app)
    to_status_line(caller, clock)
    caller.speak()

    status = caller.press("1")

    assert status.says[0].endswith("Статус: закрыто.")
    assert OVERDUE_OFFER not in status.text


# -- without a recogniser ----------------------------------------------------------------------


@pytest.mark.parametrize("model_setting", ["", "/nonexistent/vosk-model"])
def test_without_a_recogniser_nothing_mentions_speech_and_nothing_is_recorded(
    make_app: AppFactory, clock: Clock, model_setting: str
) -> None:
    app = make_app(None, vosk_model=model_setting)
    seed_request(app, "123456")
    caller = Caller(app)

    ask = to_status_line(caller, clock)

    assert_offers_keys_only(ask)
    again = caller.press("1#")
    assert again.says[0] == NOT_UNDERSTOOD
    assert_offers_keys_only(again)
    assert_confirms(caller.press("123456#"), "сто двадцать три, четыреста пятьдесят шесть")
    assert caller.press("1").says[0].endswith("Статус: в работе.")


# -- Twilio's side of it -----------------------------------------------------------------------


def test_a_repeated_record_action_is_answered_the_same_without_recognising_again(
    make_app: AppFactory, clock: Clock
) -> None:
    double = SpeechDouble(["один два три четыре пять шесть"])
    app = make_app(double)
    caller = Caller(app)
    to_status_line(caller, clock)
    turn = caller.turn
    first = caller.speak()

    caller.turn, caller.recordings = turn, 0  # Twilio retries the same webhook
    second = caller.speak()

    assert second.body == first.body
    assert len(double.heard) == 1


def test_the_recording_status_callback_for_a_spoken_number_is_acknowledged_and_ignored(
    make_app: AppFactory, clock: Clock
) -> None:
    app = make_app(SpeechDouble(["один два три четыре пять шесть"]))
    caller = Caller(app)
    to_status_line(caller, clock)
    caller.speak()

    response = caller.webhooks.post(
        "/voice/recording?purpose=request_number&min=1",
        call_params(
            sid=caller.sid,
            RecordingSid=recording_sid(1),
            RecordingStatus="completed",
            RecordingDuration="4",
        ),
    )

    assert response.status_code == 204
    with app.extensions["ivr"].db.sessions() as session:
        assert list(session.scalars(select(Voicemail))) == []  # not taken for a voicemail


def test_a_forged_record_action_is_refused_before_anything_is_fetched(
    make_app: AppFactory, clock: Clock, host: RecordingHost
) -> None:
    double = SpeechDouble(["один два три четыре пять шесть"])
    caller = Caller(make_app(double))
    to_status_line(caller, clock)

    response = caller.webhooks.post(
        f"/voice/step?turn={caller.turn}",
        call_params(sid=caller.sid, RecordingSid=recording_sid(1), RecordingDuration="4"),
        signature="forged",
    )

    assert response.status_code == 403
    assert host.seen == [] and double.heard == []


def test_a_recording_ended_with_the_hash_key_is_still_recognised(
    make_app: AppFactory, clock: Clock
) -> None:
    app = make_app(SpeechDouble(["один два три четыре пять шесть"]))
    caller = Caller(app)
    to_status_line(caller, clock)

    # Twilio's <Record> action carries the key that ended the recording in Digits; callers
    # who were just told to finish with the hash key will often end their speech with it too.
    confirm = caller.speak(finish_key="#")

    assert_confirms(confirm, "сто двадцать три, четыреста пятьдесят шесть")

"""``ivr call`` and ``ivr test-calls`` from the command line (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.cli import main
from ivr.cli.harness import scan_inputs
from tests.harness.conftest import ACCOUNT, PUBLIC_URL, ROOT, TOKEN

ENV = {
    "IVR_ENVIRONMENT": "test",
    "IVR_PUBLIC_URL": PUBLIC_URL,
    "IVR_FLOWS_DIR": str(ROOT / "flows"),
    "IVR_PROMPTS_DIR": str(ROOT / "prompts"),
    "TWILIO_AUTH_TOKEN": TOKEN,
    "TWILIO_ACCOUNT_SID": ACCOUNT,
    "IVR_LOG_LEVEL": "WARNING",
}
CALL = ["call", "--to", "+78005553535"]


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=ENV, input=stdin, catch_exceptions=False)


def test_inputs_keep_their_command_line_order() -> None:
    args = ["--to", "--press", "--press", "1", "--silence", "--say=один", "--at", "x", "--hangup"]
    assert scan_inputs(args, {"--to", "--at"}) == [
        ("press", "1"),
        ("silence", ""),
        ("say", "один"),
        ("hangup", ""),
    ]


def test_a_wait_press_from_the_command_line_books_the_queue_callback() -> None:
    result = run(
        *CALL,
        "--at",
        "2026-11-25T10:00",
        "--press",
        "5",
        "--wait-press",
        "1",
        "--press",
        "1",
        "--press",
        "1",
        "--queue-waits",
        "6",
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    offer = lines.index("IVR (queue): Чтобы не ждать, нажмите 1, и мы перезвоним вам.")
    assert lines[offer + 1 : offer + 3] == [
        "CALLER presses 1",
        "CALLER leaves the queue: QueueResult=leave",
    ]
    assert "CALL ENDED: hangup" in lines
    assert lines[-2].endswith("to_payments → queue_callback → callback_bye")


def test_call_prints_the_transcript() -> None:
    result = run(*CALL, "--at", "2026-11-25T10:00", "--silence", "--press", "6", "--press", "1")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Call CA")
    assert "at 2026-11-25 10:00 (Moscow), in-process app" in lines[0]
    callers = [line for line in lines if line.startswith("CALLER")]
    assert callers == ["CALLER is silent", "CALLER presses 6", "CALLER presses 1"]
    assert "→ queue complaints" in lines
    assert "CALL ENDED: queue complaints" in lines
    assert "path: greeting → hours → main_menu → more_menu → to_complaints" in lines


def test_call_json_is_identical_between_runs() -> None:
    args = (*CALL, "--at", "2026-12-31T21:30", "--press", "4", "--json")
    first, second = run(*args), run(*args)

    assert first.exit_code == 0, first.output
    assert first.output == second.output
    data = json.loads(first.output)
    assert list(data) == sorted(data)
    assert data["outcome"]["label"] == "hangup"
    assert data["call"]["at"] == "2026-12-31T21:30:00+03:00"
    assert data["turns"][0]["request"]["headers"] == {"X-IVR-Clock": "2026-12-31T21:30:00+03:00"}
    assert data["turns"][-1]["kind"] == "status-callback"


def test_sid_option_fixes_the_call_sid() -> None:
    sid = "CA" + "e" * 32
    result = run(*CALL, "--at", "2026-11-25T10:00", "--sid", sid, "--json")
    assert json.loads(result.output)["call"]["sid"] == sid


def test_bad_signature_is_reported_and_fails() -> None:
    result = run(*CALL, "--bad-signature")

    assert result.exit_code == 1
    assert "CALL ENDED: refused: HTTP 403 from /voice/incoming" in result.output


def test_interactive_call_reads_the_callers_part() -> None:
    result = run(*CALL, "--at", "2026-11-25T10:00", "--interactive", stdin="1\n\n4\n")

    assert result.exit_code == 0, result.output
    assert "CALLER presses 1" in result.output
    assert "CALLER is silent" in result.output
    assert "CALLER presses 4" in result.output
    assert "CALL ENDED: queue tech" in result.output


def test_interactive_end_of_input_hangs_up() -> None:
    result = run(*CALL, "--at", "2026-11-25T10:00", "--interactive", stdin="")
    assert "CALL ENDED: caller-hangup" in result.output


def test_bad_input_is_a_usage_error() -> None:
    result = run(*CALL, "--press", "1x")
    assert result.exit_code == 2
    assert "not keypad input" in result.output


SCENARIOS = """\
defaults:
  to: "+78005553535"
  at: "2026-11-25T10:00"
calls:
  - name: payments
    inputs: ["5"]
    expect:
      heard: ["Выберите тему", "Соединяю вас"]
      ends: queue payments
  - name: wrong expectations
    inputs: ["5"]
    expect:
      heard: ["Соединяю вас", "Выберите тему"]
      reaches: [tech_menu]
      ends: queue tech
      transcript: ["IVR: something else"]
"""


def test_test_calls_reports_pass_fail_and_a_diff(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(SCENARIOS, encoding="utf-8")

    result = run("test-calls", str(path))

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "PASS  suite.yaml: payments"
    assert lines[1] == "FAIL  suite.yaml: wrong expectations"
    assert "      heard: «Выберите тему» was heard, but not after the phrases before it" in lines
    assert any(line.startswith("      reaches: node tech_menu not reached") for line in lines)
    assert "      ends: expected queue tech, got queue payments" in lines
    assert "        --- expected" in lines
    assert "        -IVR: something else" in lines
    assert "        +CALL ENDED: queue payments" in lines
    assert lines[-1] == "2 scenarios: 1 passed, 1 failed"


def test_test_calls_coverage_lists_what_was_never_reached(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(SCENARIOS.split("  - name: wrong")[0], encoding="utf-8")

    result = run("test-calls", "--coverage", str(path))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Flow coverage:" in lines
    assert "  menu main_menu: options reached 5 of 1 2 3 4 5 6" in lines
    start = next(i for i, line in enumerate(lines) if line.startswith("hotline"))
    assert lines[start].startswith("hotline (flows/hotline.yaml): 1 calls, nodes 4/")
    never = next(line for line in lines[start:] if line.startswith("  nodes never reached:"))
    assert "after_hours" in never and "to_payments" not in never


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("calls: [{inputs: ['1']}]", "every call needs a name"),
        ("calls: [{name: a, to: '+7800', expect: {smell: x}}]", "unknown expectations smell"),
        ("calls: [{name: a, to: +78005553535}]", "quote phone numbers"),
        ("calls: [{name: a, to: '+7', inputs: [{press: 1x}]}]", "not keypad input"),
        ("calls: [{name: a, to: '+7'}, {name: a, to: '+7'}]", "call names used twice"),
    ],
)
def test_broken_scenario_files_are_explained(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")

    result = run("test-calls", str(path))

    assert result.exit_code == 1
    assert message in result.output


def test_a_voicemail_can_be_left_without_a_speech_synthesiser() -> None:
    result = run(*CALL, "--at", "2026-11-25T22:30", "--press", "1", "--talk", "4")
    assert result.exit_code == 0, result.output
    assert "CALLER talks for 4 s (recorded)" in result.output
    assert "ваше сообщение сохранено" in result.output


def test_talk_takes_whole_seconds() -> None:
    result = run(*CALL, "--talk", "four")
    assert result.exit_code == 2
    assert "four" in result.output

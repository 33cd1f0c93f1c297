"""``ivr worker``: one pass with ``--once``, or passes until SIGTERM/SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.store.db import Database
from ivr.store.models import Callback
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL
from tests.support.twilio_stub import TwilioStub

Add = Callable[..., int]


def worker_env(database_url: str, tmp_path: Path, stub: TwilioStub, **extra: str) -> dict[str, str]:
    """The environment ``ivr worker`` reads its settings from."""
    env = {
        "IVR_ENVIRONMENT": "test",
        "IVR_DATABASE_URL": database_url,
        "IVR_PUBLIC_URL": PUBLIC_URL,
        "IVR_VAR_DIR": str(tmp_path / "var"),
        "IVR_RECORDINGS_DIR": str(tmp_path / "recordings"),
        "IVR_TWILIO_API_BASE": stub.base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        # The CLI runs on the real clock: allow calls at any hour.
        "IVR_CALLING_HOURS": "00:00-24:00",
        "IVR_WORKER_INTERVAL": "0.1",
    }
    env.update(extra)
    return env


def real_now_minus(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def test_worker_once_dials_due_bookings_and_prints_the_counts(
    database_url: str,
    tmp_path: Path,
    stub: TwilioStub,
    add_callback: Add,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cb = add_callback(phone="+79161234567", next_attempt_at=real_now_minus(1))
    monkeypatch.chdir(tmp_path)  # no ./.env of the developer's
    result = CliRunner().invoke(
        main, ["worker", "--once"], env=worker_env(database_url, tmp_path, stub)
    )
    assert result.exit_code == 0, result.output
    assert "claimed 1, placed 1, failed to place 0" in result.output
    assert "9161234567" not in result.output
    assert stub.calls_by_query("Url", "callback") == {str(cb): 1}
    with db.sessions() as session:
        row = session.get(Callback, cb)
        assert row is not None
        assert (row.status, row.attempts) == ("dialing", 1)


def test_worker_refuses_malformed_calling_hours(
    database_url: str, tmp_path: Path, stub: TwilioStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main,
        ["worker", "--once"],
        env=worker_env(database_url, tmp_path, stub, IVR_CALLING_HOURS="nine to eight"),
    )
    assert result.exit_code != 0
    assert "IVR_CALLING_HOURS" in result.output


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_worker_stops_cleanly_on_a_signal(
    signum: int,
    database_url: str,
    tmp_path: Path,
    stub: TwilioStub,
    add_callback: Add,
) -> None:
    cb = add_callback(next_attempt_at=real_now_minus(1))
    env = {**os.environ, **worker_env(database_url, tmp_path, stub)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from ivr.cli import main; main()", "worker"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "placed 1" in line:
                break
        assert any("placed 1" in line for line in lines), (lines, process.stderr)
        process.send_signal(signum)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "Worker stopped." in out
    assert stub.calls_by_query("Url", "callback") == {str(cb): 1}

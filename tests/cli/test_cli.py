"""The ivr command: validate, reload and serve's refusal to start on broken flows."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "flows", tmp_path / "flows")
    shutil.copytree(REPO / "prompts", tmp_path / "prompts")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_validate_passes_on_the_shipped_flows(deployment: Path) -> None:
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert "ok  hotline (flows/hotline.yaml)" in result.output


def test_validate_timing_reports_every_shipped_flow_at_the_rate_given(deployment: Path) -> None:
    result = CliRunner().invoke(main, ["validate", "--timing", "--chars-per-second", "12"])
    assert result.exit_code == 0, result.output
    report = result.output.splitlines()
    heading = report.index(
        "Worst-case seconds, estimated at 12 characters a second (uncalibrated) times each "
        "line's profile rate:"
    )
    names = [line.split(":")[0] for line in report[heading + 1 :]]
    assert names == sorted(p.stem for p in (deployment / "flows").glob("*.yaml"))
    hotline = next(line for line in report if line.startswith("hotline: "))
    assert "silent caller to a person" in hotline and "at 'operator'" in hotline


def test_validate_prints_path_line_message_and_fails(deployment: Path) -> None:
    broken = deployment / "broken.yaml"
    broken.write_text(
        "name: broken\nstart: a\nnodes:\n  a: {kind: prompt, say: welcome, next: b}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["validate", "broken.yaml"])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "broken.yaml:4: node 'a': 'next' points to 'b', which is not a node in this flow"
    )


@pytest.mark.parametrize("command", ["validate", "reload", "serve"])
def test_outside_the_project_directory_the_command_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [command], env={"IVR_ENVIRONMENT": "development"})
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"flows:1: no such file or directory ({tmp_path / 'flows'})" in lines
    assert (
        f"IVR_FLOWS_DIR is flows (here: {tmp_path / 'flows'}), which is not a directory: "
        "run the command in the project directory or set the variable."
    ) in lines


def test_serve_refuses_to_start_on_a_broken_flow(deployment: Path) -> None:
    (deployment / "flows" / "hotline.yaml").write_text("name: [", encoding="utf-8")
    result = CliRunner().invoke(main, ["serve"], env={"IVR_ENVIRONMENT": "development"})
    assert result.exit_code == 1
    assert "flows/hotline.yaml:1: YAML syntax error" in result.output
    assert "refusing to start" in result.output


def test_serve_refuses_production_without_an_auth_token(deployment: Path) -> None:
    result = CliRunner().invoke(main, ["serve"], env={"IVR_ENVIRONMENT": "production"})
    assert result.exit_code == 1
    assert "TWILIO_AUTH_TOKEN is not set" in result.output


def test_reload_refuses_broken_files(deployment: Path) -> None:
    (deployment / "flows" / "hotline.yaml").write_text("name: [", encoding="utf-8")
    result = CliRunner().invoke(main, ["reload"])
    assert result.exit_code == 1
    assert "Not reloaded: the running servers keep their current flows." in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health(port: int) -> dict[str, object]:
    import json

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        return dict(json.loads(response.read()))


def _wait_for(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def test_a_running_server_reloads_on_sighup_and_keeps_good_flows(deployment: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "IVR_ENVIRONMENT": "development",
        "TWILIO_AUTH_TOKEN": "t",
        "IVR_DATABASE_URL": f"sqlite:///{deployment}/ivr.db",
        "IVR_RELOAD_INTERVAL": "0",
    }
    ivr = [sys.executable, "-m", "ivr.cli"]
    subprocess.run([*ivr, "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [*ivr, "serve", "--port", str(port), "--workers", "1", "--threads", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(lambda: _health(port)["ok"])
        before = _health(port)["flows"]
        prompts = deployment / "prompts" / "ru.yaml"
        prompts.write_text(
            prompts.read_text(encoding="utf-8").replace("Здравствуйте!", "Добрый день!"),
            encoding="utf-8",
        )
        server.send_signal(signal.SIGHUP)
        assert _wait_for(lambda: _health(port)["flows"] != before)
        edited = _health(port)["flows"]
        (deployment / "flows" / "hotline.yaml").write_text("name: [", encoding="utf-8")
        server.send_signal(signal.SIGHUP)
        assert _wait_for(lambda: _health(port)["flow_problems"])
        assert _health(port)["flows"] == edited
    finally:
        server.terminate()
        server.wait(timeout=30)

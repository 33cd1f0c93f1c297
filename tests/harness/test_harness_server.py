"""The harness against a real server: ``ivr serve`` in a subprocess, reached with ``--url``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.harness import audio
from tests.harness.conftest import ROOT

IVR = str(Path(sys.executable).with_name("ivr"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    def __init__(self, url: str, recordings_port: int) -> None:
        self.url = url
        self.recordings_port = recordings_port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("server")
    port, recordings_port = free_port(), free_port()
    # No account: a development server checks signatures with the development token, which
    # the harness signs with when it is given none either.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")},
        "IVR_ENVIRONMENT": "development",
        "IVR_DATABASE_URL": f"sqlite:///{tmp}/ivr.db",
        "IVR_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "IVR_FLOWS_DIR": str(ROOT / "flows"),
        "IVR_PROMPTS_DIR": str(ROOT / "prompts"),
        "IVR_VAR_DIR": str(tmp / "var"),
        "IVR_RECORDINGS_DIR": str(tmp / "recordings"),
        "IVR_TWILIO_API_BASE": f"http://127.0.0.1:{recordings_port}",
        "IVR_SKIP_SIGNATURE_CHECK": "",
    }
    subprocess.run([IVR, "db", "upgrade"], env=env, cwd=tmp, check=True, capture_output=True)
    log = (tmp / "server.log").open("w")
    process = subprocess.Popen(
        [IVR, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail("ivr serve exited: " + (tmp / "server.log").read_text())
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    "ivr serve did not answer /healthz: " + (tmp / "server.log").read_text()
                )
            time.sleep(0.2)
        yield Server(url, recordings_port)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def call(server: Server, *args: str, token: str | None = None) -> dict[str, object]:
    env = {"TWILIO_AUTH_TOKEN": token, "TWILIO_ACCOUNT_SID": None}
    result = CliRunner().invoke(
        main,
        ["call", "--url", server.url, "--to", "+78005553535", "--json", *args],
        env=env,
        catch_exceptions=False,
    )
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_a_call_through_a_running_server(server: Server) -> None:
    data = call(server, "--at", "2026-11-25T10:00", "--press", "1", "--press", "2")

    assert data["outcome"] == {
        "kind": "queue",
        "target": "tech",
        "detail": "",
        "label": "queue tech",
    }
    turns = data["turns"]
    assert isinstance(turns, list)
    assert [t["response"]["status"] for t in turns] == [200, 200, 200, 200, 200, 204]
    assert data["call_log"] is None  # a real server's database is its own


def test_a_development_server_honours_the_time(server: Server) -> None:
    data = call(server, "--at", "2026-11-25T22:30", "--press", "4")
    heard = data["heard"]
    assert isinstance(heard, list)
    assert (
        heard[3]
        == "Сейчас линия закрыта. Мы откроемся завтра в восемь часов по московскому времени."
    )


def test_a_wrong_token_is_refused_by_the_server(server: Server) -> None:
    data = call(server, "--at", "2026-11-25T10:00", token="wrong-token")
    assert data["outcome"]["kind"] == "refused"  # type: ignore[index]


def test_a_voicemail_is_fetched_from_the_harness_recording_host(server: Server) -> None:
    if audio.synthesiser() is None:
        pytest.skip("espeak-ng is not installed")
    data = call(
        server,
        "--at",
        "2026-11-25T22:30",
        "--recordings-port",
        str(server.recordings_port),
        "--press",
        "1",
        "--say",
        "Здравствуйте, не приходит код из СМС",
    )

    assert data["outcome"]["label"] == "hangup"  # type: ignore[index]
    recordings = data["recordings"]
    assert isinstance(recordings, list) and len(recordings) == 1
    assert recordings[0]["fetched"] >= 1
    heard = data["heard"]
    assert isinstance(heard, list)
    assert any("ваше сообщение сохранено" in text for text in heard)


def test_scenarios_against_a_running_server(server: Server) -> None:
    result = CliRunner().invoke(
        main,
        [
            "test-calls",
            "--url",
            server.url,
            "-k",
            "services and documents",
            str(ROOT / "tests" / "scenarios" / "hotline_open.yaml"),
        ],
        env={"TWILIO_AUTH_TOKEN": None, "TWILIO_ACCOUNT_SID": None},
        catch_exceptions=False,
    )

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "PASS  hotline_open.yaml: services and documents → services queue, announcements while "
        "waiting (not checked without the server's database: path)",
        "1 scenarios: 1 passed, 0 failed",
    ]

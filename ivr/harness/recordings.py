"""A stand-in for Twilio's recording host, on 127.0.0.1, for the recordings a call makes.

It answers ``GET /2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}`` (and ``.wav``)
with the WAV, and ``.json`` with the recording's metadata, so the server fetches a recording
exactly as it fetches one from Twilio: point the server's ``IVR_TWILIO_API_BASE`` at
``base_url``. Requests with HTTP basic auth must carry the account SID and auth token, as
Twilio's do; requests without credentials are served (a Twilio account's default).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from ivr.harness import audio

API_VERSION = "2010-04-01"
_PATH = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<account>[A-Za-z0-9]+)/Recordings/"
    r"(?P<sid>RE[A-Za-z0-9]+)(?P<ext>\.wav|\.mp3|\.json)?$"
)


@dataclass(frozen=True)
class StoredRecording:
    """One recording the host serves."""

    sid: str
    call_sid: str
    wav: bytes
    duration: int


class RecordingHost:
    """A small threaded HTTP server holding this session's recordings."""

    def __init__(
        self, account_sid: str, auth_token: str, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.recordings: dict[str, StoredRecording] = {}
        # Every request path the host answered, with its status: what the server fetched.
        self.requests: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ivr-recording-host", daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the API base the server should fetch from."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, sid: str) -> str:
        """A recording's URL as Twilio gives it in ``RecordingUrl`` (no extension)."""
        return f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"

    def add(self, sid: str, call_sid: str, wav: bytes) -> StoredRecording:
        """Serve ``wav`` as recording ``sid`` of ``call_sid``."""
        stored = StoredRecording(sid, call_sid, wav, audio.whole_seconds(wav))
        with self._lock:
            self.recordings[sid] = stored
        return stored

    def fetched(self, sid: str) -> int:
        """How many times a recording's media was served successfully."""
        with self._lock:
            return sum(1 for path, status in self.requests if sid in path and status == 200)

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RecordingHost:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _authorised(self, header: str | None) -> bool:
        if not header:
            return True
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.account_sid) and hmac.compare_digest(
            password, self.auth_token
        )

    def _answer(self, path: str, auth: str | None) -> tuple[int, str, bytes]:
        match = _PATH.match(path.split("?", 1)[0])
        if match is None:
            return 404, "application/json", b'{"code": 20404, "message": "Not Found"}'
        if not self._authorised(auth):
            return 401, "application/json", b'{"code": 20003, "message": "Authenticate"}'
        if match["account"] != self.account_sid:
            return 404, "application/json", b'{"code": 20404, "message": "Not Found"}'
        with self._lock:
            stored = self.recordings.get(match["sid"])
        if stored is None:
            return 404, "application/json", b'{"code": 20404, "message": "Not Found"}'
        if match["ext"] == ".json":
            meta = {
                "sid": stored.sid,
                "account_sid": self.account_sid,
                "call_sid": stored.call_sid,
                "duration": str(stored.duration),
                "channels": 1,
                "status": "completed",
                "source": "RecordVerb",
                "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{stored.sid}.json",
            }
            return 200, "application/json", json.dumps(meta).encode()
        if match["ext"] == ".mp3":
            return 404, "text/plain", b"the harness's recording host has WAV only\n"
        return 200, "audio/x-wav", stored.wav

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        host = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, with_body: bool) -> None:
                status, content_type, body = host._answer(
                    self.path, self.headers.get("Authorization")
                )
                with host._lock:
                    host.requests.append((self.path, status))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:
                self._reply(with_body=True)

            def do_HEAD(self) -> None:
                self._reply(with_body=False)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler

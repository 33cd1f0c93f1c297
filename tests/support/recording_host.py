"""A local stand-in for Twilio's recording host, for tests of the safe downloader."""

from __future__ import annotations

import base64
import io
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class SeenRequest:
    """One request the host received."""

    path: str
    authorization: str


@dataclass
class RecordingHost:
    """Serves ``/2010-04-01/Accounts/{AC}/Recordings/{RE}.wav`` from ``recordings``."""

    account_sid: str
    auth_token: str
    recordings: dict[str, bytes] = field(default_factory=dict)
    # Answer every request with this status instead (e.g. 500) when set.
    fail_with: int | None = None
    # Answer with a redirect to this URL when set.
    redirect_to: str | None = None
    seen: list[SeenRequest] = field(default_factory=list)
    # Seconds to wait before answering: keeps two downloads of one recording overlapping.
    delay: float = 0.0
    # Connections accepted, counted before a request line is read: a client that connects and
    # then fails (a TLS handshake sent to this plain-http host) is counted, and never in ``seen``.
    connections: int = 0
    base_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def handle(self) -> None:
                with host._lock:
                    host.connections += 1
                super().handle()

            def do_GET(self) -> None:
                host.seen.append(SeenRequest(self.path, self.headers.get("Authorization", "")))
                time.sleep(host.delay)
                expected = (
                    "Basic "
                    + base64.b64encode(f"{host.account_sid}:{host.auth_token}".encode()).decode()
                )
                if host.fail_with is not None:
                    self.send_response(host.fail_with)
                    self.end_headers()
                    return
                if host.redirect_to is not None:
                    self.send_response(307)
                    self.send_header("Location", host.redirect_to)
                    self.end_headers()
                    return
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                prefix = f"/2010-04-01/Accounts/{host.account_sid}/Recordings/"
                name = self.path.removeprefix(prefix).removesuffix(".wav")
                body = host.recordings.get(name) if self.path.startswith(prefix) else None
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/x-wav")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@contextmanager
def serve(host: RecordingHost) -> Iterator[RecordingHost]:
    """Run the host on a free port of 127.0.0.1 for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), host.handler())
    host.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()


def wav_bytes(seconds: float = 1.0) -> bytes:
    """A quiet 8 kHz mono WAV of ``seconds``, as a recording the host can serve."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x01\x00" * int(8000 * seconds))
    return buffer.getvalue()

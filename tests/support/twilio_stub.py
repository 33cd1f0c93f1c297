"""A stand-in for Twilio's REST API on 127.0.0.1, for tests that run the real twilio client.

Point ``Settings.twilio_api_base`` at :attr:`TwilioStub.base_url` and the twilio ``Client``
made by ``ivr.telephony.twilio_api.make_client`` sends its requests here. It answers

* ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json``: 201 and a call resource (``CA…``
  sid, ``"status": "queued"``), shaped as Twilio's so the client parses it;
* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: 201 and a message (``SM…``);
* ``GET /2010-04-01/Accounts/{AccountSid}/Calls/{CA…}.json``: a call created here, with the
  status set by :meth:`TwilioStub.set_call_status` (``queued`` until then), else 404;
* ``GET /2010-04-01/Accounts/{AccountSid}/Recordings/{RE…}.wav``: the bytes put in
  :attr:`TwilioStub.recordings`, else 404.

Every request is recorded (method, path, form fields, the status answered). Basic auth must
carry the account SID and auth token (401 otherwise, as Twilio answers). Failures are
simulated with :meth:`TwilioStub.fail_next` (the next N creations answer an error) or
:attr:`TwilioStub.fail_all` (every creation does, until set back to ``None``); a slow API with
:attr:`TwilioStub.delay` (seconds before each creation is answered).

Usage::

    with TwilioStub(ACCOUNT_SID, AUTH_TOKEN) as stub:
        settings = make_settings(..., twilio_api_base=stub.base_url)
        ...
        assert stub.calls[0].field("To") == "+79161234567"
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

API_VERSION = "2010-04-01"
_PATH = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<account>[A-Za-z0-9]+)/"
    r"(?P<resource>Calls|Messages)\.json$"
)
_CALL = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<account>[A-Za-z0-9]+)/Calls/(?P<sid>CA[0-9a-f]+)\.json$"
)
_RECORDING = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<account>[A-Za-z0-9]+)/Recordings/(?P<sid>RE[0-9a-f]+)\.wav$"
)

# Twilio's error codes for the simulated failures (https://www.twilio.com/docs/api/errors).
_ERROR_CODES = {400: 21211, 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}


@dataclass(frozen=True)
class StubRequest:
    """One request the stub received."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    status: int
    sid: str = ""

    def field(self, name: str, default: str = "") -> str:
        """The first value of a form field (``"To"``, ``"Url"``, …)."""
        values = self.form.get(name)
        return values[0] if values else default

    def query_of(self, url_field: str, name: str) -> str:
        """A query parameter of a URL field: ``call.query_of("Url", "callback")`` → ``"17"``."""
        return parse_qs(urlsplit(self.field(url_field)).query).get(name, [""])[0]

    @property
    def resource(self) -> str:
        """``Calls``, ``Messages`` or ``Recordings`` (or ``""`` for an unknown path)."""
        for name in ("Calls", "Messages", "Recordings"):
            if f"/{name}" in self.path:
                return name
        return ""


@dataclass
class _Failure:
    status: int
    message: str = field(default="Simulated failure")


class TwilioStub:
    """A small threaded HTTP server that accepts calls and messages as Twilio's API does."""

    def __init__(
        self, account_sid: str, auth_token: str, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[StubRequest] = []
        # Recording SID → WAV bytes served at Recordings/{sid}.wav.
        self.recordings: dict[str, bytes] = {}
        # Call SID → the call resource, for every call created (or added) here.
        self.call_resources: dict[str, dict[str, Any]] = {}
        # When set, every Calls/Messages creation answers this HTTP status.
        self.fail_all: int | None = None
        # Seconds to wait before answering a creation (a slow API; widens race windows).
        self.delay = 0.0
        self._failures: deque[_Failure] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        # A short poll interval lets close() return at once.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="twilio-stub", daemon=True
        )
        self._thread.start()

    # -- test API ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: the value for ``twilio_api_base``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail_next(self, status: int = 500, times: int = 1, message: str = "") -> None:
        """Answer the next ``times`` Calls/Messages creations with HTTP ``status``."""
        with self._lock:
            for _ in range(times):
                self._failures.append(_Failure(status, message or f"Simulated {status}"))

    def set_call_status(self, sid: str, status: str) -> None:
        """What ``GET Calls/{sid}.json`` says of a call (added when not created here)."""
        with self._lock:
            resource = self.call_resources.setdefault(
                sid, self._call_resource({}, lambda _name: "", sid)
            )
            resource["status"] = status

    @property
    def calls(self) -> list[StubRequest]:
        """Every ``Calls.json`` request accepted (answered 201), in order."""
        with self._lock:
            return [r for r in self.requests if r.resource == "Calls" and r.status == 201]

    @property
    def messages(self) -> list[StubRequest]:
        """Every ``Messages.json`` request accepted (answered 201), in order."""
        with self._lock:
            return [r for r in self.requests if r.resource == "Messages" and r.status == 201]

    def calls_by_query(self, url_field: str, name: str) -> dict[str, int]:
        """Accepted calls counted by a query parameter of one of their URLs.

        ``stub.calls_by_query("Url", "callback")`` → ``{"17": 1, …}``.
        """
        counts: dict[str, int] = {}
        for request in self.calls:
            value = request.query_of(url_field, name)
            counts[value] = counts.get(value, 0) + 1
        return counts

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> TwilioStub:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- answers -------------------------------------------------------------------------------

    def _authorised(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.account_sid) and hmac.compare_digest(
            password, self.auth_token
        )

    def _error(self, status: int, message: str) -> tuple[int, dict[str, Any]]:
        code = _ERROR_CODES.get(status, 20000 + status)
        return status, {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def _answer_create(
        self, resource: str, account: str, form: dict[str, list[str]]
    ) -> tuple[int, dict[str, Any]]:
        if account != self.account_sid:
            return self._error(404, "The requested resource was not found")
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
            always = self.fail_all
        if failure is not None:
            return self._error(failure.status, failure.message)
        if always is not None:
            return self._error(always, f"Simulated {always}")

        def one(name: str) -> str:
            values = form.get(name)
            return values[0] if values else ""

        if not one("To"):
            return self._error(400, "A 'To' phone number is required.")
        if resource == "Calls":
            if not one("From"):
                return self._error(400, "A 'From' phone number is required.")
            if not (one("Url") or one("Twiml") or one("ApplicationSid")):
                return self._error(400, "Either a 'Url', 'Twiml' or 'ApplicationSid' is required.")
            resource = self._call_resource(form, one)
            with self._lock:
                self.call_resources[resource["sid"]] = resource
            return 201, resource
        if not (one("From") or one("MessagingServiceSid")):
            return self._error(400, "A 'From' or 'MessagingServiceSid' parameter is required.")
        if not (one("Body") or one("MediaUrl") or one("ContentSid")):
            return self._error(400, "A text message body or media urls must be specified.")
        return 201, self._message_resource(one)

    def _call_resource(self, form: dict[str, list[str]], one: Any, sid: str = "") -> dict[str, Any]:
        sid = sid or "CA" + uuid.uuid4().hex
        now = formatdate(usegmt=True)
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}"
        return {
            "sid": sid,
            "date_created": now,
            "date_updated": now,
            "parent_call_sid": None,
            "account_sid": self.account_sid,
            "to": one("To"),
            "to_formatted": one("To"),
            "from": one("From"),
            "from_formatted": one("From"),
            "phone_number_sid": "PN" + "0" * 32,
            "status": "queued",
            "start_time": None,
            "end_time": None,
            "duration": None,
            "price": None,
            "price_unit": "USD",
            "direction": "outbound-api",
            "answered_by": None,
            "api_version": API_VERSION,
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": f"{base}.json",
            "subresource_uris": {
                "notifications": f"{base}/Notifications.json",
                "recordings": f"{base}/Recordings.json",
                "payments": f"{base}/Payments.json",
                "events": f"{base}/Events.json",
                "siprec": f"{base}/Siprec.json",
                "streams": f"{base}/Streams.json",
                "user_defined_message_subscriptions": (
                    f"{base}/UserDefinedMessageSubscriptions.json"
                ),
                "user_defined_messages": f"{base}/UserDefinedMessages.json",
            },
        }

    def _message_resource(self, one: Any) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        now = formatdate(usegmt=True)
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": one("Body"),
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": one("From") or None,
            "messaging_service_sid": one("MessagingServiceSid") or None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "status": "accepted" if one("MessagingServiceSid") else "queued",
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": one("To"),
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
        }

    def _record(self, request: StubRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                self._send(status, "application/json", json.dumps(payload).encode())

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                form: dict[str, list[str]] = {}
                for key, value in parse_qsl(raw, keep_blank_values=True):
                    form.setdefault(key, []).append(value)
                query = parse_qs(parts.query)
                match = _PATH.match(parts.path)
                if match is None:
                    status, payload = stub._error(404, "The requested resource was not found")
                elif not stub._authorised(self.headers.get("Authorization")):
                    status, payload = stub._error(401, "Authentication Error - invalid username")
                else:
                    status, payload = stub._answer_create(match["resource"], match["account"], form)
                stub._record(
                    StubRequest(
                        "POST", parts.path, query, form, status, str(payload.get("sid", ""))
                    )
                )
                self._json(status, payload)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                call = _CALL.match(parts.path)
                recording = _RECORDING.match(parts.path)
                authorised = stub._authorised(self.headers.get("Authorization"))
                with stub._lock:
                    resource = dict(stub.call_resources.get(call["sid"], {})) if call else {}
                    audio = stub.recordings.get(recording["sid"]) if recording else None
                if not (resource or audio is not None):
                    status = 404
                elif not authorised:
                    status = 401
                else:
                    status = 200
                stub._record(
                    StubRequest(
                        "GET",
                        parts.path,
                        parse_qs(parts.query),
                        {},
                        status,
                        resource.get("sid", ""),
                    )
                )
                if status != 200:
                    self._json(*stub._error(status, "The requested resource was not found"))
                elif audio is not None:
                    self._send(200, "audio/x-wav", audio)
                else:
                    self._json(200, resource)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler

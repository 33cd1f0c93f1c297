"""How the harness reaches the server: the Flask app in this process, or real HTTP."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from flask import Flask

# Twilio waits this long in all for an answer (TWILIO.md: webhooks).
TWILIO_TIMEOUT = 15.0
USER_AGENT = "TwilioProxy/1.1 (ivr-harness)"


class TransportError(Exception):
    """The server could not be reached at all."""


@dataclass(frozen=True)
class HttpReply:
    """What the server answered."""

    status: int
    body: str
    content_type: str


class Transport(Protocol):
    """Sends one webhook request as Twilio would."""

    def send(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> HttpReply:
        """POST ``params`` as a form (or GET them in the query string) to ``url``."""


def with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` appended to its query string (how Twilio sends a GET)."""
    if not params:
        return url
    separator = "&" if urlsplit(url).query else "?"
    return url + separator + urlencode(list(params.items()))


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


class AppTransport:
    """Requests to a Flask app in this process through its test client.

    ``base_url`` is the URL the app believes Twilio calls (its ``IVR_PUBLIC_URL``); a URL on
    another host cannot be reached in-process and raises ``TransportError``.
    """

    def __init__(self, app: Flask, base_url: str) -> None:
        self.client = app.test_client()
        self.base_url = base_url

    def send(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> HttpReply:
        """Run the request through the app."""
        if not _same_origin(url, self.base_url):
            raise TransportError(
                f"{url} is not on {self.base_url}: the in-process app cannot be reached there "
                "(use --url to call a real server)"
            )
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if method == "GET":
            response = self.client.get(
                with_query(path, params), headers=dict(headers), base_url=self.base_url
            )
        else:
            response = self.client.post(
                path, data=dict(params), headers=dict(headers), base_url=self.base_url
            )
        return HttpReply(
            response.status_code, response.get_data(as_text=True), response.content_type or ""
        )


class HttpTransport:
    """Requests over real HTTP (``urllib``), with Twilio's time limit."""

    def __init__(self, timeout: float = TWILIO_TIMEOUT) -> None:
        self.timeout = timeout

    def send(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> HttpReply:
        """One request; HTTP errors are replies, an unreachable server is ``TransportError``."""
        if method == "GET":
            request = urllib.request.Request(with_query(url, params), method="GET")
        else:
            request = urllib.request.Request(
                url, data=urlencode(list(params.items())).encode(), method="POST"
            )
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        request.add_header("User-Agent", USER_AGENT)
        for name, value in headers.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read().decode("utf-8", "replace")
                return HttpReply(response.status, body, response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
            return HttpReply(exc.code, body, exc.headers.get("Content-Type", ""))
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransportError(f"cannot reach {url}: {reason}") from exc
        except http.client.HTTPException as exc:
            # The server went away mid-answer (a killed worker): Twilio counts this as no
            # answer at all, so it is the same error as an unreachable server.
            raise TransportError(f"no complete answer from {url}: {exc!r}") from exc


class RewritingTransport:
    """Signs for the public URL Twilio would call, but sends to where the server listens.

    For a server behind a tunnel or proxy whose ``IVR_PUBLIC_URL`` differs from the address the
    harness can reach.
    """

    def __init__(self, inner: Transport, public_base: str, actual_base: str) -> None:
        self.inner = inner
        self.public_base = public_base.rstrip("/")
        self.actual_base = actual_base.rstrip("/")

    def send(
        self, method: str, url: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> HttpReply:
        """Send to the actual address instead of the public one."""
        if url == self.public_base or url.startswith(self.public_base + "/"):
            url = self.actual_base + url[len(self.public_base) :]
        return self.inner.send(method, url, params, headers)

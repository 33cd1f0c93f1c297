"""The one safe way to fetch a call recording from Twilio.

Voicemail and spoken request numbers both use it. The request's ``RecordingUrl`` is never
fetched: the URL is built from a ``RecordingSid`` that must look like Twilio's (``RE`` and 32
hex digits) on the configured API host, with the account's credentials. A redirect is followed
once, only to a Twilio-owned host, and without the credentials (``checked_redirect`` says
which redirects are followed and why). Size and time are capped.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

from ivr.config import Settings
from ivr.errors import IvrError

RECORDING_SID = re.compile(r"^RE[0-9a-f]{32}$")
# Where Twilio may send a media request on (seen for message media: media.twiliocdn.com). A
# redirect host must be a subdomain of one of these: ``api.twilio.com``, not ``twilio.com`` itself
# and not ``evil-twilio.com``.
TWILIO_REDIRECT_DOMAINS = ("twilio.com", "twiliocdn.com")
_CHUNK = 64 * 1024
# How much of a refused Location an error message repeats: it is the sender's text, and it ends up
# in logs and in the voicemail row.
_SHOWN = 80
# A scheme as RFC 3986 spells it, at the start of a Location.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# One DNS label of letters, digits and inner hyphens (checked after lowercasing).
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class RecordingError(IvrError):
    """A recording could not be fetched; the message says why in plain words."""


def is_recording_sid(value: str) -> bool:
    """True for a well-formed RecordingSid."""
    return RECORDING_SID.fullmatch(value) is not None


def _shown(text: str) -> str:
    """``text`` quoted for a message: escaped by ``repr`` and cut to ``_SHOWN`` characters."""
    if len(text) > _SHOWN:
        return repr(text[:_SHOWN]) + "…"
    return repr(text)


def _is_twilio_host(host: str) -> bool:
    """True for a subdomain of a Twilio media domain, matched whole labels at a time."""
    return any(host.endswith("." + domain) for domain in TWILIO_REDIRECT_DOMAINS)


def _refusal(location: str) -> str | None:
    """Why the raw text of a Location is refused before any parser sees it, or None.

    These are the forms on which URL parsers are known to disagree about the host (the stdlib's
    ``urlsplit`` reads ``https://127.0.0.2:1234\\@api.twilio.com/`` as api.twilio.com, urllib3
    as 127.0.0.2) or which a Twilio media URL never has. Refusing them outright leaves only plain
    ``https://host[:443]/path?query`` for the parser to read.
    """
    for char in location:
        if char.isspace() or unicodedata.category(char).startswith("C"):
            return "the address contains whitespace or a control character"
        if not char.isascii():
            return "the address contains a non-ASCII character"
    if "\\" in location:
        return "the address contains a backslash"
    # A user name or password in the address (``https://api.twilio.com@evil.com/``); an '@'
    # anywhere else is refused too, as that is where parsers disagree on where the host ends.
    if "@" in location:
        return "the address contains '@' (a user name or password)"
    return None


def _checked_host(authority: str) -> str:
    """The lowercased host of ``authority`` (``host`` or ``host:443``), or ``RecordingError``.

    Case: DNS names are case-insensitive and urllib3 lowercases the host it connects to, so
    ``API.Twilio.COM`` is accepted as api.twilio.com. A trailing dot (``api.twilio.com.``) is
    refused rather than stripped: it names the same host, but urllib3 resolves the dotted
    spelling and sends the undotted one for TLS and ``Host``, and Twilio never sends one.
    Refusing keeps one spelling per host: the one checked is the one resolved and sent.
    """
    if authority.startswith("["):
        raise RecordingError("the host is an IP address, not a Twilio name")
    host, colon, port = authority.lower().rpartition(":")
    if not colon:
        host = authority.lower()
    elif port != "443":
        # The default port spelled out is harmless. Any other port (8443, an empty one, 0443) is
        # not where Twilio serves media over https, and it is how a redirect would point at some
        # other service on a host: refused rather than trusted.
        raise RecordingError(f"the port is not 443 (it is {_shown(port)})")
    if not host:
        raise RecordingError("the address has no host")
    if "%" in host:
        raise RecordingError("the host is percent-encoded")
    if host.endswith("."):
        raise RecordingError("the host ends with a dot")
    if not all(_LABEL.fullmatch(label) for label in host.split(".")):
        raise RecordingError("the host is not a plain DNS name")
    if not _is_twilio_host(host):
        raise RecordingError("the host is not a Twilio host")
    return host


def checked_redirect(location: str, base: str) -> str:
    """The URL to fetch for a redirect to ``location`` from ``base``, or ``RecordingError``.

    Only ``https://`` on port 443 of a subdomain of twilio.com or twiliocdn.com is followed. A
    Location that is a path (``/2010-04-01/…``) is resolved against the origin of ``base`` and
    then checked the same way, so against the real API (https://api.twilio.com) it is followed
    and against a local http stand-in it is refused. Any other relative form, and any address
    with whitespace, control or non-ASCII characters, a backslash, an '@', a percent-encoded or
    IP host, or a port other than 443, is refused outright.

    The address is parsed once, by ``urllib3.util.parse_url``: the parser ``requests`` uses in
    ``PreparedRequest.prepare_url`` to find where to connect, and that result is what is
    checked. The URL returned is rebuilt from those parts (no user name, no port, no fragment),
    so what was checked is what ``requests`` fetches. The message says why in plain words and
    quotes at most the start of ``location``.
    """
    try:
        return _checked_redirect(location, base)
    except RecordingError as exc:
        raise RecordingError(f"refused a redirect to {_shown(location)}: {exc}") from None


def _checked_redirect(location: str, base: str) -> str:
    if not location:
        raise RecordingError("the redirect has no Location")
    reason = _refusal(location)
    if reason is not None:
        raise RecordingError(reason)
    scheme = _SCHEME.match(location)
    if scheme is None:
        # RFC 9110 allows a relative Location. Only a path is taken (what an API would send for
        # the same host); '//host/…' (another host under the same scheme), 'x.wav', '?q' are not.
        if not location.startswith("/") or location.startswith("//"):
            raise RecordingError("a relative redirect must be a path beginning with one '/'")
        origin = parse_url(base)
        location = Url(origin.scheme, host=origin.host, port=origin.port).url + location
        reason = _refusal(location)
        if reason is not None:  # only if base itself is odd; it comes from the configuration
            raise RecordingError(reason)
        scheme = _SCHEME.match(location)
    if scheme is None or scheme.group(1).lower() != "https":
        raise RecordingError("the address is not https")
    rest = location[scheme.end() :]
    if not rest.startswith("//"):
        raise RecordingError("the address has no host")
    # The authority as written: the parser below reads the same text (it ends the authority at
    # '/', '?', '#' or a backslash, and backslashes are already refused).
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    host = _checked_host(authority)
    try:
        parsed = parse_url(location)
    except LocationParseError:
        raise RecordingError("the address cannot be parsed") from None
    # The parser that connects must read the same host, no user name and no other port.
    if parsed.scheme != "https" or parsed.auth is not None or parsed.host != host:
        raise RecordingError("the address is read differently by the HTTP client")
    if parsed.port not in (None, 443):
        raise RecordingError("the port is not 443")
    target = Url("https", host=parsed.host, path=parsed.path or "/", query=parsed.query).url
    # Belt and braces: requests parses the URL it is given again with parse_url, and its adapter
    # picks the connection from ``urlsplit`` of the prepared URL; both must see the same host.
    again, split = parse_url(target), urlsplit(target)
    if (again.host, again.port, again.auth) != (host, None, None) or (
        split.hostname,
        split.port,
        split.username,
    ) != (host, None, None):
        raise RecordingError("the address is read differently by the HTTP client")
    return target


@dataclass(frozen=True)
class RecordingFetcher:
    """Downloads recordings as WAV from Twilio's REST API for one account."""

    account_sid: str
    auth_token: str
    api_base: str = "https://api.twilio.com"
    max_bytes: int = 20_000_000
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RecordingFetcher:
        """The fetcher for the configured account and API host."""
        return cls(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_api_base,
            settings.recording_max_bytes,
            settings.recording_timeout,
        )

    def url_for(self, recording_sid: str) -> str:
        """``{api}/2010-04-01/Accounts/{AC…}/Recordings/{RE…}.wav`` for a checked SID."""
        if not is_recording_sid(recording_sid):
            raise RecordingError(f"'{recording_sid[:40]}' is not a RecordingSid")
        return (
            f"{self.api_base.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}"
            f"/Recordings/{recording_sid}.wav"
        )

    def fetch(self, recording_sid: str) -> bytes:
        """The recording's WAV bytes, or ``RecordingError``."""
        url = self.url_for(recording_sid)
        deadline = time.monotonic() + self.timeout
        with requests.Session() as session:
            session.trust_env = False  # no proxies or .netrc from the environment
            response = self._get(session, url, (self.account_sid, self.auth_token), deadline)
            if response.is_redirect:
                location = response.headers.get("Location", "")
                response.close()
                target = checked_redirect(location, url)
                response = self._get(session, target, None, deadline)
                if response.is_redirect:
                    response.close()
                    raise RecordingError("refused a second redirect")
            with response:
                if response.status_code != 200:
                    raise RecordingError(f"Twilio answered {response.status_code}")
                return self._read(response, deadline)

    def _get(
        self,
        session: requests.Session,
        url: str,
        auth: tuple[str, str] | None,
        deadline: float,
    ) -> requests.Response:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            return session.get(
                url, auth=auth, stream=True, allow_redirects=False, timeout=(remaining, remaining)
            )
        except requests.RequestException as exc:
            raise RecordingError(f"download failed: {type(exc).__name__}") from exc

    def _read(self, response: requests.Response, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise RecordingError(f"recording is larger than {self.max_bytes} bytes")
        body = bytearray()
        try:
            for chunk in response.iter_content(_CHUNK):
                body += chunk
                if len(body) > self.max_bytes:
                    raise RecordingError(f"recording is larger than {self.max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise RecordingError(f"download took longer than {self.timeout:g} s")
        except requests.RequestException as exc:
            raise RecordingError(f"download failed: {type(exc).__name__}") from exc
        return bytes(body)

"""The one safe way to fetch a call recording from Twilio.

Voicemail and spoken request numbers both use it. The request's ``RecordingUrl`` is never
fetched: the URL is built from a ``RecordingSid`` that must look like Twilio's (``RE`` and 32
hex digits) on the configured API host, with the account's credentials. A redirect is followed
once, only to a Twilio-owned host, and without the credentials. Size and time are capped.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

from ivr.config import Settings
from ivr.errors import IvrError

RECORDING_SID = re.compile(r"^RE[0-9a-f]{32}$")
# Where Twilio may send a media request on (seen for message media: media.twiliocdn.com).
TWILIO_REDIRECT_HOSTS = (".twilio.com", ".twiliocdn.com")
_CHUNK = 64 * 1024


class RecordingError(IvrError):
    """A recording could not be fetched; the message says why in plain words."""


def is_recording_sid(value: str) -> bool:
    """True for a well-formed RecordingSid."""
    return RECORDING_SID.fullmatch(value) is not None


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
                target = urljoin(url, response.headers.get("Location", ""))
                response.close()
                host = urlsplit(target).hostname or ""
                if urlsplit(target).scheme != "https" or not host.endswith(TWILIO_REDIRECT_HOSTS):
                    raise RecordingError(f"refused a redirect to {host or 'an unknown host'}")
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

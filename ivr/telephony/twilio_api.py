"""The twilio REST client, pointed at the configured API base (a local stub in tests)."""

from __future__ import annotations

import logging

from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ivr.config import Settings
from ivr.domain.phones import is_mobile
from ivr.domain.privacy import mask_phone

log = logging.getLogger(__name__)

# Seconds any one Twilio REST request may take.
REST_TIMEOUT = 10.0


def make_client(settings: Settings) -> Client:
    """A twilio ``Client`` for the configured account whose API calls go to the API base."""
    # A slow API must not stall a webhook or the worker: every request is time-limited.
    client = Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        http_client=TwilioHttpClient(timeout=REST_TIMEOUT),
    )
    # Calls and messages live on the "api" domain; tests point it at a local stand-in.
    client.api.base_url = settings.twilio_api_base.rstrip("/")
    return client


class Messenger:
    """Sends text messages when messaging is configured (``IVR_SMS_FROM``)."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self.settings = settings
        self._client = client

    @property
    def enabled(self) -> bool:
        """True when a sender is configured."""
        return bool(self.settings.sms_from and self.settings.twilio_account_sid)

    def send(self, to: str, body: str) -> bool:
        """Send an SMS to a mobile number; False (logged) when it cannot or should not go."""
        if not self.enabled:
            return False
        if not is_mobile(to):
            log.info("no SMS to %s: not a mobile number", mask_phone(to))
            return False
        client = self._client or make_client(self.settings)
        sender = self.settings.sms_from
        try:
            if sender.startswith("MG"):
                client.messages.create(to=to, messaging_service_sid=sender, body=body)
            else:
                client.messages.create(to=to, from_=sender, body=body)
        except TwilioException as exc:
            log.warning("SMS to %s failed: %s", mask_phone(to), type(exc).__name__)
            return False
        return True

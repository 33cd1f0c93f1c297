"""Settings, read from an environment mapping that the caller passes in.

Nothing here reads ``os.environ`` on import: ``Settings.from_environ(os.environ)`` is called by
the command line and by the WSGI entry point, and tests pass a dict of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ivr.development import DEVELOPMENT_ACCOUNT_SID, DEVELOPMENT_AUTH_TOKEN
from ivr.errors import IvrError

log = logging.getLogger(__name__)

# Settings no longer read, and what replaced them: said at start so a deployment that still
# sets one is not quietly run on the new default.
RETIRED = {
    "IVR_CALLBACK_EXPIRY_HOURS": (
        "IVR_CALLBACK_EXPIRY_DAYS, which counts the days calls may be made on after the slot"
    ),
}

ENV_PREFIX = "IVR_"

# Fields read from a variable without the IVR_ prefix, as Twilio's own tools name them.
_UNPREFIXED = {
    "twilio_account_sid": "TWILIO_ACCOUNT_SID",
    "twilio_auth_token": "TWILIO_AUTH_TOKEN",
}


class ConfigError(IvrError):
    """The environment does not describe a usable configuration."""


class Settings(BaseModel):
    """Everything the server, the worker and the command line can be configured with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    environment: Literal["production", "development", "test"] = "production"
    database_url: str = "sqlite:///var/ivr.db"
    # SQLite: how a call's navigation turns are committed. What a caller left (voicemail,
    # booking, request) is always committed with synchronous=FULL; NORMAL lets a power cut
    # (not a crash) lose a call's last turn, FULL makes every commit wait for the disk.
    sqlite_navigation_sync: Literal["NORMAL", "FULL"] = "NORMAL"
    public_url: str = "http://127.0.0.1:5000"
    flows_dir: Path = Path("flows")
    prompts_dir: Path = Path("prompts")
    var_dir: Path = Path("var")
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    # Development only: answer webhooks without checking X-Twilio-Signature.
    skip_signature_check: bool = False
    voice_ru: str = "Polly.Tatyana"
    voice_en: str = "Polly.Joanna"
    # Where a caller goes when something inside the server fails.
    fallback_queue: str = "general"
    # How often (seconds) a web worker looks at the flow files for edits.
    reload_interval: float = Field(default=2.0, ge=0)
    log_level: str = "INFO"
    # Keep each web worker (all its threads) on one CPU of its own: see ``ivr.gunicorn_conf``.
    web_cpu_pinning: bool = False
    # Twilio's REST API; tests and the harness point it at a local stand-in (not in production).
    twilio_api_base: str = "https://api.twilio.com"
    recordings_dir: Path = Path("var/recordings")
    # Recordings larger than this are refused (bytes) and slower downloads abandoned (seconds).
    recording_max_bytes: int = Field(default=20_000_000, ge=1000)
    recording_timeout: float = Field(default=10.0, gt=0)
    # Outbound messaging (SMS with the request number): a sender number or a Messaging Service.
    sms_from: str = ""
    # The dispatcher: when it may dial (Moscow time), how often and how long between tries.
    calling_hours: str = "09:00-20:00"
    # Whether the dispatcher calls on public holidays and transferred days off too.
    calling_on_holidays: bool = False
    callback_retry_minutes: int = Field(default=15, ge=1)
    callback_max_attempts: int = Field(default=3, ge=1)
    # A booking not reached within this many days of calling after its slot (days the
    # dispatcher may call on: public holidays do not count) is no longer dialled.
    callback_expiry_days: int = Field(default=3, ge=1)
    worker_interval: float = Field(default=15.0, gt=0)
    # The number callbacks are dialled from when a booking has no line of ours on record.
    callback_caller_id: str = ""
    # An unpacked Vosk model directory; empty = no speech recognition (keypad only).
    vosk_model: str = ""

    @model_validator(mode="before")
    @classmethod
    def _development_account(cls, values: Any) -> Any:
        # A development server without an account still checks signatures, with the token
        # the harness signs with; production never gets a default.
        if isinstance(values, dict) and values.get("environment") == "development":
            values = dict(values)
            values["twilio_auth_token"] = values.get("twilio_auth_token") or DEVELOPMENT_AUTH_TOKEN
            values["twilio_account_sid"] = (
                values.get("twilio_account_sid") or DEVELOPMENT_ACCOUNT_SID
            )
        return values

    @model_validator(mode="after")
    def _production_is_safe(self) -> Settings:
        if self.environment == "production" and self.skip_signature_check:
            raise ValueError(
                "IVR_SKIP_SIGNATURE_CHECK may only be set with IVR_ENVIRONMENT=development or test"
            )
        if self.environment == "production":
            api = urlsplit(self.twilio_api_base)
            if api.scheme != "https" or not (api.hostname or "").endswith(".twilio.com"):
                raise ValueError(
                    "IVR_TWILIO_API_BASE must be an https://….twilio.com address in production"
                )
        return self

    @property
    def is_production(self) -> bool:
        """True unless the environment is explicitly development or test."""
        return self.environment == "production"

    def check_can_serve(self) -> None:
        """In production, refuse a server that would answer every webhook with 403."""
        if not self.is_production:
            return
        if not self.twilio_auth_token:
            raise ConfigError("TWILIO_AUTH_TOKEN is not set: every webhook would be refused")
        if urlsplit(self.public_url).hostname in ("127.0.0.1", "localhost", None):
            raise ConfigError(
                "IVR_PUBLIC_URL is not the address Twilio calls: no signature would match"
            )

    def voice_for(self, lang: str) -> str:
        """The configured ``<Say>`` voice for a language code such as ``ru``."""
        return self.voice_en if lang == "en" else self.voice_ru

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable that sets ``field``."""
        return _UNPREFIXED.get(field, ENV_PREFIX + field.upper())

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], **overrides: object) -> Settings:
        """Build settings from ``environ`` (e.g. ``os.environ``); ``overrides`` win."""
        for retired, successor in RETIRED.items():
            if environ.get(retired):
                log.warning("%s is no longer read; set %s", retired, successor)
        values: dict[str, object] = {}
        for field in cls.model_fields:
            name = cls.env_name(field)
            if name in environ and environ[name] != "":
                values[field] = environ[name]
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{cls.env_name(str(err['loc'][0])) if err['loc'] else 'settings'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigError(problems) from exc

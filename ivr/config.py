"""Settings, read from an environment mapping that the caller passes in (pydantic-settings).

Nothing here reads ``os.environ`` on import, nor when ``Settings`` is built: the command line
and the WSGI entry point call ``Settings.from_environ(os.environ)`` (the command line with
``./.env`` beneath it), and tests pass a dict of their own. pydantic-settings does the reading:
the ``IVR_`` prefix, Twilio's own unprefixed names (aliases), empty values ignored, ``.env``
files, and validation of every value.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from ivr.errors import IvrError

log = logging.getLogger(__name__)

# What a development server (``make run``) and the call harness share when no Twilio account
# is configured: an auth token and an account SID known to both, never used in production.
DEVELOPMENT_AUTH_TOKEN = "dev-auth-token"
DEVELOPMENT_ACCOUNT_SID = "AC" + "0" * 32

# Settings no longer read, and what replaced them: said at start so a deployment that still
# sets one is not quietly run on the new default.
RETIRED = {
    "IVR_CALLBACK_EXPIRY_HOURS": (
        "IVR_CALLBACK_EXPIRY_DAYS, which counts the days calls may be made on after the slot"
    ),
}

ENV_PREFIX = "IVR_"

# The console's signing key in production: long enough that it cannot be guessed.
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(IvrError):
    """The environment does not describe a usable configuration."""


class Settings(BaseSettings):
    """Everything the server, the worker and the command line can be configured with."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="ignore",
        env_prefix=ENV_PREFIX,
        # Variable names as the environment spells them (IVR_DATABASE_URL); matched
        # without regard to case, as pydantic-settings does by default.
        case_sensitive=False,
        env_ignore_empty=True,
        populate_by_name=True,
    )

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
    # Read without the IVR_ prefix, as Twilio's own tools name them.
    twilio_account_sid: str = Field(
        default="", validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "twilio_account_sid")
    )
    twilio_auth_token: str = Field(
        default="", validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "twilio_auth_token")
    )
    # Development only: answer webhooks without checking X-Twilio-Signature.
    skip_signature_check: bool = False
    voice_ru: str = "Polly.Tatyana"
    voice_en: str = "Polly.Joanna"
    # Where a caller goes when something inside the server fails.
    fallback_queue: str = "general"
    # How often (seconds) a web worker looks at the flow files for edits.
    reload_interval: float = Field(default=2.0, ge=0)
    log_level: str = "INFO"
    # Log lines as text (one line each) or as JSON objects (one a line), masked alike.
    log_format: Literal["text", "json"] = "text"
    # The bearer token GET /metrics asks for; empty = no /metrics (404).
    metrics_token: str = ""
    # Keep each web worker (all its threads) on one CPU of its own: see ``ivr.web.gunicorn_conf``.
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
    # The published SHA-256 of the archive `ivr model fetch` downloads (or pass --sha256).
    vosk_model_sha256: str = ""
    # The console: the key its session cookies and CSRF tokens are signed with (required in
    # production; development and test generate one under IVR_VAR_DIR), whether the cookie
    # is sent only over HTTPS (default: on in production, off elsewhere, for http://127.0.0.1),
    # and how many proxies in front of the server set X-Forwarded-For/-Proto (the address
    # the sign-in limit counts by).
    secret_key: str = Field(default="", repr=False)
    secure_cookies: bool | None = None
    proxy_hops: int = Field(default=0, ge=0, le=5)
    # Sign-in limits: failed attempts within the window, per account and per address.
    login_max_failures: int = Field(default=5, ge=1)
    login_address_max_failures: int = Field(default=20, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _development_account(cls, values: Any) -> Any:
        # A development server without an account still checks signatures, with the token
        # the harness signs with; production never gets a default.
        if isinstance(values, dict) and values.get("environment") == "development":
            values = dict(values)
            # The environment source keys these by their variable names (the aliases).
            token = values.pop("TWILIO_AUTH_TOKEN", None) or values.get("twilio_auth_token")
            account = values.pop("TWILIO_ACCOUNT_SID", None) or values.get("twilio_account_sid")
            values["twilio_auth_token"] = token or DEVELOPMENT_AUTH_TOKEN
            values["twilio_account_sid"] = account or DEVELOPMENT_ACCOUNT_SID
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

    @property
    def cookies_secure(self) -> bool:
        """Whether the console's cookies carry ``Secure``: as set, else only in production."""
        return self.is_production if self.secure_cookies is None else self.secure_cookies

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
        if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                "IVR_SECRET_KEY is not set (or shorter than "
                f"{MIN_SECRET_KEY_LENGTH} characters): the console could not sign its "
                "sessions; set it to a long random value, e.g. the output of "
                "python3 -c 'import secrets; print(secrets.token_hex(32))'"
            )

    def voice_for(self, lang: str) -> str:
        """The configured ``<Say>`` voice for a language code such as ``ru``."""
        return self.voice_en if lang == "en" else self.voice_ru

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what ``from_environ`` passes in: building settings never reads the process
        # environment behind the caller's back.
        return (init_settings,)

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable that sets ``field``."""
        alias = cls.model_fields[field].validation_alias
        if isinstance(alias, AliasChoices):
            return str(alias.choices[0])
        return ENV_PREFIX + field.upper()

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str],
        *,
        env_file: Path | None = None,
        **overrides: object,
    ) -> Settings:
        """Build settings from ``environ`` (e.g. ``os.environ``) over the values of
        ``env_file`` (a ``.env`` file, when given and present); ``overrides`` win."""
        for retired, successor in RETIRED.items():
            if environ.get(retired):
                log.warning("%s is no longer read; set %s", retired, successor)
        values: dict[str, Any] = {}
        if env_file is not None and env_file.is_file():
            values.update(DotEnvSettingsSource(cls, env_file=env_file)())
        values.update(_EnvironSource(cls, environ)())
        values.update(overrides)
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{cls._variable(err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(problems) from exc

    @classmethod
    def _variable(cls, loc: tuple[int | str, ...]) -> str:
        """The variable a validation error is about, for the message."""
        if not loc:
            return "settings"
        name = str(loc[0])
        return cls.env_name(name) if name in cls.model_fields else name


class _EnvironSource(EnvSettingsSource):
    """pydantic-settings' environment source over a mapping given to it, not ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = dict(environ)
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )

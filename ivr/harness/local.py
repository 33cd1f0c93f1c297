"""The webhook app in this process, for calls without a running server.

The in-process app uses the configured flows, prompts and voices, but never the configured
database: every harness session gets a fresh SQLite file in a temporary directory, so test
calls never land in a real call log and a repeated CallSid never meets an old call. A
production configuration is run as development (the private app faces no Twilio), so
``--at`` works; the rule that production ignores ``X-IVR-Clock`` is the server's and is tested
on a production-configured app. Signatures are still checked, with the configured
``TWILIO_AUTH_TOKEN`` or, when none is set, a throwaway token. Recordings are fetched from the
harness's recording host (``twilio_api_base``) into the session's directory, and no SMS is sent.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from flask import Flask
from sqlalchemy import select

from ivr.config import Settings
from ivr.flows.model import Flow
from ivr.harness.protocol import DEFAULT_ACCOUNT_SID
from ivr.harness.recordings import RecordingHost
from ivr.harness.simulator import CallHarness
from ivr.harness.transport import AppTransport
from ivr.store.models import Call
from ivr.web.extension import IvrServices

THROWAWAY_TOKEN = "harness-throwaway-auth-token"
# The Settings field of the server's recording downloader (built separately).
API_BASE_FIELD = "twilio_api_base"


def supports_api_base() -> bool:
    """True when the server's Settings can be pointed at another Twilio API base."""
    return API_BASE_FIELD in Settings.model_fields


def local_settings(
    configured: Settings, workdir: Path, recordings_base: str | None = None
) -> Settings:
    """The configured settings for a private in-process app in ``workdir``."""
    values: dict[str, Any] = dict(configured)
    values.update(
        environment="development" if configured.is_production else configured.environment,
        database_url=f"sqlite:///{workdir / 'calls.db'}",
        var_dir=workdir / "var",
        twilio_auth_token=configured.twilio_auth_token or THROWAWAY_TOKEN,
        twilio_account_sid=configured.twilio_account_sid or DEFAULT_ACCOUNT_SID,
        skip_signature_check=False,
        log_level="WARNING",
    )
    if recordings_base is not None and supports_api_base():
        values[API_BASE_FIELD] = recordings_base
    # Whatever the private app stores or sends stays in the session: downloaded recordings go
    # to its own directory, and no text message leaves for a real phone.
    private = {"recordings_dir": workdir / "recordings", "sms_from": ""}
    values.update({k: v for k, v in private.items() if k in Settings.model_fields})
    return Settings.model_validate(values)


class LazyRecordingHost:
    """Starts a ``RecordingHost`` the first time a recording is made (or at once)."""

    def __init__(self, account_sid: str, auth_token: str, port: int = 0) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.port = port
        self.host: RecordingHost | None = None
        self.on_start: Callable[[RecordingHost], None] | None = None

    def __call__(self) -> RecordingHost:
        if self.host is None:
            self.host = RecordingHost(self.account_sid, self.auth_token, port=self.port)
            if self.on_start is not None:
                self.on_start(self.host)
        return self.host

    def close(self) -> None:
        """Stop the host if it was started."""
        if self.host is not None:
            self.host.close()
            self.host = None


@dataclass(frozen=True)
class CallRecord:
    """What the server stored about one call: the node path and the inputs."""

    sid: str
    flow: str
    path: list[str]
    inputs: list[dict[str, Any]]
    status: str


class LocalApp:
    """A Flask webhook app that calls can be placed against in this process."""

    def __init__(
        self,
        app: Flask,
        recordings: LazyRecordingHost | None = None,
        workdir: tempfile.TemporaryDirectory[str] | None = None,
    ) -> None:
        self.app = app
        services: IvrServices = app.extensions["ivr"]
        self.services = services
        self.recordings = recordings or LazyRecordingHost(
            self.settings.twilio_account_sid or DEFAULT_ACCOUNT_SID,
            self.settings.twilio_auth_token,
        )
        self._workdir = workdir

    @classmethod
    def start(
        cls, configured: Settings, *, clock: Callable[[], datetime] | None = None
    ) -> LocalApp:
        """A fresh app over the configured flows, on a new temporary database."""
        from ivr.store.migrate import upgrade
        from ivr.web import create_app

        workdir = tempfile.TemporaryDirectory(prefix="ivr-harness-")
        try:
            recordings = LazyRecordingHost(
                configured.twilio_account_sid or DEFAULT_ACCOUNT_SID,
                configured.twilio_auth_token or THROWAWAY_TOKEN,
            )
            base = recordings().base_url if supports_api_base() else None
            settings = local_settings(configured, Path(workdir.name), base)
            upgrade(settings.database_url)
            app = create_app(settings) if clock is None else create_app(settings, clock=clock)
        except BaseException:
            workdir.cleanup()
            raise
        return cls(app, recordings, workdir)

    @property
    def settings(self) -> Settings:
        """The app's settings."""
        return self.services.settings

    def harness(self, *, auth_token: str | None = None) -> CallHarness:
        """A harness placing calls against this app, signing as Twilio with the app's token."""
        return CallHarness(
            AppTransport(self.app, self.settings.public_url),
            self.settings.public_url,
            self.settings.twilio_auth_token if auth_token is None else auth_token,
            account_sid=self.settings.twilio_account_sid or DEFAULT_ACCOUNT_SID,
            recordings=self.recordings,
            call_log=self.call_log,
        )

    def call_log(self, sid: str) -> dict[str, Any] | None:
        """The server's row for a call: flow, node path, inputs, status and duration."""
        with self.services.db.sessions() as session:
            call = session.get(Call, sid)
            if call is None:
                return None
            return {
                "flow": call.flow,
                "path": list(call.path),
                "inputs": list(call.inputs),
                "status": call.status,
                "duration": call.duration,
            }

    def calls(self) -> list[CallRecord]:
        """Every call this app answered."""
        with self.services.db.sessions() as session:
            rows = session.scalars(select(Call).order_by(Call.sid)).all()
            return [
                CallRecord(row.sid, row.flow, list(row.path), list(row.inputs), row.status)
                for row in rows
            ]

    def flows(self) -> dict[str, Flow]:
        """The flows the app serves now."""
        return dict(self.services.registry.current().flows)

    def close(self) -> None:
        """Release the database, the recording host and the temporary directory."""
        self.services.db.dispose()
        self.recordings.close()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> LocalApp:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

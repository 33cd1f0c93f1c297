"""The Flask application: ``create_app(settings)`` builds everything, nothing at import."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime

from flask import Flask

from ivr.config import DEVELOPMENT_AUTH_TOKEN, Settings
from ivr.domain.schedule import MOSCOW
from ivr.flows.registry import FlowRegistry
from ivr.logs import configure_logging
from ivr.services.actions import default_actions
from ivr.services.calls import ActionTable, CallService
from ivr.services.fallback import Fallback
from ivr.services.voicemails import VoicemailStore
from ivr.speech.lemmas import dictionary_words
from ivr.speech.recognizer import Recognizer, VoskRecognizer, load_model_from_env
from ivr.store.db import Database
from ivr.telephony.recordings import RecordingFetcher
from ivr.telephony.twilio_api import Messenger
from ivr.telephony.twiml import PromptAudio, TwimlRenderer
from ivr.web.console import init_console
from ivr.web.extension import IvrServices

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 1024 * 1024


def moscow_now() -> datetime:
    """The real clock, in Moscow time."""
    return datetime.now(MOSCOW)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = moscow_now,
    actions: ActionTable | None = None,
    recognizer: Recognizer | None = None,
) -> Flask:
    """Build the webhook application; refuses (``FlowError``) when a flow is broken."""
    if settings is None:
        settings = Settings.from_environ(os.environ)
    configure_logging(settings.log_level, settings.log_format)
    settings.check_can_serve()
    if settings.environment == "development" and settings.twilio_auth_token == (
        DEVELOPMENT_AUTH_TOKEN
    ):
        log.warning(
            "development server: webhooks are checked against the public development token; "
            "set TWILIO_AUTH_TOKEN to check them against your account's"
        )
    app = Flask(__name__)
    # Twilio's webhooks are a few kilobytes; anything far larger is refused (413) unread.
    app.config["MAX_CONTENT_LENGTH"] = MAX_WEBHOOK_BYTES
    db = Database.from_settings(settings)
    registry = FlowRegistry(
        settings.flows_dir,
        settings.prompts_dir,
        interval=settings.reload_interval,
        marker_dir=settings.var_dir,
        snapshots=lambda version: _load_snapshot(db, version),
        words=dictionary_words(),
    )
    registry.load()
    renderer = TwimlRenderer(
        settings.voice_for, PromptAudio(settings.prompts_dir / "audio"), settings.public_url
    )
    fetcher = RecordingFetcher.from_settings(settings)
    if recognizer is None and settings.vosk_model:
        model = load_model_from_env(settings.vosk_model)
        # Speech outside the number words is heard as unknown, not forced onto numbers.
        recognizer = VoskRecognizer(model, allow_unknown=True) if model is not None else None
    if actions is None:
        actions = default_actions(Messenger(settings), fetcher, recognizer)
    # Imported here, in the worker, never when the gunicorn master imports this package:
    # prometheus_client chooses its multiprocess mode when first imported, and the master
    # sets PROMETHEUS_MULTIPROC_DIR only as it starts (``ivr.web.gunicorn_conf``).
    from ivr.web import health, media, metrics_route, voice
    from ivr.web.metrics import Metrics

    metrics = Metrics.from_environ(db, clock)
    calls = CallService(
        settings,
        db,
        registry,
        renderer,
        actions,
        speech_available=recognizer is not None,
        events=metrics,
    )
    voicemails = VoicemailStore(db, fetcher, settings.recordings_dir)
    fallback = Fallback(settings, db, registry, events=metrics)
    app.extensions["ivr"] = IvrServices(settings, db, registry, calls, clock, voicemails, fallback)

    app.register_blueprint(voice.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(media.blueprint)
    metrics_route.install(app, metrics)
    init_console(app, settings)
    return app


def _load_snapshot(db: Database, version: str) -> str | None:
    from ivr.store.models import FlowVersion

    with db.sessions() as session:
        row = session.get(FlowVersion, version)
        return row.snapshot if row is not None else None

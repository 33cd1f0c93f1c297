"""The services one application instance holds, reachable from any request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from ivr.config import Settings
from ivr.flows.registry import FlowRegistry
from ivr.services.calls import CallService
from ivr.services.fallback import Fallback
from ivr.services.voicemails import VoicemailStore
from ivr.store.db import Database


@dataclass
class IvrServices:
    """Settings, database, flows, the call service and the clock of one app."""

    settings: Settings
    db: Database
    registry: FlowRegistry
    calls: CallService
    clock: Callable[[], datetime]
    voicemails: VoicemailStore
    fallback: Fallback


def services() -> IvrServices:
    """The services of the application handling the current request."""
    found: IvrServices = current_app.extensions["ivr"]
    return found

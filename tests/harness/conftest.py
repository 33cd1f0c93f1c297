"""Fixtures of the harness tests: settings over the shipped flows and an in-process app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ivr.config import Settings
from ivr.harness.local import LocalApp

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "harness-test-token"
ACCOUNT = "AC" + "1" * 32
PUBLIC_URL = "https://ivr.example.test"
MAIN_LINE = "+78005553535"


def harness_settings(**overrides: Any) -> Settings:
    """Settings over the shipped flows and prompts (the harness picks its own database)."""
    values: dict[str, Any] = {
        "environment": "test",
        "public_url": PUBLIC_URL,
        "flows_dir": ROOT / "flows",
        "prompts_dir": ROOT / "prompts",
        "twilio_account_sid": ACCOUNT,
        "twilio_auth_token": TOKEN,
        "reload_interval": 0,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def local() -> Iterator[LocalApp]:
    """The webhook app in this process, on a fresh database."""
    with LocalApp.start(harness_settings()) as app:
        yield app

"""Settings for the real app run inside a benchmark's own process (``benchmarks.turn_cpu``,
``benchmarks.asr``): the shipped flows and prompts, a work directory of the run's own, a
test environment, and quiet logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ivr.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def in_process_settings(
    workdir: Path,
    database_url: str,
    public_url: str,
    account_sid: str,
    auth_token: str,
    **more: Any,
) -> Settings:
    """The settings of an in-process app over the shipped flows; ``more`` adds or overrides
    fields (``twilio_api_base``, ``reload_interval`` …)."""
    return Settings.model_validate(
        {
            "environment": "test",
            "database_url": database_url,
            "public_url": public_url,
            "flows_dir": ROOT / "flows",
            "prompts_dir": ROOT / "prompts",
            "var_dir": workdir / "var",
            "recordings_dir": workdir / "recordings",
            "twilio_account_sid": account_sid,
            "twilio_auth_token": auth_token,
            "log_level": "WARNING",
            **more,
        }
    )

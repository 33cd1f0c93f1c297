"""The shipped scenario files, run as ``ivr test-calls`` runs them: one test per call, and
the coverage of every shipped flow by all of them together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.config import Settings
from ivr.harness import coverage, scenarios
from ivr.harness.local import LocalApp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCENARIOS = scenarios.load_paths([HERE])


def suite_settings() -> Settings:
    """The shipped flows and prompts; the harness gives the app its own database."""
    return Settings.model_validate(
        {
            "environment": "test",
            "public_url": "https://ivr.example.test",
            "flows_dir": ROOT / "flows",
            "prompts_dir": ROOT / "prompts",
            "twilio_account_sid": "AC" + "3" * 32,
            "twilio_auth_token": "scenario-token",
            "reload_interval": 0,
        }
    )


@pytest.fixture(scope="module")
def local() -> Iterator[LocalApp]:
    with LocalApp.start(suite_settings()) as app:
        yield app


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.title for s in SCENARIOS])
def test_scenario(scenario: scenarios.Scenario, local: LocalApp) -> None:
    scenarios.seed(scenario, local)
    outcome = scenarios.check(scenario, local.harness().place(scenario.spec), local)
    assert outcome.passed, "\n".join(scenarios.report([outcome]))


def test_scenarios_reach_every_node_and_menu_option_of_every_shipped_flow() -> None:
    with LocalApp.start(suite_settings()) as app:
        results = scenarios.run(SCENARIOS, app.harness(), app)
        covered = coverage.compute(app.flows(), app.calls())
    assert all(item.passed for item in results), "\n".join(scenarios.report(results))
    assert {cov.flow for cov in covered} >= {"hotline", "callback"}
    incomplete = [cov for cov in covered if not cov.complete]
    assert not incomplete, "\n".join(coverage.render(covered))

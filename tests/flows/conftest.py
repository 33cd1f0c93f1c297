"""Helpers for the flow tests: read a flow with its prompts and validate it, as the server does.

Problems are returned as the exact lines an admin sees (``path:line: message``), with paths
shown relative to a root directory so that the expected lines are the same on every machine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.flows.model import Flow
from ivr.flows.problems import Problem
from ivr.flows.reader import PromptCatalog, read_flow, read_prompts
from ivr.flows.validate import validate_flow
from ivr.speech.lemmas import dictionary_words

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def load_catalogs(prompts_dir: Path, root: Path) -> tuple[dict[str, PromptCatalog], list[Problem]]:
    """Every ``<lang>.yaml`` in ``prompts_dir``, shown relative to ``root``."""
    catalogs: dict[str, PromptCatalog] = {}
    problems: list[Problem] = []
    for path in sorted(prompts_dir.glob("*.yaml")):
        catalog, found = read_prompts(path, path.stem, path.relative_to(root).as_posix())
        problems += found
        if catalog is not None:
            catalogs[path.stem] = catalog
    return catalogs, problems


def read_and_validate(path: Path, root: Path) -> tuple[Flow | None, list[str]]:
    """Read ``path`` with the prompts in ``root/prompts`` and validate it.

    Returns the flow (None when it could not be read) and every problem as a sorted list of
    ``path:line: message`` lines with paths relative to ``root``.
    """
    catalogs, problems = load_catalogs(root / "prompts", root)
    flow, source, found = read_flow(path, catalogs, path.relative_to(root).as_posix())
    problems += found
    if flow is not None and source is not None:
        # Keywords heard through the server's own dictionary, as the registry does.
        flow.use_words(dictionary_words())
        problems += validate_flow(flow, source, catalogs)
    return flow, [str(problem) for problem in sorted(problems)]


@pytest.fixture
def fixtures_dir() -> Path:
    """The directory of the fixture flows; their prompts are in ``prompts/`` inside it."""
    return FIXTURES


@pytest.fixture
def repo_dir() -> Path:
    """The project directory, with the shipped ``flows/`` and ``prompts/``."""
    return REPO


@pytest.fixture
def load_flow() -> Callable[[Path, Path], tuple[Flow | None, list[str]]]:
    """``load_flow(path, root)``: read and validate a flow, see ``read_and_validate``."""
    return read_and_validate


@pytest.fixture
def problems_of() -> Callable[[str], list[str]]:
    """The problems of a fixture flow, e.g. ``problems_of("invalid/no_operator.yaml")``."""

    def problems(name: str) -> list[str]:
        return read_and_validate(FIXTURES / name, FIXTURES)[1]

    return problems


@pytest.fixture
def fixture_flow() -> Callable[[str], Flow]:
    """A valid fixture flow, read and validated; fails the test when it has problems."""

    def read(name: str) -> Flow:
        flow, problems = read_and_validate(FIXTURES / name, FIXTURES)
        assert problems == []
        assert flow is not None
        return flow

    return read

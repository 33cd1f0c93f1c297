"""Flows for the engine tests: the shipped hotline, and small flows written in the tests.

Both are read and validated exactly as the server reads them, so the engine is only ever
tested on flows the validator accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ivr.flows.model import Flow
from ivr.flows.reader import PromptCatalog, read_flow, read_prompts
from ivr.flows.validate import validate_flow
from ivr.speech.lemmas import dictionary_words

REPO = Path(__file__).resolve().parents[2]

# Prompt texts for the small test flows, short so that whole step lists stay readable.
PROMPTS: dict[str, dict[str, str]] = {
    "ru": {
        "hello": "Здравствуйте.",
        "menu": "Меню.",
        "sub": "Подменю.",
        "tip": "Совет.",
        "no_input": "Не слышу.",
        "no_match": "Нет такого.",
        "again": "Ещё раз.",
        "wrong": "Не то.",
        "connecting": "Соединяю.",
        "wait": "Ждите.",
        "sorry": "Не получилось.",
        "closed": "Закрыто, откроемся {next_opening}.",
        "holiday": "Праздник.",
        "named": "Здравствуйте, {name}{missing}.",
        "goodbye": "До свидания.",
    },
    "en": {
        "hello": "Hello.",
        "menu": "Menu.",
        "sub": "Submenu.",
        "tip": "Tip.",
        "no_input": "I can't hear you.",
        "no_match": "No such option.",
        "again": "Once more.",
        "wrong": "Not that.",
        "connecting": "Connecting.",
        "wait": "Please wait.",
        "sorry": "That did not work.",
        "closed": "Closed, we open {next_opening}.",
        "holiday": "Holiday.",
        "named": "Hello, {name}{missing}.",
        "goodbye": "Goodbye.",
    },
}


def read_checked(path: Path, prompts_dir: Path, root: Path) -> Flow:
    """Read a flow with every ``<lang>.yaml`` in ``prompts_dir``; fail on any problem."""
    catalogs: dict[str, PromptCatalog] = {}
    problems = []
    for file in sorted(prompts_dir.glob("*.yaml")):
        catalog, found = read_prompts(file, file.stem, file.relative_to(root).as_posix())
        problems += found
        if catalog is not None:
            catalogs[file.stem] = catalog
    flow, source, found = read_flow(path, catalogs, path.relative_to(root).as_posix())
    problems += found
    if flow is not None and source is not None:
        # Keywords heard through the server's own dictionary, as the registry does.
        flow.use_words(dictionary_words())
        problems += validate_flow(flow, source, catalogs)
    assert [str(p) for p in problems] == []
    assert flow is not None
    return flow


@pytest.fixture(scope="session")
def hotline() -> Flow:
    """The shipped main hotline with the shipped prompts."""
    return read_checked(REPO / "flows" / "hotline.yaml", REPO / "prompts", REPO)


@pytest.fixture
def make_flow(tmp_path: Path) -> Callable[[str], Flow]:
    """``make_flow(yaml_text)``: a validated flow over the prompts in ``PROMPTS``."""
    (tmp_path / "prompts").mkdir()
    for lang, texts in PROMPTS.items():
        (tmp_path / "prompts" / f"{lang}.yaml").write_text(
            yaml.safe_dump(texts, allow_unicode=True), encoding="utf-8"
        )

    def make(text: str) -> Flow:
        (tmp_path / "flow.yaml").write_text(text, encoding="utf-8")
        return read_checked(tmp_path / "flow.yaml", tmp_path / "prompts", tmp_path)

    return make

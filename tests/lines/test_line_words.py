"""Realistic phrasings at the main menus (tests/lines/phrasings.yaml) reach their place:
the shipped flows, heard through the server's dictionary, by the engine as a webhook runs it.
``python -m benchmarks.menu_words`` counts the same list on any checkout."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from ivr.domain.schedule import MOSCOW
from ivr.engine.interpreter import advance, new_state
from ivr.engine.state import Event
from ivr.engine.steps import Say
from ivr.flows.model import Flow
from ivr.flows.registry import load_flow_set
from ivr.speech.lemmas import dictionary_words

ROOT = Path(__file__).resolve().parents[2]
PHRASINGS = yaml.safe_load((Path(__file__).parent / "phrasings.yaml").read_text("utf-8"))
AT = datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW)  # a Wednesday, the main line is open
BEFORE = {"hotline": [], "abroad": ["2"]}  # the abroad line: 2 for English first
CASES = [
    pytest.param(flow, str(said), target, id=f"{flow}-{lang}-{target}-{said}")
    for flow, by_lang in PHRASINGS.items()
    for lang, by_target in by_lang.items()
    for target, phrases in by_target.items()
    for said in phrases
]


@pytest.fixture(scope="module")
def flows() -> dict[str, Flow]:
    flow_set, problems = load_flow_set([ROOT / "flows"], ROOT / "prompts", dictionary_words())
    assert problems == []
    assert flow_set is not None
    return flow_set.flows


@pytest.mark.parametrize(("flow_name", "said", "target"), CASES)
def test_a_phrasing_at_the_main_menu_reaches_its_place(
    flows: dict[str, Flow], flow_name: str, said: str, target: str
) -> None:
    flow = flows[flow_name]
    turn = advance(flow, new_state(flow), Event.start(), AT)
    for key in BEFORE[flow_name]:
        turn = advance(flow, turn.state, Event("digits", digits=key), AT)
    assert turn.state.node == "main_menu"
    before = len(turn.state.path)
    turn = advance(flow, turn.state, Event("speech", speech=said), AT)
    went = turn.state.path[before:]
    if target == "main_menu":
        # «Повторите»: the menu again, not a miss.
        assert went == []
        assert not any(isinstance(s, Say) and s.prompt_id == "no_match" for s in turn.steps)
    else:
        assert went[:1] == [target]

"""The shipped flows as files: `ivr validate` accepts them, and the rules the lines share
(profiles reused, not copied; the silence switch everywhere; no passwords) hold."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.flows.model import Flow
from ivr.flows.nodes import SUPPORT_EMAIL, LineNode, MenuNode, PromptNode
from ivr.flows.registry import FlowSet, load_flow_set
from ivr.flows.service_nodes import TextAlternativeNode

ROOT = Path(__file__).resolve().parents[2]
IVR = Path(sys.executable).parent / "ivr"


@pytest.fixture(scope="module")
def shipped() -> FlowSet:
    flows, problems = load_flow_set([ROOT / "flows"], ROOT / "prompts")
    assert flows is not None, "\n".join(str(p) for p in problems)
    return flows


def test_ivr_validate_passes() -> None:
    result = subprocess.run(
        [str(IVR), "validate"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in (
        "hotline",
        "abroad",
        "accessible",
        "hard_of_hearing",
        "site_help",
        "one_click",
        "regional",
        "callback",
    ):
        assert re.search(rf"^ok\s+{name} ", result.stdout, flags=re.M), result.stdout


def line_flows(shipped: FlowSet) -> list[Flow]:
    return [flow for flow in shipped.flows.values() if flow.lines]


def test_the_profiles_are_one_definition_shared_by_every_line(shipped: FlowSet) -> None:
    for flow in line_flows(shipped):
        if flow.name in ("one_click", "site_help"):
            # No menu and no profile of their own: nothing to switch on.
            assert flow.profiles == {}, flow.name
            continue
        assert flow.profiles == shipped.flows["hotline"].profiles, flow.name
    slow = shipped.flows["hotline"].profiles["slow"]
    assert (slow.rate, slow.pause, slow.timeout, slow.repeat, slow.speech, slow.max_options) == (
        "80%",
        1,
        12,
        1,
        "everywhere",
        4,
    )
    keypad = shipped.flows["hotline"].profiles["keypad"]
    assert keypad.speech == "off"
    assert keypad.model_dump(exclude={"title", "speech"}) == slow.model_dump(
        exclude={"title", "speech"}
    )


def test_every_line_with_menus_switches_silent_callers_to_slow(shipped: FlowSet) -> None:
    with_menus = [
        flow
        for flow in line_flows(shipped)
        if any(isinstance(node, MenuNode) for node in flow.nodes.values())
    ]
    assert {flow.name for flow in with_menus} == {"hotline", "abroad", "accessible", "regional"}
    for flow in with_menus:
        assert flow.defaults.silence_profile == "slow", flow.name
        # A silence slows the call down; the second in a row sends the caller on.
        assert flow.defaults.silence_switch_after == 1, flow.name
        assert flow.defaults.silence_limit == 2, flow.name
        for lang in flow.languages:
            help_text = " ".join(flow.prompt_text(lang, p) for p in flow.defaults.silence_help)
            expected = {
                "ru": "Если вам нужна помощь, оставайтесь на линии",
                "en": "If you need help, please stay on the line",
            }[lang]
            assert expected in help_text, (flow.name, lang)


def test_lines_are_on_their_profiles(shipped: FlowSet) -> None:
    profiles = {flow.name: flow.profile for flow in line_flows(shipped)}
    assert profiles == {
        "hotline": None,
        "abroad": None,
        "regional": None,
        "accessible": "slow",
        "hard_of_hearing": "slow",
        "site_help": None,
        "one_click": None,
    }


def test_regional_lines_reuse_the_main_menu_and_its_prompts(shipped: FlowSet) -> None:
    hotline, regional = shipped.flows["hotline"], shipped.flows["regional"]
    topics = [node for node in hotline.nodes if node.startswith(("main_menu", "to_", "tip_"))]
    assert len(topics) > 10
    for node_id in topics:
        assert regional.nodes[node_id] == hotline.nodes[node_id], node_id
    assert regional.prompt_text("ru", "main_menu") == hotline.prompt_text("ru", "main_menu")


def test_every_greeting_warns_about_passwords(shipped: FlowSet) -> None:
    for flow in line_flows(shipped):
        first = flow.nodes[flow.start]
        said = list(first.say)
        if isinstance(first, MenuNode):
            # The language choice comes first; the greeting is right after it.
            said = list(flow.nodes[next(iter(first.options.values())).go].say)
        if isinstance(first, LineNode):
            # Each centre's own welcome, then the common greeting: every branch warns.
            for welcome_id in first.lines.values():
                welcome = flow.nodes[welcome_id]
                assert isinstance(welcome, PromptNode)
                assert "no_passwords" in [*welcome.say, *flow.nodes[welcome.next].say]
            continue
        if isinstance(first, TextAlternativeNode):
            # The SMS goes before a word is said (hard of hearing), and says it too; the
            # voice says it right after.
            sms = "".join(flow.prompt_text("ru", pid) for pid in first.sms)
            assert "никогда не спрашивают пароли и коды из СМС" in sms
            said = list(flow.nodes[first.next].say)
        assert "no_passwords" in said, flow.name


def test_english_prompts_of_the_abroad_line_are_english(shipped: FlowSet) -> None:
    abroad = shipped.flows["abroad"]
    english = abroad.prompts["en"]
    # Everything in both languages, and the offer of English said only in English; the
    # support address is written once (prompts/ru.yaml) for both.
    assert set(english) == {*abroad.prompts["ru"], "for_english"} - {SUPPORT_EMAIL}
    for prompt_id, text in english.items():
        assert not re.search(r"[А-Яа-яЁё]", text), prompt_id
    assert "English" not in abroad.prompts["ru"]["language_choice"]

"""The safety notices rule: every path from the start to a person passes both notices."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flows.nodes import DialNode, QueueNode
from tests.flows.conftest import read_and_validate

PROMPTS = """\
recording_notice: Разговор записывается.
no_passwords: Мы никогда не спрашиваем пароли и коды из СМС.
menu: Нажмите 1, чтобы послушать совет. Специалист — 0.
tip: Совет дня.
connecting: Соединяю со специалистом.
goodbye: До свидания!
"""

# The notices are said after the menu: a caller who presses 0 (or says nothing) at the menu
# reaches a person unwarned; one who hears the tip first is warned.
FLOW = """\
name: late_notices
start: menu
defaults:
  operator: operator
  notices: [recording_notice, no_passwords]
nodes:
  menu:
    kind: menu
    say: menu
    options:
      "1": tip
  tip:
    kind: prompt
    say: [tip, recording_notice, no_passwords]
    next: operator
  operator:
    kind: queue
    queue: general
    say: connecting
    on_leave: bye
  desk:
    kind: dial
    number: "+78005553535"
    say: recording_notice
  bye:
    kind: hangup
    say: goodbye
"""


def _problems(tmp_path: Path, flow: str) -> list[str]:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "ru.yaml").write_text(PROMPTS, encoding="utf-8")
    (tmp_path / "flows").mkdir()
    path = tmp_path / "flows" / "flow.yaml"
    path.write_text(flow, encoding="utf-8")
    return read_and_validate(path, tmp_path)[1]


def test_a_person_reached_before_the_notices_is_reported_with_its_path(tmp_path: Path) -> None:
    # 'desk' is reached by no path: the reachability rule reports it, not this one.
    flow = FLOW.replace('      "1": tip\n', '      "1": tip\n      "2": desk\n')
    assert _problems(tmp_path, flow) == [
        "flows/flow.yaml:17: node 'operator': a caller reaches a person here without hearing "
        "the safety notices 'no_passwords' and 'recording_notice', on the path menu → operator",
        "flows/flow.yaml:22: node 'desk': a caller reaches a person here without hearing "
        "the safety notice 'no_passwords', on the path menu → desk",
    ]


def test_notices_said_before_the_menu_satisfy_the_rule(tmp_path: Path) -> None:
    flow = FLOW.replace("    say: menu\n", "    say: [recording_notice, no_passwords, menu]\n")
    flow = flow.replace(
        '  desk:\n    kind: dial\n    number: "+78005553535"\n    say: recording_notice\n', ""
    )
    assert _problems(tmp_path, flow) == []


def test_a_flow_naming_no_notices_is_not_checked(tmp_path: Path) -> None:
    flow = FLOW.replace("  notices: [recording_notice, no_passwords]\n", "")
    flow = flow.replace(
        '  desk:\n    kind: dial\n    number: "+78005553535"\n    say: recording_notice\n', ""
    )
    assert _problems(tmp_path, flow) == []


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "flows").glob("*.yaml")))
def test_every_shipped_flow_that_reaches_a_person_names_both_notices(name: str) -> None:
    flow, problems = read_and_validate(REPO / "flows" / name, REPO)
    assert flow is not None and problems == []
    if any(isinstance(node, QueueNode | DialNode) for node in flow.nodes.values()):
        assert set(flow.defaults.notices) == {"recording_notice", "no_passwords"}

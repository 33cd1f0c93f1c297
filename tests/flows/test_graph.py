"""``ivr graph``: a flow drawn with Graphviz (the DOT source, the picture, the command)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.flows.graph import flow_graph, node_files, to_dot
from ivr.flows.model import Flow
from ivr.flows.nodes import HangupNode, MenuNode, MenuOption, PromptNode
from ivr.flows.registry import load_flow_set

REPO = Path(__file__).resolve().parents[2]
HAS_DOT = shutil.which("dot") is not None

SMALL_FLOW = """\
name: small
title: Small line
lines: ["+74950000001"]
start: hello
schedule:
  hours: {mon-fri: "09:00-18:00"}
  holidays: closed
defaults:
  operator: agents
nodes:
  hello:
    kind: prompt
    say: hello
    next: open_hours
  open_hours:
    kind: schedule
    open: menu
    closed: bye
  menu:
    kind: menu
    say: menu
    options:
      "1": {go: agents, keywords: [человек]}
      "2": bye
  agents:
    kind: queue
    queue: general
    on_leave: bye
  bye:
    kind: hangup
    say: bye
"""
SMALL_PROMPTS = """\
hello: Здравствуйте! Это маленькая линия для проверки рисунка.
menu: Оператор — 1, до свидания — 2.
bye: До свидания!
"""

_GREY = '<FONT POINT-SIZE="10" COLOR="#555555">'
SMALL_DOT = f"""\
digraph small {{
\tfontname=Helvetica fontsize=18 label=<<B>small</B> — Small line<BR/>\
<FONT POINT-SIZE="12" COLOR="#555555">+74950000001</FONT><BR/>\
<FONT POINT-SIZE="12" COLOR="#555555">hours: mon-fri 09:00-18:00 · holidays closed</FONT>> \
labelloc=t nodesep=0.35 rankdir=TB ranksep=0.5
\tnode [fontname=Helvetica fontsize=11 margin="0.12,0.06"]
\tedge [arrowsize=0.7 fontname=Helvetica fontsize=10]
\t_start [label=call fillcolor="#333333" fixedsize=true fontcolor="#ffffff" fontsize=10 \
shape=circle style=filled width=0.45]
\tagents [label=<<B>agents</B><BR/>{_GREY}queue general</FONT>> fillcolor="#d6f0d6" \
peripheries=2 shape=box style=filled]
\tbye [label=<<B>bye</B><BR/>{_GREY}hangup</FONT><BR/><I>«До свидания!»</I>> \
fillcolor="#f7d4d4" peripheries=2 shape=octagon style=filled]
\thello [label=<<B>hello</B><BR/>{_GREY}prompt</FONT><BR/><I>«Здравствуйте! Это</I><BR/>\
<I>маленькая линия для</I><BR/><I>проверки…»</I>> fillcolor="#e8f0fb" penwidth=2 shape=box \
style="rounded,filled"]
\tmenu [label=<<B>menu</B><BR/>{_GREY}menu · * repeats</FONT><BR/>\
<I>«Оператор — 1, до свидания —</I><BR/><I>2.»</I>> fillcolor="#fff2b3" shape=tab style=filled]
\topen_hours [label=<<B>open_hours</B><BR/>{_GREY}schedule</FONT>> fillcolor="#e6dcf5" \
shape=diamond style=filled]
\t_start -> hello [color="#333333" penwidth=1.5]
\tagents -> bye [label=on_leave color="#999999" fontcolor="#777777" style=dashed]
\thello -> open_hours [label=next color="#666666" fontcolor="#666666"]
\tmenu -> agents [label="1 · человек\\n0 · operator\\nfailure" color="#333333"]
\tmenu -> bye [label=2 color="#333333"]
\topen_hours -> menu [label=open color="#2e7d32"]
\topen_hours -> bye [label=closed color="#c62828"]
}}
"""


@pytest.fixture(scope="module")
def hotline() -> Flow:
    flow_set, problems = load_flow_set([REPO / "flows"], REPO / "prompts")
    assert flow_set is not None, problems
    return flow_set.flows["hotline"]


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped flows and prompts as the working directory."""
    shutil.copytree(REPO / "flows", tmp_path / "flows")
    shutil.copytree(REPO / "prompts", tmp_path / "prompts")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IVR_FLOWS_DIR", raising=False)
    monkeypatch.delenv("IVR_PROMPTS_DIR", raising=False)
    return tmp_path


@pytest.fixture
def small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A deployment with one small flow, as the working directory."""
    (tmp_path / "flows").mkdir()
    (tmp_path / "prompts").mkdir()
    (tmp_path / "flows" / "small.yaml").write_text(SMALL_FLOW, encoding="utf-8")
    (tmp_path / "prompts" / "ru.yaml").write_text(SMALL_PROMPTS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IVR_FLOWS_DIR", raising=False)
    monkeypatch.delenv("IVR_PROMPTS_DIR", raising=False)
    return tmp_path


def _node_ids_in(dot: str) -> set[str]:
    return set(re.findall(r"^\t+(\w+) \[label=", dot, flags=re.MULTILINE))


# The DOT source


def test_hotline_dot_has_every_node_menu_keys_and_schedule_branches(hotline: Flow) -> None:
    dot = to_dot(hotline)
    assert _node_ids_in(dot) == {*hotline.nodes, "_start"}
    assert '_start -> greeting [color="#333333" penwidth=1.5]' in dot
    # The first keywords on the edge, then "…"; a shortcut's words on an edge of their own.
    assert (
        'main_menu -> tech_menu [label="1 · технический,\\nтехподдержка, ошибка, сбой,\\n…"' in dot
    )
    assert 'main_menu -> tip_login [label="said · пароль, логин, не\\nмогу войти' in dot
    assert 'tech_menu -> main_menu [label="9 · главное меню, назад,\\nвернуться"' in dot
    # 0 and failure: both to the flow's operator, drawn as one dashed edge.
    assert 'main_menu -> operator [label="0 · operator\\nfailure"' in dot
    # The after-hours menu sets its own operator (no one works: a prompt, then the menu).
    assert 'after_hours_menu -> no_operators [label="0 · operator"' in dot
    assert 'hours -> main_menu [label=open color="#2e7d32"]' in dot
    assert 'hours -> after_hours [label="closed\\nholiday" color="#c62828"]' in dot
    assert "to_tech -> queue_callback [label=on_leave" in dot
    assert "queue_callback -> channels_bye [label=failure" in dot
    assert "(more options)" in dot
    assert "* repeats" in dot


def test_hotline_nodes_look_like_their_kind(hotline: Flow) -> None:
    dot = to_dot(hotline)

    def attrs(node_id: str) -> str:
        match = re.search(rf"^\t+{node_id} \[(.*)\]$", dot, flags=re.MULTILINE)
        assert match is not None, node_id
        return match.group(1)

    assert "shape=tab" in attrs("main_menu")
    assert "shape=diamond" in attrs("hours")
    for end in ("operator", "voicemail", "bye"):
        assert "peripheries=2" in attrs(end)
    assert "penwidth=2" in attrs("greeting")  # the start node
    # id, kind and the first words of the first prompt in the flow's first language.
    assert "<B>greeting</B>" in attrs("greeting")
    assert "«Здравствуйте! Вы</I>" in attrs("greeting")
    assert "queue general" in attrs("operator")


def test_hotline_dot_is_deterministic(hotline: Flow) -> None:
    again, problems = load_flow_set([REPO / "flows"], REPO / "prompts")
    assert again is not None, problems
    assert to_dot(hotline) == to_dot(hotline) == to_dot(again.flows["hotline"])


def test_hotline_parts_are_drawn_as_clusters(
    hotline: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    files = node_files(hotline)
    assert files["greeting"] == hotline.source
    assert files["main_menu"].endswith("parts/topics.yaml")
    assert files["voicemail"].endswith("parts/after_hours.yaml")
    dot = to_dot(hotline, files)
    assert 'subgraph cluster_parts_topics_yaml {\n\t\tcolor="#aaaaaa"' in dot
    assert 'label="parts/topics.yaml"' in dot
    assert 'label="parts/after_hours.yaml"' in dot
    # Nodes of the flow's own file stay at the top level; every node is still drawn once.
    assert re.search(r"^\tgreeting \[", dot, flags=re.MULTILINE)
    assert re.search(r"^\t\tmain_menu \[", dot, flags=re.MULTILINE)
    assert len(re.findall(r"^\t+\w+ \[label=", dot, flags=re.MULTILINE)) == len(hotline.nodes) + 1
    assert to_dot(hotline, files) == to_dot(hotline, node_files(hotline))


def test_a_small_flow_as_dot(small: Path) -> None:
    flow_set, problems = load_flow_set([small / "flows"], small / "prompts")
    assert flow_set is not None, problems
    flow = flow_set.flows["small"]
    assert to_dot(flow) == SMALL_DOT
    # The flow is all in one file: no clusters.
    assert to_dot(flow, node_files(flow)) == SMALL_DOT


def test_odd_node_ids_and_language_options_are_drawn_safely() -> None:
    flow = Flow(
        name="odd",
        languages=["ru", "en"],
        start="pick",
        nodes={
            "pick": MenuNode(
                say=["choose"],
                options={
                    "1": MenuOption(go="a:b", lang="en", keywords=["english"]),
                    "2": MenuOption(go="<end>", profile="slow"),
                },
                operator="<end>",
            ),
            "a:b": PromptNode(say=["hi"], next="<end>"),
            "<end>": HangupNode(),
        },
        prompts={"ru": {"choose": 'Выбор "языка" & <всё>', "hi": "Привет"}},
    )
    dot = to_dot(flow)
    colon, html = "n_" + b"a:b".hex(), "n_" + b"<end>".hex()
    assert f'pick -> {colon} [label="1 · english\\n→ language en"' in dot
    assert f'pick -> {html} [label="2\\n→ profile slow\\n0 · operator\\nfailure"' in dot
    assert f"{colon} -> {html} [label=next" in dot
    assert "<B>a:b</B>" in dot
    assert "<B>&lt;end&gt;</B>" in dot
    assert "«Выбор &quot;языка&quot; &amp; &lt;всё&gt;»" in dot
    assert "languages ru, en" in dot
    assert flow_graph(flow).source == dot


# The command


def test_graph_prints_dot_for_a_flow_name(deployment: Path) -> None:
    result = CliRunner().invoke(main, ["graph", "hotline"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("digraph hotline {")
    assert 'label="parts/topics.yaml"' in result.stdout
    assert 'main_menu -> tech_menu [label="1 · технический,\\nтехподдержка' in result.stdout
    again = CliRunner().invoke(main, ["graph", "flows/hotline.yaml"])
    assert again.exit_code == 0, again.output
    assert again.stdout == result.stdout


def test_graph_writes_dot(deployment: Path) -> None:
    result = CliRunner().invoke(main, ["graph", "hotline", "-o", "hotline.dot"])
    assert result.exit_code == 0, result.output
    assert "Wrote hotline.dot: flow 'hotline'" in result.output
    text = (deployment / "hotline.dot").read_text(encoding="utf-8")
    assert text.startswith("digraph hotline {")


@pytest.mark.skipif(
    not HAS_DOT, reason="Graphviz's dot is not installed (apt-get install graphviz)"
)
def test_graph_writes_svg_and_png(deployment: Path) -> None:
    result = CliRunner().invoke(main, ["graph", "hotline", "-o", "hotline.svg"])
    assert result.exit_code == 0, result.output
    svg = (deployment / "hotline.svg").read_text(encoding="utf-8")
    assert "<svg" in svg
    assert "main_menu" in svg
    assert "техподдержка, ошибка, сбой," in svg
    result = CliRunner().invoke(main, ["graph", "hotline", "--output", "hotline.png"])
    assert result.exit_code == 0, result.output
    assert (deployment / "hotline.png").read_bytes().startswith(b"\x89PNG")


def test_graph_without_dot_says_to_install_graphviz(
    deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (deployment / "empty").mkdir()
    monkeypatch.setenv("PATH", str(deployment / "empty"))
    result = CliRunner().invoke(main, ["graph", "hotline", "-o", "hotline.svg"])
    assert result.exit_code == 2
    assert "Install Graphviz" in result.output
    assert "-o hotline.dot" in result.output
    assert not (deployment / "hotline.svg").exists()
    # DOT needs no Graphviz.
    assert CliRunner().invoke(main, ["graph", "hotline", "-o", "hotline.dot"]).exit_code == 0


def test_graph_refuses_an_unknown_output_format(deployment: Path) -> None:
    result = CliRunner().invoke(main, ["graph", "hotline", "-o", "hotline.jpg"])
    assert result.exit_code == 2
    assert "cannot write '.jpg' files; use .svg, .png or .pdf" in result.output


def test_graph_of_a_broken_flow_prints_its_problems(deployment: Path) -> None:
    broken = deployment / "broken.yaml"
    broken.write_text(
        "name: broken\nstart: a\nnodes:\n  a: {kind: prompt, say: welcome, next: b}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["graph", "broken.yaml"])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "broken.yaml:4: node 'a': 'next' points to 'b', which is not a node in this flow"
    )
    assert "nothing drawn" in result.output
    assert "digraph" not in result.output


def test_graph_of_a_broken_named_flow_exits_1(deployment: Path) -> None:
    hotline = deployment / "flows" / "hotline.yaml"
    hotline.write_text(
        hotline.read_text(encoding="utf-8").replace("next: hours", "next: nowhere"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["graph", "hotline"])
    assert result.exit_code == 1
    assert "flows/hotline.yaml:" in result.stdout
    assert "'next' points to 'nowhere'" in result.stdout


def test_a_broken_other_flow_does_not_stop_the_drawing(deployment: Path) -> None:
    (deployment / "flows" / "callback.yaml").write_text("name: [", encoding="utf-8")
    result = CliRunner().invoke(main, ["graph", "hotline"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("digraph hotline {")


def test_graph_finds_a_flow_named_unlike_its_file(small: Path) -> None:
    (small / "flows" / "small.yaml").rename(small / "flows" / "line_one.yaml")
    result = CliRunner().invoke(main, ["graph", "small"])
    assert result.exit_code == 0, result.output
    assert result.stdout == SMALL_DOT


def test_graph_of_an_unknown_name_says_which_flows_there_are(deployment: Path) -> None:
    result = CliRunner().invoke(main, ["graph", "hotlnie"])
    assert result.exit_code == 2
    assert "there is no flow named 'hotlnie' in flows/" in result.output
    assert "abroad" in result.output and "hotline" in result.output


def test_graph_of_a_missing_file(deployment: Path) -> None:
    result = CliRunner().invoke(main, ["graph", "flows/nope.yaml"])
    assert result.exit_code == 2
    assert "there is no flow file 'flows/nope.yaml'" in result.output

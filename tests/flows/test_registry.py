"""The flow registry: the working set, duplicate lines, live reload, versions of old calls."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.flows.problems import FlowError
from ivr.flows.registry import FlowRegistry, load_flow_set
from ivr.speech.lemmas import dictionary_words

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped flows and prompts to edit."""
    shutil.copytree(REPO / "flows", tmp_path / "flows")
    shutil.copytree(REPO / "prompts", tmp_path / "prompts")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_number_claimed_by_two_flows_is_refused(deployment: Path) -> None:
    copy = deployment / "flows" / "copy.yaml"
    text = (deployment / "flows" / "hotline.yaml").read_text(encoding="utf-8")
    copy.write_text(text.replace("name: hotline", "name: copy"), encoding="utf-8")
    flow_set, problems = load_flow_set([deployment / "flows"], deployment / "prompts")
    assert flow_set is None
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("lines:"))
    assert [str(p) for p in problems] == [
        f"flows/hotline.yaml:{line}: line +78005553535 is already served by flow 'copy' "
        "(flows/copy.yaml)"
    ]


def test_numbers_in_any_common_form_reach_the_flow(deployment: Path) -> None:
    flow_set, _ = load_flow_set([deployment / "flows"], deployment / "prompts")
    assert flow_set is not None
    for dialled in ("+78005553535", "88005553535", "8 800 555-35-35", "+7 (800) 555 35 35"):
        flow = flow_set.for_line(dialled)
        assert flow is not None and flow.name == "hotline"
    assert flow_set.for_line("+74950000000") is None


def registry(deployment: Path) -> FlowRegistry:
    return FlowRegistry(
        deployment / "flows", deployment / "prompts", interval=0, marker_dir=deployment / "var"
    )


def test_an_edit_is_picked_up_and_a_broken_one_never_replaces_the_working_set(
    deployment: Path,
) -> None:
    reg = registry(deployment)
    first = reg.load().flows["hotline"]
    prompts = deployment / "prompts" / "ru.yaml"
    prompts.write_text(
        prompts.read_text(encoding="utf-8").replace("Здравствуйте!", "Добрый день!"),
        encoding="utf-8",
    )
    edited = reg.current().flows["hotline"]
    assert edited.version != first.version
    assert edited.prompt_text("ru", "welcome").startswith("Добрый день!")

    hotline = deployment / "flows" / "hotline.yaml"
    hotline.write_text(
        hotline.read_text(encoding="utf-8").replace("next: hours", "next: nowhere"),
        encoding="utf-8",
    )
    kept = reg.current().flows["hotline"]
    assert kept.version == edited.version
    assert [p.message for p in reg.last_problems] == [
        "node 'greeting': 'next' points to 'nowhere', which is not a node in this flow"
    ]
    # Calls that started on the first version still find it.
    assert reg.version(first.version) == first


def test_reload_request_is_seen_by_other_registries(deployment: Path) -> None:
    watcher, admin = registry(deployment), registry(deployment)
    watcher.load()
    signature = watcher._signature
    admin.request_reload()
    watcher.current()
    assert watcher._signature != signature


def test_a_broken_flow_refuses_the_first_load(deployment: Path) -> None:
    (deployment / "flows" / "hotline.yaml").write_text("name: [", encoding="utf-8")
    with pytest.raises(FlowError) as raised:
        registry(deployment).load()
    assert str(raised.value).startswith("flows/hotline.yaml:1: YAML syntax error")


def test_old_versions_come_from_the_snapshot_store(deployment: Path) -> None:
    reg = registry(deployment)
    flow = reg.load().flows["hotline"]
    store = {flow.version: flow.to_snapshot()}
    fresh = FlowRegistry(
        deployment / "flows", deployment / "prompts", snapshots=store.get, interval=0
    )
    assert fresh.version(flow.version) == flow
    assert fresh.version("0" * 16) is None


def test_flows_hear_keywords_through_the_registrys_dictionary_old_versions_too(
    deployment: Path,
) -> None:
    words = dictionary_words()
    reg = FlowRegistry(deployment / "flows", deployment / "prompts", interval=0, words=words)
    flow = reg.load().flows["hotline"]
    assert flow.words.lemmatizer is words
    store = {flow.version: flow.to_snapshot()}
    fresh = FlowRegistry(
        deployment / "flows", deployment / "prompts", snapshots=store.get, words=words
    )
    old = fresh.version(flow.version)
    assert old is not None and old.words.lemmatizer is words
    # The dictionary is not the flow's data: same version, snapshot and equality.
    assert old == flow and old.version == flow.version
    assert old.to_snapshot() == flow.to_snapshot()

"""How many realistic phrasings reach the right place from a menu by speech.

Reads ``tests/lines/phrasings.yaml`` (per flow and language: the node a phrasing must lead
to first) and says each phrasing to the shipped flow's main menu through the engine, exactly
as a webhook would (``advance`` with a speech event), with the flows of a checkout::

    python -m benchmarks.menu_words                       # this checkout
    PYTHONPATH=/tmp/old python benchmarks/menu_words.py --root /tmp/old   # another one

With ``PYTHONPATH`` naming another checkout its own ``ivr`` package and flows are measured
(the phrasings always come from this file's checkout), so the same list measures the code
before and after a change. Prints the count per expected node and every phrasing that went
elsewhere. Exit status 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import inspect
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from ivr.domain.schedule import MOSCOW
from ivr.engine.interpreter import advance, new_state
from ivr.engine.state import Event
from ivr.flows.registry import load_flow_set

HERE = Path(__file__).resolve().parents[1]
PHRASINGS = HERE / "tests" / "lines" / "phrasings.yaml"
# A Wednesday morning: the main line is open, so a call starts at the main menu.
AT = datetime(2026, 11, 25, 10, 0, tzinfo=MOSCOW)
# Keys pressed before the menu, per flow (the abroad line: 2 for English).
BEFORE = {"hotline": [], "abroad": ["2"]}


def load(root: Path) -> dict[str, Any]:
    """The shipped flows of ``root``, keywords heard as that checkout's server hears them."""
    args: list[Any] = [[root / "flows"], root / "prompts"]
    if len(inspect.signature(load_flow_set).parameters) > 2:
        from ivr.speech.lemmas import dictionary_words  # only where the dictionary exists

        args.append(dictionary_words())
    flow_set, problems = load_flow_set(*args)
    if flow_set is None:
        raise SystemExit("\n".join(str(p) for p in problems))
    return flow_set.flows


def reached(flow: Any, keys: list[str], said: str) -> str:
    """Where ``said`` at the menu leads first: a node, or ``(no match)``."""
    turn = advance(flow, new_state(flow), Event.start(), AT)
    for key in keys:
        turn = advance(flow, turn.state, Event("digits", digits=key), AT)
    menu, before = turn.state.node, len(turn.state.path)
    turn = advance(flow, turn.state, Event("speech", speech=said), AT)
    new = turn.state.path[before:]
    if new:
        return str(new[0])
    if any(getattr(step, "prompt_id", None) in ("no_match",) for step in turn.steps):
        return "(no match)"
    return str(menu)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout whose flows to use")
    args = parser.parse_args()
    flows = load(args.root)
    data = yaml.safe_load(PHRASINGS.read_text(encoding="utf-8"))
    total = right = 0
    for flow_name, by_lang in data.items():
        flow = flows[flow_name]
        for lang, by_target in by_lang.items():
            counts: Counter[str] = Counter()
            wrong: list[str] = []
            for target, phrases in by_target.items():
                for said in phrases:
                    got = reached(flow, BEFORE[flow_name], str(said))
                    total += 1
                    if got == target:
                        right += 1
                        counts[target] += 1
                    else:
                        wrong.append(f"  «{said}» → {got} (want {target})")
            size = sum(len(p) for p in by_target.values())
            print(f"{flow_name} [{lang}]: {sum(counts.values())}/{size} reach the right node")
            for target, phrases in by_target.items():
                print(f"  {target}: {counts[target]}/{len(phrases)}")
            print("\n".join(wrong))
    print(f"total: {right}/{total}")


if __name__ == "__main__":
    main()

"""``python -m benchmarks.turn_cpu``: the app's own CPU per webhook, in one process.

``make bench`` and ``make bench-calls`` measure through gunicorn and HTTP, where the kernel's
10 ms CPU ticks, the server's own work per connection and every other process on the machine
blur differences of a few tens of microseconds. This benchmark calls the app in-process with
Flask's test client (the same ``create_app``, the shipped flows, signatures checked, a fresh
migrated SQLite database or ``--database-url``), and reads this process's CPU time
(``time.process_time``) around ``--requests`` webhooks of each kind:

* **first turn**: ``POST /voice/incoming`` of a new call to the main line while it is open;
* **menu turn**: ``POST /voice/step?turn=1`` with ``Digits=*`` on each of those calls.

Each figure is the median over ``--rounds`` rounds. What it leaves out (HTTP parsing by
gunicorn, the socket) is the same for every kind, so the ratio of the two is an upper bound
of the ratio through HTTP. It is a benchmark: it exits 0 whatever the figures, 1 when an
answer is not what the turn must give.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from twilio.request_validator import RequestValidator

from benchmarks.webhook import ACCOUNT_SID, AUTH_TOKEN, CLOCK, twilio_fields

PUBLIC_URL = "https://ivr.bench.invalid"


class BenchError(Exception):
    """An answer that is not what the turn must give: the figures cannot be trusted."""


def build_app(workdir: Path, database_url: str | None) -> Any:
    """The real app over the shipped flows, on a fresh database of its own."""
    from benchmarks.local_app import in_process_settings
    from ivr.store.migrate import upgrade
    from ivr.web import create_app

    url = database_url or f"sqlite:///{workdir}/ivr.db"
    upgrade(url)
    settings = in_process_settings(workdir, url, PUBLIC_URL, ACCOUNT_SID, AUTH_TOKEN)
    moment = datetime.fromisoformat(CLOCK)
    return create_app(settings, clock=lambda: moment)


def measure(client: Any, requests: int, round_no: int, menus_too: bool = True) -> dict[str, float]:
    """CPU ms per request of first turns, then of a menu turn on each of those calls."""
    validator = RequestValidator(AUTH_TOKEN)

    def post(path: str, fields: dict[str, str]) -> str:
        signature = validator.compute_signature(PUBLIC_URL + path, fields)
        response = client.post(path, data=fields, headers={"X-Twilio-Signature": signature})
        body: str = response.get_data(as_text=True)
        if response.status_code != 200 or "<Gather" not in body:
            raise BenchError(f"{path}: {response.status_code} {body[:200]}")
        return body

    sids = [f"CA{round_no:08x}{i:024x}" for i in range(requests)]
    firsts = [twilio_fields(sid, f"+7916{i % 10_000_000:07d}") for i, sid in enumerate(sids)]
    menus = [{**fields, "Digits": "*"} for fields in firsts]
    started = time.process_time()
    for fields in firsts:
        post("/voice/incoming", fields)
    first = time.process_time() - started
    if not menus_too:
        return {"first_turn": first * 1000 / requests, "menu_turn": float("nan")}
    started = time.process_time()
    for fields in menus:
        if "/voice/step?turn=2" not in post("/voice/step?turn=1", fields):
            raise BenchError("a menu turn did not move the call on")
    menu = time.process_time() - started
    return {"first_turn": first * 1000 / requests, "menu_turn": menu * 1000 / requests}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then ``args.rounds`` measured rounds; medians and every round."""
    with tempfile.TemporaryDirectory(prefix="ivr-turn-cpu-") as tmp:
        app = build_app(Path(tmp), args.database_url)
        # The test client logs nothing per request; the app's own INFO lines stay off too.
        logging.disable(logging.INFO)
        try:
            client = app.test_client()
            menus_too = args.only != "first"
            measure(client, args.warmup, 0, menus_too)
            rounds = [measure(client, args.requests, n + 1, menus_too) for n in range(args.rounds)]
        finally:
            logging.disable(logging.NOTSET)
            app.extensions["ivr"].db.dispose()
    first = statistics.median(r["first_turn"] for r in rounds)
    menu = statistics.median(r["menu_turn"] for r in rounds)
    return {
        "requests_per_round": args.requests,
        "rounds": rounds,
        "first_turn_cpu_ms": round(first, 3),
        "menu_turn_cpu_ms": round(menu, 3),
        "first_over_menu": round(first / menu, 2),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.turn_cpu", description=__doc__)
    parser.add_argument("--requests", type=int, default=1500, help="webhooks of each kind")
    parser.add_argument("--warmup", type=int, default=200, help="untimed calls first")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--database-url",
        help="default: a fresh SQLite file; a URL given is migrated and its calls are left there",
    )
    parser.add_argument(
        "--only",
        choices=("first",),
        help="first turns only (to count instructions of each kind under callgrind, run "
        "with and without it and with two --requests: the counts' differences)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run and print; 1 when an answer was wrong."""
    args = parse_args(argv)
    try:
        result = run(args)
    except BenchError as exc:
        print(f"turn_cpu: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"first turn {result['first_turn_cpu_ms']:.3f} ms CPU, "
            f"menu turn {result['menu_turn_cpu_ms']:.3f} ms CPU, "
            f"first / menu {result['first_over_menu']:.2f} "
            f"(median of {args.rounds} rounds of {args.requests})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The rule of ``ivr/engine``: no Flask, twilio, SQLAlchemy, vosk or pydub, and no clock."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "ivr" / "engine"
FORBIDDEN = ("flask", "twilio", "sqlalchemy", "vosk", "pydub", "requests")


def test_importing_the_engine_loads_no_io_library() -> None:
    modules = sorted(f"ivr.engine.{p.stem}" for p in ENGINE.glob("*.py") if p.stem != "__init__")
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", script]))
    offenders = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert offenders == []
    assert len(modules) >= 8


def test_the_engine_never_reads_the_clock() -> None:
    clock = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time|monotonic)\b")
    found = [
        f"{path.name}:{n}"
        for path in ENGINE.glob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if clock.search(line)
    ]
    assert found == []

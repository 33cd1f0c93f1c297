"""The rule of ``ivr/engine`` and ``ivr/domain``: no Flask, twilio, SQLAlchemy, vosk or
pydub, and no clock."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

IVR = Path(__file__).resolve().parents[2] / "ivr"
PURE = {"engine": 8, "domain": 5}  # package: the least number of modules it has
FORBIDDEN = ("flask", "twilio", "sqlalchemy", "vosk", "pydub", "requests")


@pytest.mark.parametrize("package", sorted(PURE))
def test_importing_pure_code_loads_no_io_library(package: str) -> None:
    modules = sorted(
        f"ivr.{package}.{p.stem}" for p in (IVR / package).glob("*.py") if p.stem != "__init__"
    )
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", script]))
    offenders = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert offenders == []
    assert len(modules) >= PURE[package]


@pytest.mark.parametrize("package", sorted(PURE))
def test_pure_code_never_reads_the_clock(package: str) -> None:
    clock = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time|monotonic)\b")
    found = [
        f"{path.name}:{n}"
        for path in (IVR / package).glob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if clock.search(line)
    ]
    assert found == []

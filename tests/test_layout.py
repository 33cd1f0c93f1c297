"""The layout's rules: which package of ``ivr`` may import which (README, "Layout").

Each package may import only the packages listed for it, so the tree reads as the pipeline:
foundations (errors, config, logs) and pure code (domain, engine, flows) at the bottom, the
database and the telephony I/O above them, the services a call uses above those, the web app
and the harness on top, and the command line over everything, imported by nothing.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

IVR = Path(__file__).resolve().parents[1] / "ivr"

ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "config": {"errors"},
    "domain": {"errors"},
    "logs": {"domain"},
    "flows": {"domain", "errors"},
    "engine": {"domain", "errors", "flows"},
    "speech": {"errors"},
    "store": {"config", "errors"},
    "telephony": {"config", "domain", "engine", "errors"},
    "services": {"config", "domain", "engine", "errors", "flows", "speech", "store", "telephony"},
    "web": {
        "config",
        "domain",
        "errors",
        "flows",
        "logs",
        "services",
        "speech",
        "store",
        "telephony",
    },
    # speech: the ledger reads the request numbers callers heard back into digits.
    "harness": {"config", "domain", "engine", "errors", "flows", "speech", "store", "web"},
    "cli": {
        "config",
        "domain",
        # ``ivr validate --timing`` asks the engine how long a call takes.
        "engine",
        "errors",
        "flows",
        "harness",
        "logs",
        "services",
        "speech",
        "store",
        "telephony",
        "web",
    },
}


def _imports(path: Path) -> set[str]:
    """The ``ivr.…`` modules a file imports (absolute imports; the project uses no others)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("ivr.")}


def _package(path: Path) -> str:
    relative = path.relative_to(IVR).with_suffix("")
    return relative.parts[0]


def _sources() -> list[Path]:
    """Every module of the package but its own ``__init__`` and the migration scripts."""
    return [
        p for p in IVR.rglob("*.py") if "migrations" not in p.parts and p != IVR / "__init__.py"
    ]


def test_every_package_imports_only_what_it_may() -> None:
    offences: dict[str, set[str]] = defaultdict(set)
    for path in _sources():
        package = _package(path)
        for module in _imports(path):
            target = module.split(".")[1]
            if target != package and target not in ALLOWED[package]:
                offences[str(path.relative_to(IVR))].add(module)
    assert dict(offences) == {}


def test_every_package_has_a_rule() -> None:
    packages = {_package(p) for p in _sources()}
    assert packages - ALLOWED.keys() == set()
    # No module lies loose at the root but the three foundations.
    loose = sorted(p.stem for p in IVR.glob("*.py") if p.stem != "__init__")
    assert loose == ["config", "errors", "logs"]


def test_command_modules_import_only_the_shared_helpers() -> None:
    """``ivr.cli.common`` imports no command module; command modules import no other one;
    only the package's ``__init__`` gathers them. No import circle is possible."""
    cli = IVR / "cli"
    crossing = {
        path.name: sorted(
            m for m in _imports(path) if m.startswith("ivr.cli") and m != "ivr.cli.common"
        )
        for path in cli.glob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    }
    assert {name: found for name, found in crossing.items() if found} == {}
    assert not {m for m in _imports(cli / "common.py") if m.startswith("ivr.cli")}

"""The web workers' gunicorn hooks, and that both ways of running them use them."""

from __future__ import annotations

import gc
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from gunicorn.app.wsgiapp import WSGIApplication

from ivr.config import Settings
from ivr.gunicorn_conf import post_worker_init
from ivr.server import IvrServer, gunicorn_options

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def _collected(thing: object) -> bool:
    """True when the garbage collector would look at ``thing`` in its collections."""
    return any(candidate is thing for candidate in gc.get_objects())


def test_a_worker_freezes_what_it_built_at_start(unfrozen: None) -> None:
    built_at_start = [object()]
    assert _collected(built_at_start)
    post_worker_init(worker=None)
    assert gc.get_freeze_count() > 0
    assert not _collected(built_at_start)
    # What the requests make later is still the collector's.
    assert _collected([object()])


def _procfile_web_arguments() -> list[str]:
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    command = line.split("&&")[-1]
    # The shell's defaults (${PORT:-5000}), as a platform without those variables runs it.
    command = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", command)
    words = shlex.split(command)
    assert words[0] == "gunicorn"
    return words[1:]


def test_the_procfile_runs_the_workers_with_the_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["gunicorn", *_procfile_web_arguments()])
    application = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]")
    assert application.cfg.post_worker_init is post_worker_init
    assert application.app_uri == "ivr.web:create_app()"


def test_ivr_serve_runs_the_workers_with_the_hooks(tmp_path: Path) -> None:
    settings = Settings.from_environ({"IVR_ENVIRONMENT": "test", "IVR_VAR_DIR": str(tmp_path)})
    options = gunicorn_options(settings, host="127.0.0.1", port=5000, workers=2, threads=4)
    assert IvrServer(settings, options).cfg.post_worker_init is post_worker_init

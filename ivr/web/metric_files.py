"""Where the web workers' metric files live (prometheus_client's multiprocess mode), kept by
the gunicorn master.

The master, as it starts, creates the directory and empties it of the files a previous run
left (counts of processes long gone would be added to this run's), then names it in
``PROMETHEUS_MULTIPROC_DIR``, which every worker it forks inherits. When a worker exits, the
master deletes the files of its live gauges, so a scrape no longer shows a dead process;
its counters stay, so totals never go back.

This module imports prometheus_client only inside ``worker_gone``, once the variable is set:
the library chooses its mode when it is first imported, for the process and its children.
"""

from __future__ import annotations

import os
from pathlib import Path

from ivr.config import Settings

# The library's own variable.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Under the var directory, unless the variable names another place.
DEFAULT_SUBDIR = "metrics"


def metrics_dir(settings: Settings) -> Path:
    """The directory ``PROMETHEUS_MULTIPROC_DIR`` names, else ``{IVR_VAR_DIR}/metrics``."""
    named = os.environ.get(MULTIPROC_ENV)
    return Path(named) if named else settings.var_dir / DEFAULT_SUBDIR


def prepare(settings: Settings) -> Path:
    """Create the directory, delete the metric files in it, and name it for the workers.

    Only the library's files (``*.db``) are deleted, so a directory named by mistake loses
    nothing else. One server per directory: a second would empty the first one's.
    """
    path = metrics_dir(settings)
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        old.unlink(missing_ok=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def worker_gone(pid: int) -> None:
    """A worker exited: drop its live gauges (its counters stay in the totals)."""
    if not os.environ.get(MULTIPROC_ENV):
        return
    from prometheus_client.multiprocess import mark_process_dead

    mark_process_dead(pid)  # type: ignore[no-untyped-call]  # the library has no hints here

"""Gunicorn settings shared by every way the web workers run: ``gunicorn -c
python:ivr.web.gunicorn_conf`` (the Procfile) and ``ivr serve``.

Only hooks (and gunicorn's log format) live here; bind address, workers and threads stay on
the command line.

The master keeps the directory of the workers' metric files (``on_starting``,
``child_exit``; see ``ivr.web.metric_files``), so that ``/metrics`` adds up every worker.

With ``IVR_WEB_CPU_PINNING=true`` every web worker runs on one CPU of its own (the CPU that
has the fewest live workers when it starts). A worker's threads share one interpreter lock,
which they hand over whenever one of them waits for the network or the database (SQLite
hands it over several times per statement); when the threads sit on different CPUs, every
hand-over wakes a thread on another CPU and moves the request's data between caches. Kept on
one CPU, one worker answered 1840 menu turns a second instead of 1220, at 0.54 ms of CPU
each instead of 0.94 (``python -m benchmarks.webhook --cpu-pinning`` against the same without
it, two CPUs). It is off by default, because pinning is only right on a machine the server
has to itself: containers of a shared host each see every CPU and would all choose the same
ones, and a worker recognising speech could no longer spread onto an idle CPU. Run as many
workers as CPUs when it is on.
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ivr.config import ConfigError, Settings
from ivr.logs import gunicorn_logconfig
from ivr.web import metric_files

# The Procfile's gunicorn reads its settings from this module: with IVR_LOG_FORMAT=json its
# own lines are JSON objects too, masked as the app's are.
logconfig_dict = gunicorn_logconfig(
    "json" if os.environ.get("IVR_LOG_FORMAT") == "json" else "text"
)


def post_worker_init(worker: Any) -> None:
    """Once a worker has built the app, freeze what exists then.

    The flows, prompts, SQLAlchemy's mappers and the imported libraries live as long as the
    worker: a hundred thousand objects or more. Left to the garbage collector, each full
    collection walks them all, and it stops every thread of the worker while it does
    (measured: 75 ms on a small machine, in the middle of a caller's turn). Frozen, they are
    skipped; what requests create is still collected as usual.
    """
    gc.collect()
    gc.freeze()


def least_used_cpu(available: Iterable[int], taken: Iterable[int | None]) -> int | None:
    """The CPU for a new worker: of the ``available`` ones, the one the fewest live workers
    are pinned to (``taken``), the lowest on a tie; None when there is only one CPU."""
    cpus = sorted(set(available))
    if len(cpus) < 2:
        return None
    load = Counter(cpu for cpu in taken if cpu is not None)
    return min(cpus, key=lambda cpu: (load[cpu], cpu))


def _settings(server: Any) -> Settings | None:
    """The settings the workers will run with; None when they are broken (the worker says
    what is wrong when it boots)."""
    settings = getattr(server.app, "settings", None)
    if isinstance(settings, Settings):
        return settings
    # The Procfile's gunicorn: its workers read their settings from this environment.
    try:
        return Settings.from_environ(os.environ)
    except ConfigError:
        return None


def _pinning_on(server: Any) -> bool:
    settings = _settings(server)
    return settings is not None and settings.web_cpu_pinning


def on_starting(server: Any) -> None:
    """In the master, before any worker: a fresh directory for the workers' metric files
    (``ivr.web.metric_files``), named in ``PROMETHEUS_MULTIPROC_DIR`` for them."""
    settings = _settings(server)
    if settings is None:
        return
    path = metric_files.prepare(settings)
    server.log.info("metrics: the workers count into %s", path)


def child_exit(server: Any, worker: Any) -> None:
    """In the master, when a worker has exited (or was killed): drop its live gauges."""
    metric_files.worker_gone(worker.pid)


def pre_fork(server: Any, worker: Any) -> None:
    """In the master, before a worker starts: choose its CPU (``IVR_WEB_CPU_PINNING``).

    Chosen here, where the live workers are known, so a worker started in place of one that
    died takes the CPU it left."""
    worker.ivr_cpu = None
    if _pinning_on(server):
        if not hasattr(os, "sched_setaffinity"):
            server.log.warning("IVR_WEB_CPU_PINNING: this system cannot pin a process to a CPU")
            return
        taken = (getattr(other, "ivr_cpu", None) for other in server.WORKERS.values())
        worker.ivr_cpu = least_used_cpu(os.sched_getaffinity(0), taken)


def post_fork(server: Any, worker: Any) -> None:
    """In the new worker: move onto the CPU chosen for it, if one was."""
    cpu = getattr(worker, "ivr_cpu", None)
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
        server.log.info("worker %s runs on CPU %s", os.getpid(), cpu)

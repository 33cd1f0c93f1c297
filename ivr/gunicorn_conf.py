"""Gunicorn settings shared by every way the web workers run: ``gunicorn -c
python:ivr.gunicorn_conf`` (the Procfile) and ``ivr serve``.

Only hooks live here; bind address, workers and threads stay on the command line.
"""

from __future__ import annotations

import gc
from typing import Any


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

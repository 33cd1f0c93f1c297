"""The flows desk (admins): each flow's diagram (the ``ivr graph`` SVG), whether the files
on disk are sound, and the versions the database keeps (``flow_versions``) with how many
calls ran on each."""

from __future__ import annotations

import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import graphviz
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.flows.graph import flow_graph, node_files
from ivr.flows.model import Flow
from ivr.store.models import Call, FlowVersion, stored_utc

_CACHE_SIZE = 32
_cache: OrderedDict[str, bytes] = OrderedDict()
_cache_lock = threading.Lock()


class NoDiagram(Exception):
    """The diagram cannot be drawn here; the message says why, in Russian."""


def diagram_svg(flow: Flow) -> bytes:
    """The flow's diagram as SVG, drawn by Graphviz once per version and kept."""
    with _cache_lock:
        found = _cache.get(flow.version)
        if found is not None:
            _cache.move_to_end(flow.version)
            return found
    if shutil.which("dot") is None:
        raise NoDiagram("Схему рисует Graphviz (программа dot), а он не установлен на сервере.")
    try:
        svg: bytes = flow_graph(flow, node_files(flow)).pipe(format="svg")
    except (graphviz.ExecutableNotFound, graphviz.CalledProcessError) as exc:
        raise NoDiagram(f"Graphviz не смог нарисовать схему: {type(exc).__name__}") from exc
    with _cache_lock:
        _cache[flow.version] = svg
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return svg


@dataclass(frozen=True)
class Version:
    """A version of a flow the database keeps."""

    version: str
    first_seen: datetime
    calls: int
    current: bool


def versions(session: Session, flow: Flow) -> list[Version]:
    """The flow's versions, newest first; the one loaded now is marked, stored or not."""
    counts = dict(
        session.execute(
            select(Call.flow_version, func.count())
            .where(Call.flow == flow.name)
            .group_by(Call.flow_version)
        ).all()
    )
    rows = session.scalars(
        select(FlowVersion)
        .where(FlowVersion.name == flow.name)
        .order_by(FlowVersion.created_at.desc())
    ).all()
    found = [
        Version(
            r.version,
            stored_utc(r.created_at),
            int(counts.get(r.version, 0)),
            r.version == flow.version,
        )
        for r in rows
    ]
    return found

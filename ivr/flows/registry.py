"""The working set of flows: loaded and validated as a whole, swapped only when sound.

A web worker asks ``FlowRegistry.current()`` on every call; at most every ``interval`` seconds
that looks at the files' modification times and, when something changed, reads and validates
everything again. A broken edit is reported (logged, kept in ``last_problems``) and never
replaces the working set. Calls in progress keep the version they started with: any version
can be fetched by its hash, from memory or from the snapshot store the caller provides.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.domain.phones import to_e164
from ivr.flows.model import Flow
from ivr.flows.problems import FlowError, Problem
from ivr.flows.reader import FlowSource, PromptCatalog, read_flow, read_prompts
from ivr.flows.validate import validate_flow
from ivr.flows.words import ExactWords, Lemmatizer

log = logging.getLogger(__name__)

RELOAD_MARKER = "flows.reload"


@dataclass(frozen=True)
class FlowSet:
    """Every flow of a deployment, and which flow answers which dialled number."""

    flows: dict[str, Flow]
    by_line: dict[str, str]
    loaded_at: float = field(default=0.0, compare=False)

    def for_line(self, number: str) -> Flow | None:
        """The flow serving a dialled number in any common form (+7…, 8…, spaces)."""
        # Twilio sends E.164 already: parse the number only when it is in another form.
        name = self.by_line.get(number)
        if name is None:
            name = self.by_line.get(to_e164(number) or number)
        return self.flows[name] if name is not None else None


def display(path: Path) -> str:
    """A path as an admin would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def flow_files(paths: Iterable[Path]) -> list[Path]:
    """The flow files named by ``paths``: files as given, directories' ``*.yaml`` (not parts)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.glob("*.yaml") if p.is_file()))
            found.extend(sorted(p for p in path.glob("*.yml") if p.is_file()))
        else:
            found.append(path)
    return found


def read_prompt_catalogs(prompts_dir: Path) -> tuple[dict[str, PromptCatalog], list[Problem]]:
    """Every ``prompts/<lang>.yaml``."""
    catalogs: dict[str, PromptCatalog] = {}
    problems: list[Problem] = []
    for path in sorted(prompts_dir.glob("*.yaml")):
        catalog, found = read_prompts(path, path.stem, display(path))
        problems += found
        if catalog is not None:
            catalogs[catalog.lang] = catalog
    return catalogs, problems


def load_flow_set(
    paths: Iterable[Path], prompts_dir: Path, words: Lemmatizer | None = None
) -> tuple[FlowSet | None, list[Problem]]:
    """Read and validate flows together; a set with any problem is not returned. Keywords are
    heard through ``words`` (the server's dictionary; None: words compared as written)."""
    lemmatizer = words or ExactWords()
    problems: list[Problem] = []
    catalogs, found = read_prompt_catalogs(prompts_dir)
    problems += found
    flows: dict[str, Flow] = {}
    sources: dict[str, FlowSource] = {}
    by_line: dict[str, str] = {}
    files = flow_files(paths)
    if not files:
        problems.append(Problem(display(Path(".")), 1, "no flow files found"))
    for path in files:
        shown = display(path)
        if not path.is_file():
            problems.append(Problem(shown, 1, f"no such file or directory ({path.absolute()})"))
            continue
        flow, source, found = read_flow(path, catalogs, shown)
        problems += found
        if flow is None or source is None:
            continue
        flow.use_words(lemmatizer)
        problems += validate_flow(flow, source, catalogs)
        if flow.name in flows:
            other = sources[flow.name]
            problems.append(
                Problem(
                    shown,
                    source.line("name"),
                    f"flow name '{flow.name}' is already used by {other.path}",
                )
            )
            continue
        flows[flow.name] = flow
        sources[flow.name] = source
        for index, number in enumerate(flow.lines):
            line = source.line("lines", index)
            e164 = to_e164(number)
            if e164 is None:
                problems.append(Problem(shown, line, f"'{number}' is not a phone number"))
                continue
            if e164 in by_line:
                owner = sources[by_line[e164]]
                problems.append(
                    Problem(
                        shown,
                        line,
                        f"line {e164} is already served by flow '{by_line[e164]}' ({owner.path})",
                    )
                )
                continue
            by_line[e164] = flow.name
    if problems:
        return None, problems
    return FlowSet(flows, by_line, time.time()), []


SnapshotLoader = Callable[[str], str | None]


class FlowRegistry:
    """Holds the current ``FlowSet`` of a process and reloads it when the files change."""

    def __init__(
        self,
        flows_dir: Path,
        prompts_dir: Path,
        *,
        interval: float = 2.0,
        marker_dir: Path | None = None,
        snapshots: SnapshotLoader | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        words: Lemmatizer | None = None,
    ) -> None:
        self.flows_dir = flows_dir
        self.prompts_dir = prompts_dir
        self.interval = interval
        self.marker = (marker_dir / RELOAD_MARKER) if marker_dir is not None else None
        self._snapshots = snapshots
        self.words = words or ExactWords()
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._current: FlowSet | None = None
        self._signature: tuple[tuple[str, int, int], ...] = ()
        self._checked_at = float("-inf")
        self._versions: dict[str, Flow] = {}
        self.last_problems: list[Problem] = []

    def _files_signature(self) -> tuple[tuple[str, int, int], ...]:
        entries = []
        roots = [self.flows_dir, self.prompts_dir]
        for root in roots:
            for path in sorted(root.rglob("*.y*ml")):
                stat = path.stat()
                entries.append((str(path), stat.st_mtime_ns, stat.st_size))
        if self.marker is not None and self.marker.exists():
            stat = self.marker.stat()
            entries.append((str(self.marker), stat.st_mtime_ns, stat.st_size))
        return tuple(entries)

    def load(self) -> FlowSet:
        """The first load: a broken flow refuses to start (``FlowError``)."""
        with self._lock:
            signature = self._files_signature()
            flow_set, problems = load_flow_set([self.flows_dir], self.prompts_dir, self.words)
            if flow_set is None:
                raise FlowError(problems)
            self._install(flow_set, signature)
            self._checked_at = self._monotonic()
            return flow_set

    def reload(self) -> list[Problem]:
        """Read the files again now; keep the working set if they are broken."""
        with self._lock:
            return self._reload_locked(self._files_signature())

    def _reload_locked(self, signature: tuple[tuple[str, int, int], ...]) -> list[Problem]:
        flow_set, problems = load_flow_set([self.flows_dir], self.prompts_dir, self.words)
        self._signature = signature
        if flow_set is None:
            if problems != self.last_problems:
                log.error(
                    "flow files changed but are broken; still serving the previous flows:\n%s",
                    "\n".join(str(p) for p in problems),
                )
            self.last_problems = problems
            return problems
        changed = self._current is None or {n: f.version for n, f in flow_set.flows.items()} != {
            n: f.version for n, f in self._current.flows.items()
        }
        self._install(flow_set, signature)
        if changed:
            log.info(
                "flows reloaded: %s",
                ", ".join(
                    f"{name}@{flow.version}" for name, flow in sorted(flow_set.flows.items())
                ),
            )
        return []

    def _install(self, flow_set: FlowSet, signature: tuple[tuple[str, int, int], ...]) -> None:
        self._current = flow_set
        self._signature = signature
        self.last_problems = []
        for flow in flow_set.flows.values():
            self._versions[flow.version] = flow

    def current(self) -> FlowSet:
        """The working set, looking for edits at most every ``interval`` seconds."""
        now = self._monotonic()
        if self._current is not None and now - self._checked_at < self.interval:
            return self._current
        with self._lock:
            if self._current is None:
                raise RuntimeError("FlowRegistry.load() must be called first")
            if now - self._checked_at >= self.interval:
                self._checked_at = now
                signature = self._files_signature()
                if signature != self._signature:
                    self._reload_locked(signature)
            return self._current

    def version(self, version: str) -> Flow | None:
        """A flow by its version hash: current, seen earlier, or from the snapshot store."""
        flow = self._versions.get(version)
        if flow is not None:
            return flow
        if self._snapshots is None:
            return None
        snapshot = self._snapshots(version)
        if snapshot is None:
            return None
        flow = Flow.from_snapshot(snapshot).use_words(self.words)
        with self._lock:
            self._versions[version] = flow
        return flow

    def request_reload(self) -> None:
        """Ask every process watching these flows to read them again (``ivr reload``)."""
        if self.marker is None:
            raise RuntimeError("no marker directory configured")
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        self.marker.write_text(str(time.time()))

"""``benchmarks.calls --web-cpu``: each gunicorn worker in a CPU group of its own with the
quota asked, a respawned worker too, every group removed at the end; and, where groups cannot
be made, a refusal at once (exit 2, one line), never a run without the quota. No ramp."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks import calls
from ivr.harness.processes import worker_pids


def cpu_group_of(pid: int, version: int) -> str:
    """The path of process ``pid``'s group in the CPU hierarchy, from /proc/<pid>/cgroup."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (version == 1 and "cpu" in controllers.split(",")) or (
            version == 2 and controllers == ""
        ):
            return path
    raise AssertionError(f"process {pid} is in no CPU group")


def wait_for(condition: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def ours(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(calls.CGROUP_PREFIX))


def test_each_worker_gets_a_cpu_group_of_its_own_and_they_are_removed(tmp_path: Path) -> None:
    try:
        calls.CpuGroups(0.4).close()
    except calls.CgroupError as exc:
        pytest.skip(f"no writable cgroup file system here: {exc}")
    args = calls.parse_args(["--workers", "2", "--web-cpu", "0.4", "--app-log-level", "WARNING"])
    deployment = calls.Deployment(args, tmp_path)
    groups = deployment.groups
    assert groups is not None
    before = ours(groups.root)
    try:
        deployment.start()
        assert deployment.server.process is not None
        master = deployment.server.process.pid
        placed = groups.pids()
        assert set(placed) == worker_pids(master) and len(placed) == 2
        assert len(set(placed.values())) == 2  # a group each, not one shared
        for pid, name in placed.items():
            assert cpu_group_of(pid, groups.version).rstrip("/").endswith("/" + name)
            if groups.version == 1:
                group = groups.root / name
                assert (group / "cpu.cfs_quota_us").read_text().strip() == "40000"
                assert (group / "cpu.cfs_period_us").read_text().strip() == "100000"
            else:
                assert (groups.root / name / "cpu.max").read_text().split() == ["40000", "100000"]
        assert calls.CGROUP_PREFIX not in cpu_group_of(master, groups.version)
        assert deployment.server_cpu() >= 0
        assert {"periods", "throttled", "seconds"} <= set(groups.throttling())

        # A worker that dies is respawned by the master: the new one is placed too, and the
        # dead one's group goes.
        victim = next(iter(placed))
        os.kill(victim, signal.SIGKILL)
        assert wait_for(
            lambda: (
                victim not in groups.pids()
                and len(groups.pids()) == 2
                and set(groups.pids()) == worker_pids(master)
            )
        ), groups.pids()
        assert not (groups.root / placed[victim]).exists()
        for pid, name in groups.pids().items():
            assert cpu_group_of(pid, groups.version).rstrip("/").endswith("/" + name)
        assert groups.settings()["groups_made"] >= 3
    finally:
        deployment.stop()
    assert ours(groups.root) == before


def test_web_cpu_is_refused_at_once_where_groups_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A directory that is not there.
    missing = tmp_path / "missing"
    assert calls.main(["--web-cpu", "0.4", "--cgroup-root", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("bench-calls: --web-cpu: no cgroup CPU controller")
    assert str(missing) in err

    # A plain directory dressed as a cgroup v1 hierarchy: a group made in it has no quota
    # files, so it is not a cgroup file system (and what was made is removed again).
    fake = tmp_path / "fake"
    fake.mkdir()
    for name in ("cpu.cfs_quota_us", "cgroup.procs"):
        (fake / name).write_text("")
    monkeypatch.setenv(calls.CGROUP_ROOT_ENV, str(fake))
    assert calls.main(["--web-cpu", "0.4", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "is not a cgroup file system" in err
    assert sorted(p.name for p in fake.iterdir()) == ["cgroup.procs", "cpu.cfs_quota_us"]


def test_without_web_cpu_nothing_is_limited() -> None:
    args = calls.parse_args([])
    assert args.web_cpu is None
    assert calls.machine(args.web_cpu)["web_cpu_quota_per_process"] is None

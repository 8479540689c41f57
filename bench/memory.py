"""Memory and CPU of a process tree from /proc. Memory as RSS (as `ps` shows it: pages shared
between gunicorn's forked workers count once per process) and PSS (shared pages split between
their users)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from pathlib import Path


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in task.read_text().split()]
    return found


def tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue += _children(current)
    return pids


def _field_kib(path: Path, name: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def usage_mb(roots: Iterable[int]) -> tuple[float, float]:
    """(RSS, PSS) in MB of `roots` and all their descendants."""
    pids = [p for root in roots for p in tree(root)]
    rss = sum(_field_kib(Path(f"/proc/{p}/status"), "VmRSS") for p in pids)
    pss = sum(_field_kib(Path(f"/proc/{p}/smaps_rollup"), "Pss") for p in pids)
    return rss / 1024, pss / 1024


def cpu_seconds(roots: Iterable[int]) -> float:
    """User + system CPU time so far of `roots` and their descendants."""
    ticks = 0
    for pid in (p for root in roots for p in tree(root)):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_settled(roots: list[int], timeout: float = 30, busy: float = 0.3) -> float:
    """Wait until the tree uses under `busy` of a core over half a second (start-up done:
    gunicorn's other workers may still be loading rotations after /readyz answered);
    returns the seconds waited."""
    started = time.monotonic()
    before = cpu_seconds(roots)
    while time.monotonic() - started < timeout:
        time.sleep(0.5)
        now = cpu_seconds(roots)
        if now - before < busy * 0.5:
            break
        before = now
    return time.monotonic() - started

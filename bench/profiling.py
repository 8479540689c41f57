"""py-spy attached to the daemon during a run, and what its samples say.

`Profiler.attached(name, fleet)` records `pager web` (gunicorn master and its workers) and
`pager worker` while the block runs, as collapsed stacks: `<dir>/<name>-web-cpu.txt` has the
samples of threads on CPU, `<dir>/<name>-web-wall.txt` those of every thread (waits too:
locks, fsync, the network), and the same for `-worker-`.
`summary(path)` ranks where the time goes: by the deepest frame in pager's own code (the
line of ours that led to the cost), by inclusive time per pager function, and by leaf.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.fleet import Fleet

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*):(?P<line>\d+)\)$")


class Profiler:
    def __init__(self, directory: Path, rate: int = 100) -> None:
        if shutil.which("py-spy") is None:
            raise RuntimeError("py-spy is not installed (pip install py-spy)")
        self.directory = directory
        self.rate = rate
        directory.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def attached(self, name: str, running: Fleet) -> Iterator[None]:
        spies = []
        for role, process in (("web", running.web), ("worker", running.worker)):
            if process is None:
                continue
            for view, extra in (("cpu", []), ("wall", ["--idle"])):
                out = self.directory / f"{name}-{role}-{view}.txt"
                command = ["py-spy", "record", "--pid", str(process.pid), "--subprocesses"]
                command += ["--rate", str(self.rate), "--format", "raw", "--nonblocking"]
                command += ["--output", str(out), *extra]
                spies.append(
                    subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                )
        try:
            yield
        finally:
            for spy in spies:
                spy.send_signal(signal.SIGINT)
            for spy in spies:
                try:
                    spy.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    spy.kill()
                    spy.wait()


def _stacks(path: Path) -> Iterator[tuple[list[str], int]]:
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def _ours(frame: str) -> bool:
    match = _FRAME.match(frame)
    return match is not None and (match["file"].startswith("pager/") or "/main/pager/" in frame)


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    file = match["file"]
    for anchor in ("/site-packages/", "/lib/python3.11/", "/work/main/"):
        if anchor in file:
            file = file.split(anchor, 1)[1]
            break
    return f"{file}:{match['line']} {match['function']}"


def _function(frame: str) -> str:
    match = _FRAME.match(frame)
    return _short(frame) if match is None else f"{_short(frame).split(':')[0]} {match['function']}"


def summary(path: Path, top: int = 12) -> str:
    """Text tables of the heaviest pager lines, pager functions (inclusive) and leaves."""
    deepest: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for stack, count in _stacks(path):
        total += count
        stack = [f for f in stack if f and not f.startswith("process ")]
        if not stack:
            continue
        ours = [f for f in stack if _ours(f)]
        if ours:
            deepest[_short(ours[-1])] += count
        for function in {_function(f) for f in ours}:
            inclusive[function] += count
        leaves[_short(stack[-1])] += count
    if not total:
        return f"{path.name}: no samples"
    lines = [f"{path.name}: {total} samples"]
    for title, counter in (
        ("deepest pager frame (self + what it called outside pager)", deepest),
        ("pager functions, inclusive", inclusive),
        ("leaf frames (self time)", leaves),
    ):
        lines.append(f"  {title}:")
        for where, count in counter.most_common(top):
            lines.append(f"    {100 * count / total:5.1f}%  {where}")
    return "\n".join(lines)

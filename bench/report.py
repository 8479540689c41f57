"""Percentiles, and the table every figure is printed in beside its target."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); nan when there are no samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    if math.isinf(seconds):
        return "never"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


@dataclass
class Latencies:
    """Seconds per item; an item that never arrived within the wait counts with the time it
    had waited, a lower bound, and a percentile that lands on one prints as `> value`."""

    values: list[float] = field(default_factory=list)
    pending: list[bool] = field(default_factory=list)

    def add(self, seconds: float, *, arrived: bool = True) -> None:
        self.values.append(seconds)
        self.pending.append(not arrived)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def missing(self) -> int:
        return sum(self.pending)

    def at(self, p: float) -> tuple[float, bool]:
        """The p-th percentile, and whether it is only a lower bound (when the items still
        pending could rank at or above it: the true percentile is at least this value, as
        every true latency is at least its lower bound)."""
        if not self.values:
            return math.nan, False
        rank = max(1, math.ceil(p / 100 * len(self.values)))
        return sorted(self.values)[rank - 1], self.missing > len(self.values) - rank

    def text(self, p: float) -> str:
        value, bound = self.at(p)
        return ("> " if bound else "") + ms(value)

    def under(self, p: float, limit: float) -> bool:
        value, bound = self.at(p)
        return not bound and value < limit


def arrivals(due: dict[int, float], arrived: dict[int, float], gave_up: float) -> Latencies:
    """Latency of each item from its due time to its arrival (or, if none, to `gave_up`)."""
    found = Latencies()
    for key, started in due.items():
        if key in arrived:
            found.add(arrived[key] - started)
        else:
            found.add(gave_up - started, arrived=False)
    return found


@dataclass(frozen=True)
class Row:
    figure: str
    value: str
    target: str = ""
    ratio: str = ""  # to the ceiling measured in the same run, where one applies
    met: bool | None = None  # None: no target
    note: str = ""

    @property
    def verdict(self) -> str:
        return "" if self.met is None else ("ok" if self.met else "MISS")


HEADERS = ("#", "figure", "value", "target", "ratio to ceiling", "", "note")


def _cells(number: str, row: Row) -> tuple[str, ...]:
    return (number, row.figure, row.value, row.target, row.ratio, row.verdict, row.note)


def text_table(sections: Sequence[tuple[str, Sequence[Row]]]) -> str:
    """A fixed-width table; the section number goes on each section's first row."""
    rows = [HEADERS] + [
        _cells(number if i == 0 else "", row)
        for number, section in sections
        for i, row in enumerate(section)
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(len(HEADERS) - 1)]
    lines = []
    for r in rows:
        head = "  ".join(cell.ljust(width) for cell, width in zip(r, widths, strict=False))
        lines.append(f"{head}  {r[-1]}".rstrip())
        if r is HEADERS:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def markdown_table(sections: Sequence[tuple[str, Sequence[Row]]]) -> str:
    lines = ["| " + " | ".join(h or "met" for h in HEADERS) + " |"]
    lines.append("|" + "---|" * len(HEADERS))
    for number, section in sections:
        for i, row in enumerate(section):
            cells = _cells(number if i == 0 else "", row)
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)

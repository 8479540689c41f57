"""pager's benchmarks: every figure beside its target, throughput beside the ceiling measured
in the same run.

    python -m bench                 # full: about 12 minutes on SQLite here
    python -m bench --quick         # smoke mode for CI: tiny counts, same table
    python -m bench --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    python -m bench --profile DIR   # also record py-spy profiles of the ingest and storm runs
    python -m bench --quick --only burst,slow-storm --layouts serve

The daemon runs as a user runs it: `pager web` (gunicorn, sync workers) + `pager worker`, a
fake Twilio on 127.0.0.1, rotations with one service per person; figure 8 also runs on
`pager serve` alone, against a fake Twilio as slow as the real one. Nothing here asserts: the
table is the output. bench/RESULTS.md says what the figures mean and what they showed.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import burst, escalation, ingest, load, paging, sustained
from bench.fleet import LAYOUTS, Backend, Fleet, fleet
from bench.memory import usage_mb
from bench.profiling import Profiler, summary
from bench.report import Row, markdown_table, text_table
from bench.rows import (
    escalation_rows,
    ingest_rows,
    memory_rows,
    paging_rows,
    provider_ceiling_rows,
    restart_rows,
    slow_rows,
    sustained_rows,
)

# gunicorn sync workers for `pager web` and the ceiling apps. 2 (one per core) measured best
# here: every write takes SQLite's one write lock, and more processes only queue for it.
WEB_WORKERS = 2
# Phases by name, for --only; figure 8's two (burst, slow-storm) run in each of --layouts.
FAST_PHASES = ("ingest", "paging", "sustained", "escalation", "restart")
SLOW_PHASES = ("burst", "slow-storm")
PHASES = FAST_PHASES + SLOW_PHASES


@dataclass(frozen=True)
class Mode:
    name: str
    seconds: float  # each wrk run
    people: int
    idle_rounds: int
    storm_alerts: int
    open_incidents: int
    measured: int  # incidents whose step-2 lag is measured
    overdue: int
    escalation_wait: int  # seconds between the SMS step and the call step
    sustained_seconds: float
    sustained_start: float
    sustained_steps: int
    open_within: float  # seconds to open the quiet incidents in, and as long to settle them
    wait_box: float  # seconds to wait for pages still missing at the end of a phase
    shared: bool  # all figures on one daemon pair (quick) or each on a fresh one (full)
    burst_incidents: int  # figure 8: new incidents posted at once against the slow provider


# Phases are bounded in time (open_within, wait_box, the sustained budget), so a slow daemon
# shows as "> N s" figures, not as a run that never ends.
FULL = Mode("full", 10, 1000, 40, 10_000, 10_000, 200, 1000, 5, 10, 25, 4, 60, 20, False, 200)
QUICK = Mode("quick", 2, 120, 3, 300, 300, 20, 50, 2, 1, 10, 1, 30, 20, True, 30)


@dataclass
class Results:
    ingest: ingest.Ingest | None = None
    paging: paging.Paging = field(default_factory=paging.Paging)
    steps: list[sustained.Step] = field(default_factory=list)
    escalation: escalation.Escalation | None = None
    slow: list[burst.Slow] = field(default_factory=list)  # figure 8, one per layout
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Choice:
    """What to run: --only phases, --layouts for figure 8, the slow provider's delay."""

    phases: tuple[str, ...] = PHASES
    layouts: tuple[str, ...] = LAYOUTS
    delay: float = burst.DELAY

    def wants(self, *phases: str) -> bool:
        return any(phase in self.phases for phase in phases)


class Bench:
    def __init__(
        self, mode: Mode, workers: int, profiler: Profiler | None, choice: Choice = Choice()
    ) -> None:
        self.mode = mode
        self.workers = workers
        self.profiler = profiler
        self.choice = choice
        self.started = time.monotonic()
        self.provider_ceiling: load.Throughput | None = None  # measured once per run

    def log(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)

    def attempt(self, results: Results, figure: str, run: Callable[[], Any]) -> None:
        """Run one phase; a failure is shown in the table and the other phases still run."""
        self.log(figure)
        try:
            run()
        except Exception as exc:  # the table must come out even when one phase breaks
            traceback.print_exc(file=sys.stderr)
            last = (str(exc).strip().splitlines() or [""])[-1]
            results.errors[figure] = f"error: {type(exc).__name__}: {last}"[:160]

    @contextmanager
    def pair(
        self, backend: Backend, r: Results, wait: int, people: int | None = None
    ) -> Iterator[Fleet]:
        with fleet(
            backend,
            web_workers=self.workers,
            people=people or self.mode.people,
            first_wait=f"{wait}s",
        ) as running:
            r.paging.startup = running.ready_after
            yield running

    def run(self, backend: Backend) -> Results:
        r = Results()
        if self.choice.wants(*FAST_PHASES):
            self.run_fast(backend, r)
        if self.choice.wants(*SLOW_PHASES):
            for layout in self.choice.layouts:
                self.slow(backend, layout, r)
        return r

    def run_fast(self, backend: Backend, r: Results) -> None:
        """Figures 1 to 7 on `pager web` + `pager worker` (they pause and kill the worker)."""
        m, wants = self.mode, self.choice.wants

        def measure_ingest(shared: Fleet | None) -> None:
            r.ingest = ingest.measure(backend, self.workers, m.seconds, self.profiler, shared)

        if m.shared:
            with self.pair(backend, r, m.escalation_wait) as running:
                if wants("ingest"):
                    self.attempt(r, f"{backend.name}: 1 ingest", lambda: measure_ingest(running))
                    escalation.settle(running, 60)  # the ingest's incidents, before latencies
                if wants("paging"):
                    self.paging(running, r, first=0)
                first = m.idle_rounds + m.storm_alerts // 10
                count = round(m.sustained_start * m.sustained_seconds)
                if wants("sustained"):
                    self.attempt(
                        r,
                        f"{backend.name}: 3 sustained",
                        lambda: r.steps.append(
                            sustained.run_step(
                                running,
                                first=first,
                                people=count,
                                rate=m.sustained_start,
                                seconds=m.sustained_seconds,
                            )
                        ),
                    )
                if wants("escalation"):
                    self.escalation(running, r, first + count)
                if wants("restart"):
                    self.restart(running, r, first + count + m.measured)
            return
        if wants("ingest"):
            self.attempt(r, f"{backend.name}: 1 ingest", lambda: measure_ingest(None))
        if wants("paging", "restart"):
            with self.pair(backend, r, 3600) as running:
                if wants("paging"):
                    self.paging(running, r, first=0)
                if wants("restart"):
                    self.restart(running, r, first=0)
        if wants("sustained"):
            self.sustained(backend, r)
        if wants("escalation"):
            with self.pair(backend, Results(), m.escalation_wait, people=m.measured) as running:
                self.escalation(running, r, first=0)

    def sustained(self, backend: Backend, r: Results) -> None:
        m = self.mode
        self.attempt(
            r,
            f"{backend.name}: 3 sustained",
            lambda: r.steps.extend(
                sustained.measure(
                    backend,
                    workers=self.workers,
                    people=m.people,
                    seconds=m.sustained_seconds,
                    start=m.sustained_start,
                    steps=m.sustained_steps,
                )
            ),
        )

    def slow(self, backend: Backend, layout: str, r: Results) -> None:
        """Figure 8 on `layout`: the slow provider's ceiling (once a run), the burst, the storm.
        Every person is paged at most twice (burst, storm), well inside the per-number limits."""
        m, slow = self.mode, burst.Slow(layout, self.choice.delay)
        r.slow.append(slow)
        name = f"{backend.name} {layout}: 8"
        if self.provider_ceiling is None:
            self.attempt(r, f"{name} slow provider ceiling", lambda: self.measure_provider())
        slow.ceiling = self.provider_ceiling

        def phases() -> None:
            people = max(m.burst_incidents, m.storm_alerts // 10)
            with fleet(
                backend,
                web_workers=self.workers,
                people=people,
                layout=layout,
                twilio_delay=slow.delay,
            ) as running:
                if self.choice.wants("burst"):
                    self.attempt(r, f"{name} burst", lambda: self.burst(running, slow))
                if self.choice.wants("slow-storm"):
                    self.attempt(
                        r,
                        f"{name} storm against the slow provider",
                        lambda: paging.storm(running, 0, m.storm_alerts, m.wait_box, slow.storm),
                    )

        self.attempt(r, f"{name} start against the slow provider", phases)

    def measure_provider(self) -> None:
        self.provider_ceiling = burst.provider_ceiling(self.choice.delay, self.mode.seconds)

    def burst(self, running: Fleet, slow: burst.Slow) -> None:
        name = f"burst-{slow.layout.replace('+', '-')}"
        with self.profiler.attached(name, running) if self.profiler else nullcontext():
            slow.burst = burst.burst(running, 0, self.mode.burst_incidents, self.mode.wait_box)

    def paging(self, running: Fleet, r: Results, first: int) -> None:
        """Memory at rest, idle latency, acks, the storm, memory after it."""
        m = self.mode
        time.sleep(1.0)  # let start-up work (first rotation check, first poll) settle
        r.paging.memory_rest = usage_mb(running.pids())
        pages: list[tuple[int, str]] = []
        self.attempt(
            r,
            "2 webhook -> SMS idle",
            lambda: pages.extend(paging.idle(running, first, m.idle_rounds, r.paging)),
        )
        self.attempt(r, "4 ack", lambda: paging.ack(running, pages, r.paging))

        def storm() -> None:
            first_storm = first + m.idle_rounds if m.shared else first
            with self.profiler.attached("storm", running) if self.profiler else nullcontext():
                paging.storm(running, first_storm, m.storm_alerts, m.wait_box, r.paging)

        self.attempt(r, f"2 webhook -> SMS during a {m.storm_alerts}-alert storm", storm)
        r.paging.memory_storm = usage_mb(running.pids())

    def escalation(self, running: Fleet, r: Results, first: int) -> None:
        m = self.mode
        self.attempt(
            r,
            f"5 escalation lag, {m.open_incidents} open incidents",
            lambda: setattr(
                r,
                "escalation",
                escalation.measure(
                    running,
                    first=first,
                    open_incidents=m.open_incidents,
                    measured=m.measured,
                    wait=m.escalation_wait,
                    within=m.open_within,
                    calls_within=m.wait_box,
                ),
            ),
        )

    def restart(self, running: Fleet, r: Results, first: int) -> None:
        self.attempt(
            r,
            f"6 restart with {self.mode.overdue} overdue",
            lambda: paging.restart(running, first, self.mode.overdue, self.mode.wait_box, r.paging),
        )


def sections(r: Results, workers: int, backend: str) -> list[tuple[str, list[Row]]]:
    def failed(prefix: str) -> list[Row]:
        return [
            Row(figure, error, met=False)
            for figure, error in r.errors.items()
            if figure.split(": ")[-1].startswith(prefix)
        ]

    restarted = not math.isnan(r.paging.restart_runner_up)
    ceiling = next((slow.ceiling for slow in r.slow if slow.ceiling), None)
    delay = r.slow[0].delay if r.slow else burst.DELAY
    found = [
        ("1", (ingest_rows(r.ingest) if r.ingest else []) + failed("1")),
        ("2", (paging_rows(r.paging, backend=backend) if r.paging.idle else []) + failed("2")),
        ("3", (sustained_rows(r.steps) if r.steps else []) + failed("3")),
        ("4", (paging_rows(r.paging, ack=True) if r.paging.ack else []) + failed("4")),
        ("5", (escalation_rows(r.escalation) if r.escalation else []) + failed("5")),
        ("6", (restart_rows(r.paging) if restarted else []) + failed("6")),
        ("7", memory_rows(r.paging, workers) if r.paging.idle else []),
        ("8", provider_ceiling_rows(ceiling, delay) + slow_rows_of(r.slow) + failed("8")),
    ]
    return [(number, rows) for number, rows in found if rows]


def slow_rows_of(slows: list[burst.Slow]) -> list[Row]:
    return [row for slow in slows for row in slow_rows(slow)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke mode: tiny counts")
    parser.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL at URL")
    parser.add_argument("--web-workers", type=int, default=WEB_WORKERS)
    parser.add_argument("--profile", metavar="DIR", type=Path, help="py-spy profiles into DIR")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables too")
    parser.add_argument(
        "--only",
        type=_names(PHASES),
        default=PHASES,
        help=f"comma-separated phases to run (default all): {','.join(PHASES)}",
    )
    parser.add_argument(
        "--layouts",
        type=_names(LAYOUTS),
        default=LAYOUTS,
        help=f"comma-separated layouts figure 8 runs on (default both): {','.join(LAYOUTS)}",
    )
    parser.add_argument(
        "--provider-delay",
        type=float,
        default=burst.DELAY,
        help="seconds the slow fake Twilio takes to answer each call (figure 8)",
    )
    args = parser.parse_args()
    if not load.have_wrk():
        sys.exit("wrk is needed for the ingest figures: apt-get install -y wrk")
    mode = QUICK if args.quick else FULL
    choice = Choice(args.only, args.layouts, args.provider_delay)
    profiler = Profiler(args.profile) if args.profile else None
    bench = Bench(mode, args.web_workers, profiler, choice)
    backends = [Backend("sqlite")]
    if args.postgres:
        backends.append(Backend("postgres", args.postgres))
    tables = [(backend.name, bench.run(backend)) for backend in backends]
    bench.log("done")
    print(
        f"\npager benchmarks, {mode.name} mode: `pager web` ({args.web_workers} gunicorn sync "
        f"workers) + `pager worker`"
        + (f"; figure 8 on {', '.join(choice.layouts)}" if choice.wants(*SLOW_PHASES) else "")
        + f", {time.monotonic() - bench.started:.0f} s"
    )
    for name, results in tables:
        table = sections(results, args.web_workers, name)
        print(f"\n{name}\n{text_table(table)}")
        if args.markdown:
            print(f"\n{markdown_table(table)}")
    if args.profile:
        for path in sorted(args.profile.glob("*.txt")):
            print(f"\n{summary(path)}")


def _names(known: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    """An argparse type: a comma-separated list of some of `known`."""

    def parse(value: str) -> tuple[str, ...]:
        names = tuple(name.strip() for name in value.split(",") if name.strip())
        unknown = [name for name in names if name not in known]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"{', '.join(unknown) or 'nothing'}: choose from {', '.join(known)}"
            )
        return names

    return parse


if __name__ == "__main__":
    main()

"""Figure 3: sustained new incidents per second, each paging a different person, while the SMS
p99 stays under 5 s.

Each step offers a fixed rate for a while (an open loop: request i is due at i/rate whatever
happened to earlier ones) on a fresh daemon pair, and times each incident from when its
webhook was due to when its SMS reached the provider. An SMS still missing 5 s after the last
webhook was due counts as slower than 5 s. The ladder climbs from `start` while steps pass and
comes down while they fail, so a few steps bracket the answer.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass

from bench import load
from bench.fleet import Backend, Fleet, fleet, integration
from bench.report import Latencies, arrivals

LIMIT = 5.0  # seconds: the SMS p99 a rate must hold to count as sustained


@dataclass(frozen=True)
class Step:
    rate: float  # offered new incidents per second
    seconds: float
    offered: int
    accepted: int  # webhooks answered 200 with a new incident
    latencies: Latencies  # webhook due -> SMS at the provider

    @property
    def passed(self) -> bool:
        return self.accepted == self.offered and self.latencies.under(99, LIMIT)


def run_step(running: Fleet, *, first: int, people: int, rate: float, seconds: float) -> Step:
    """Offer `rate` new incidents/s for `seconds` to people first..first+people-1 in turn."""
    offered = max(1, round(rate * seconds))
    run = secrets.token_hex(3)
    jobs = [(integration(first + i % people), f"rate-{run}-{i}", 1) for i in range(offered)]
    sent = load.post_alerts(running.url, running.token, jobs, rate=rate, concurrency=64)
    due = {s.opened[0]: s.due for s in sent if s.opened}
    give_up = max(s.due for s in sent) + LIMIT + 0.5
    arrived = running.twilio.wait_for_incidents(set(due), max(0.0, give_up - time.time()))
    return Step(rate, seconds, offered, len(due), arrivals(due, arrived, time.time()))


def measure(
    backend: Backend,
    *,
    workers: int,
    people: int,
    seconds: float,
    start: float,
    steps: int,
    budget: float = 90,
) -> list[Step]:
    """Up to `steps` steps, each on a fresh daemon pair: double the rate after a pass, halve
    it after a fail, stop once a pass and a fail are within a factor of two, or when no step
    may start after `budget` seconds."""
    done: list[Step] = []
    rate = start
    began = time.monotonic()
    for _ in range(steps):
        if done and time.monotonic() - began > budget:
            break
        # Enough people for at most 3 pages each (the limit is 5 per 15 minutes), and no more:
        # every process parses the rotations at start-up.
        needed = min(people, max(20, math.ceil(rate * seconds / 3)))
        with fleet(backend, web_workers=workers, people=needed) as running:
            step = run_step(running, first=0, people=needed, rate=rate, seconds=seconds)
        done.append(step)
        passed = [s.rate for s in done if s.passed]
        failed = [s.rate for s in done if not s.passed]
        if passed and failed and min(failed) <= 2 * max(passed):
            break
        rate = rate * 2 if step.passed else rate / 2
    return done


def best(steps: list[Step]) -> Step | None:
    """The fastest step that held the limit."""
    passed = [s for s in steps if s.passed]
    return max(passed, key=lambda s: s.rate) if passed else None

"""Figure 8: paging against a slow provider. The fake Twilio answers each API call after
`delay` seconds (the real one takes 150-300 ms), calls side by side; its own ceiling with that
delay is measured first, so a figure can be judged against it. Then, on one daemon (pair) per
layout: a burst of new incidents, each for a person of its own, posted as fast as they are
answered (pages/s sustained, from the first webhook to the last SMS at the fake; webhook ->
SMS p50 and p99), and the alert storm of figure 2 again, against the slow fake."""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass, field

from bench import load, paging
from bench.fleet import Fleet, TimedTwilio, integration
from bench.report import Latencies, arrivals

DELAY = 0.25  # seconds the slow fake takes to answer each API call
BURST_IN_FLIGHT = 64  # webhooks kept in flight: "as fast as possible" from one client
CEILING_CONNECTIONS = 256  # more calls at once than any sender pool here would make


@dataclass(frozen=True)
class Burst:
    incidents: int  # webhooks answered 200 with a new incident
    refused: int
    pages_per_s: float  # paged incidents / (last SMS at the fake - first webhook sent)
    webhooks_per_s: float
    latencies: Latencies  # webhook sent -> its SMS at the fake
    wait: float  # seconds waited for the pages after the last webhook


@dataclass
class Slow:
    """Figure 8 for one layout."""

    layout: str
    delay: float
    ceiling: load.Throughput | None = None  # the slow fake alone, measured with wrk
    burst: Burst | None = None
    storm: paging.Paging = field(default_factory=paging.Paging)


def provider_ceiling(delay: float, seconds: float) -> load.Throughput:
    """SMS per second a fresh fake Twilio answering after `delay` takes, 256 calls at once."""
    with TimedTwilio(auto_status=None, delay=delay) as twilio:
        return load.wrk_twilio_messages(
            twilio.base_url, twilio.account_sid, twilio.auth_token, seconds, CEILING_CONNECTIONS
        )


def burst(running: Fleet, first: int, incidents: int, wait: float) -> Burst:
    """`incidents` webhooks of one alert, each a new incident for people first.., 64 in
    flight; then up to `wait` seconds for the pages still to come."""
    run = secrets.token_hex(3)
    jobs = [(integration(first + i), f"burst-{run}-{i}", 1) for i in range(incidents)]
    sent = load.post_alerts(running.url, running.token, jobs, concurrency=BURST_IN_FLIGHT)
    opened = {s.opened[0]: s.due for s in sent if s.opened}
    arrived = running.twilio.wait_for_incidents(set(opened), wait)
    latencies = arrivals(opened, arrived, time.time())
    began = min((s.due for s in sent), default=math.nan)
    span = max(arrived.values(), default=math.nan) - began
    return Burst(
        incidents=len(opened),
        refused=sum(1 for s in sent if s.status != 200),
        pages_per_s=len(arrived) / span if span > 0 else math.nan,
        webhooks_per_s=load.throughput_of(sent),
        latencies=latencies,
        wait=wait,
    )

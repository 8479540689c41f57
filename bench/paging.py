"""Figures 2, 4, 6 and 7, each phase on a running daemon pair and its own range of people:
webhook -> SMS at the provider when idle and during an alert storm, signed reply -> ack,
catch-up after `kill -9` of the worker; memory is read between phases."""

from __future__ import annotations

import math
import re
import secrets
import time
from dataclasses import dataclass, field

import requests

from bench import load
from bench.fleet import Fleet, integration, phone
from bench.payloads import alertmanager_body
from bench.report import Latencies, arrivals
from tests.e2e.daemon import TWILIO_NUMBER

_CODE = re.compile(r"ACK (\d+)")


@dataclass
class Paging:
    startup: float = math.nan  # seconds until web answers /readyz and the worker runs
    idle: Latencies = field(default_factory=Latencies)  # webhook -> SMS, one at a time
    ack: Latencies = field(default_factory=Latencies)  # signed reply -> acknowledged
    ack_failed: int = 0
    storm: Latencies = field(default_factory=Latencies)  # webhook sent -> its SMS
    storm_wait: float = 0.0  # seconds waited for the storm's pages after the last webhook
    storm_alerts: int = 0
    storm_incidents: int = 0
    storm_rejected: int = 0
    storm_webhooks_per_s: float = 0.0
    duplicates: int = 0  # SMS sent twice for one incident to one person, by the storm's end
    memory_rest: tuple[float, float] = (math.nan, math.nan)  # RSS, PSS in MB
    memory_storm: tuple[float, float] = (math.nan, math.nan)
    restart_overdue: int = 0
    restart: Latencies = field(default_factory=Latencies)  # worker exec -> each overdue page
    restart_runner_up: float = math.nan  # worker exec -> runner started (log line)
    restart_wait: float = 0.0


def idle(running: Fleet, first: int, rounds: int, result: Paging) -> list[tuple[int, str]]:
    """One webhook at a time, each to a new person; returns (person, ack code) per page."""
    pages = []
    for person in range(first, first + rounds):
        body = alertmanager_body(f"idle-{secrets.token_hex(4)}", 1)
        sent = time.time()
        answer = requests.post(
            f"{running.url}/integrations/{integration(person)}",
            json=body,
            headers={"Authorization": f"Bearer {running.token}"},
            timeout=30,
        )
        answer.raise_for_status()
        incident = answer.json()["opened"][0]
        arrived = running.twilio.wait_for_incidents({incident}, 30)
        if incident not in arrived:
            result.idle.add(time.time() - sent, arrived=False)
            continue
        result.idle.add(arrived[incident] - sent)
        message = next(m for m in running.twilio.messages if f"#{incident} " in m["Body"])
        code = _CODE.search(message["Body"])
        if code:
            pages.append((person, code.group(1)))
    return pages


def ack(running: Fleet, pages: list[tuple[int, str]], result: Paging) -> None:
    """Post each signed `ACK <code>` reply as Twilio would; the answer comes after the commit."""
    inbound = f"{running.url}/providers/twilio/inbound"
    for person, code in pages:
        started = time.perf_counter()
        answer = running.twilio.send_inbound_sms(
            inbound, phone(person), TWILIO_NUMBER, f"ACK {code}"
        )
        elapsed = time.perf_counter() - started
        if answer.status_code == 200 and "Acknowledged" in answer.text:
            result.ack.add(elapsed)
        else:
            result.ack_failed += 1


def storm(running: Fleet, first: int, alerts: int, wait: float, result: Paging) -> None:
    """`alerts` alerts in webhooks of 10, each a new incident for a new person, 16 in flight;
    then up to `wait` seconds for the pages still to come."""
    webhooks = max(1, alerts // 10)
    run = secrets.token_hex(3)
    jobs = [(integration(first + i), f"storm-{run}-{i}", 10) for i in range(webhooks)]
    sent = load.post_alerts(running.url, running.token, jobs, concurrency=16)
    result.storm_alerts = 10 * sum(1 for s in sent if s.status == 200)
    result.storm_rejected = sum(1 for s in sent if s.status != 200)
    result.storm_webhooks_per_s = load.throughput_of(sent)
    opened = {s.opened[0]: s.due for s in sent if s.opened}
    result.storm_incidents = len(opened)
    arrived = running.twilio.wait_for_incidents(set(opened), wait)
    result.storm_wait = wait
    result.storm = arrivals(opened, arrived, time.time())
    result.duplicates = running.twilio.duplicates()


def restart(running: Fleet, first: int, overdue: int, wait: float, result: Paging) -> None:
    """kill -9 the worker, let `overdue` first steps fall due, start it, time the catch-up
    (waiting up to `wait` seconds after the runner started)."""
    running.kill_worker()
    run = secrets.token_hex(3)
    jobs = [(integration(first + i), f"restart-{run}-{i}", 1) for i in range(overdue)]
    sent = load.post_alerts(running.url, running.token, jobs, concurrency=16)
    ids = {s.opened[0] for s in sent if s.opened}
    result.restart_overdue = len(ids)
    started = running.start_worker()
    result.restart_runner_up = time.time() - started
    arrived = running.twilio.wait_for_incidents(ids, wait)
    result.restart_wait = wait
    result.restart = arrivals(dict.fromkeys(ids, started), arrived, time.time())

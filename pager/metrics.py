"""Prometheus metrics. Names follow Prometheus conventions; labels are bounded sets.

Under `pager web` gunicorn's workers each count what they handle: `PROMETHEUS_MULTIPROC_DIR`
(set by `pager web` before this module is imported) makes every process write its values to
files there, and `/metrics` adds them up (`exposition`), whichever worker answers the scrape.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROCESS_DIR):  # the values below open their files there at once
    os.makedirs(os.environ[MULTIPROCESS_DIR], exist_ok=True)
REGISTRY = CollectorRegistry(auto_describe=True)


def exposition() -> bytes:
    """The text `/metrics` answers: this process's metrics, or every process's added up."""
    if not os.environ.get(MULTIPROCESS_DIR):
        return generate_latest(REGISTRY)
    everyone = CollectorRegistry()
    multiprocess.MultiProcessCollector(everyone)
    return generate_latest(everyone)


ALERTS_RECEIVED = Counter(
    "pager_alerts_received",
    "Alerts received from sources",
    ["integration", "source"],
    registry=REGISTRY,
)
WEBHOOKS_REJECTED = Counter(
    "pager_webhooks_rejected",
    "Inbound webhooks refused",
    ["endpoint", "reason"],
    registry=REGISTRY,
)
INCIDENTS_OPENED = Counter(
    "pager_incidents_opened", "Incidents opened", ["service"], registry=REGISTRY
)
NOTIFICATIONS_SENT = Counter(
    "pager_notifications_sent",
    "Notifications a provider accepted",
    ["provider", "channel"],
    registry=REGISTRY,
)
NOTIFICATIONS_FAILED = Counter(
    "pager_notifications_failed",
    "Notifications a provider refused or failed to deliver",
    ["provider", "channel"],
    registry=REGISTRY,
)
WRITERS_PER_COMMIT = Histogram(
    "pager_intake_writers_per_commit",
    "Webhook deliveries stored by one commit (group commit: those arriving together share it)",
    buckets=(1, 2, 4, 8, 16, 32, 64),
    registry=REGISTRY,
)
ACK_LATENCY = Histogram(
    "pager_ack_latency_seconds",
    "Time from incident opened to acknowledged",
    buckets=(5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200),
    registry=REGISTRY,
)
ROTATIONS_VALID = Gauge(
    "pager_rotations_valid",
    "1 when the rotation files on disk validate, else 0",
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",
)
ROTATIONS_GIT_FETCH_OK = Gauge(
    "pager_rotations_git_fetch_ok",
    "1 when the last fetch of the rotations git repository worked, else 0 (rotations from git)",
    ["branch"],
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",
)
UNVERIFIED_NUMBERS = Gauge(
    "pager_unverified_numbers",
    "People in the rotations in force whose number has not answered a code (pager verify)",
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",
)
WEBHOOK_BACKLOG = Gauge(
    "pager_webhook_deliveries_pending",
    "Outgoing webhook deliveries not yet delivered (due, or waiting for a retry)",
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",
)
# Work waiting, read from the database when /metrics is scraped (flows.backlog): every process
# that answers a scrape says the same, so scrape whichever and alert on the max.
OLDEST_UNSENT_PAGE = Gauge(
    "pager_oldest_unsent_page_seconds",
    "Age of the oldest notification (page, notice or code) due but not yet taken by a provider",
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",
)
ESCALATION_LAG = Gauge(
    "pager_escalation_lag_seconds",
    "How late the most overdue escalation step is (0: none overdue)",
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",
)
RUNNERS = Gauge(
    "pager_runners",
    "Escalation runners alive (beating in the runners table) on the database",
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",
)
CANARY_OK = Gauge(
    "pager_canary_ok",
    "Whether the canary's newest finished round trip came back (1) or not (0)",
    ["route", "to"],
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",
)
CANARY_SECONDS = Gauge(
    "pager_canary_seconds",
    "Seconds the canary's newest successful round trip took (send, delivery, inbound webhook)",
    ["route", "to"],
    registry=REGISTRY,
    multiprocess_mode="livemostrecent",
)

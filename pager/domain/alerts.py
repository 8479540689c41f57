"""Alerts as every source hands them to us, whatever their wire format."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

AlertStatus = Literal["firing", "resolved"]


@dataclass(frozen=True)
class AlertEvent:
    """One alert's state as a source reported it."""

    fingerprint: str  # identity of the alert within its integration (dedup key)
    status: AlertStatus
    name: str  # e.g. HighErrorRate
    group_key: str | None = None  # alerts with the same group key share an incident
    summary: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str | None = None


def fingerprint_of(labels: Mapping[str, str]) -> str:
    """A stable dedup key from labels, for sources that send no fingerprint."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]

"""A webhook as a source sees it (raw body, headers, query) and what the source read from it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from pager.domain.alerts import AlertEvent

MAX_FINGERPRINT = 200  # the width of alerts.fingerprint


@dataclass(frozen=True)
class Delivery:
    """One webhook request, framework-free. Signatures are computed over `body` as received."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, body: bytes, headers: Mapping[str, str], query: Mapping[str, str] | None = None
    ) -> Delivery:
        """Header names are case-insensitive: keep them lower-cased."""
        lowered = {name.lower(): value for name, value in headers.items()}
        return cls(body=body, headers=lowered, query=dict(query or {}))

    def header(self, name: str) -> str:
        """The header's value, or "" when it is absent."""
        return self.headers.get(name.lower(), "").strip()


@dataclass(frozen=True)
class Received:
    """What a delivery asks of us: alert states to apply, and alerts whose incidents to ack."""

    events: tuple[AlertEvent, ...] = ()
    acknowledge: tuple[str, ...] = ()  # fingerprints (PagerDuty's `acknowledge` action)


def bounded_fingerprint(key: str) -> str:
    """A sender's own alert key as a fingerprint: itself when it fits the column, else its hash."""
    if len(key) <= MAX_FINGERPRINT:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()

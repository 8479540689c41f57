"""A webhook as a source sees it (raw body, headers, query) and what the source read from it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from pager.domain.alerts import AlertEvent

MAX_FINGERPRINT = 200  # the width of alerts.fingerprint
MAX_GROUP_KEY = 1000  # the width of incidents.group_key


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


def bounded_key(key: str, width: int) -> str:
    """`key` when it fits a column `width` characters wide, else a readable head of it and the
    SHA-256 of all of it: a long key stays the same key on every delivery, and fits."""
    if len(key) <= width:
        return key
    digest = "~sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key[: width - len(digest)] + digest


def bounded_fingerprint(key: str) -> str:
    """A sender's own alert key as a fingerprint (alerts.fingerprint)."""
    return bounded_key(key, MAX_FINGERPRINT)


def bounded_group_key(key: str | None) -> str | None:
    """A sender's grouping key as an incident's group key (incidents.group_key)."""
    return None if key is None else bounded_key(key, MAX_GROUP_KEY)

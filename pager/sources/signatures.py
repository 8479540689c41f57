"""Signature and token checks as small pure functions, shared by every source.

Each compares in constant time and tries every accepted secret (no early exit), so timing tells
nothing about which secret matched; during a rotation both the current and previous secret pass.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime, timedelta

MAX_CLOCK_SKEW = timedelta(minutes=5)


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def matches_any(given: str, accepted: Iterable[str | None]) -> bool:
    """True when `given` equals one of the non-empty `accepted` values."""
    matched = False
    for value in accepted:
        matched |= bool(value) and hmac.compare_digest(given.encode(), (value or "").encode())
    return matched


def signed_by(signature_hex: str, message: bytes, secrets: Iterable[str | None]) -> bool:
    """True when `signature_hex` is the HMAC-SHA256 of `message` under one of `secrets`."""
    expected = [hmac_sha256_hex(secret, message) for secret in secrets if secret]
    return matches_any(signature_hex.strip().lower(), expected)


def is_fresh(unix_seconds: str, now: datetime, skew: timedelta = MAX_CLOCK_SKEW) -> bool:
    """True when the sender's timestamp is within `skew` of `now` (either way): not a replay."""
    try:
        sent = float(unix_seconds)
    except ValueError:
        return False
    return abs(now.timestamp() - sent) <= skew.total_seconds()

"""Readers for the JSON fields every source takes apart: each names the field it refuses.

A payload that fails here answers 400 (SourceError), never 500: Alertmanager retries only on 5xx.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pager.sources.errors import SourceError

_ZERO_TIME = "0001-01-01T00:00:00Z"


def mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SourceError(path, f"expected a JSON object, got {type(value).__name__}")
    return value


def labels(value: Any, path: str) -> dict[str, str]:
    """An object of string values (labels, annotations); absent is empty."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise SourceError(path, "expected an object of string values")
    return dict(value)


def optional_text(body: dict[str, Any], key: str, path: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SourceError(path, f"expected a string, got {type(value).__name__}")
    return value


def required_text(body: dict[str, Any], key: str, path: str) -> str:
    value = optional_text(body, key, path)
    if value is None:
        raise SourceError(path, "missing: expected a non-empty string")
    return value


def time(value: Any, path: str) -> datetime | None:
    """An RFC 3339 time (Go's nanoseconds allowed), in UTC; absent or Go's zero time is None."""
    if value is None or value == "" or value == _ZERO_TIME:
        return None
    if not isinstance(value, str):
        raise SourceError(path, "expected an RFC 3339 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        # Go prints nanoseconds; Python takes at most microseconds.
        try:
            head, _, rest = value.partition(".")
            digits = "".join(c for c in rest if c.isdigit())
            zone = rest[len(digits) :]
            parsed = datetime.fromisoformat(f"{head}.{digits[:6]}{zone}".replace("Z", "+00:00"))
        except ValueError as exc:
            raise SourceError(path, f"not an RFC 3339 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise SourceError(path, f"time without a zone: {value!r}")
    if parsed.year <= 1:
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-01:00 is past year 9999 in UTC
        raise SourceError(path, f"time out of range in UTC: {value!r}") from None

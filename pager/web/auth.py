"""Bearer tokens, compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from flask import request


def presented_token() -> str:
    """The token in `Authorization: Bearer ...`, else in `?token=`."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.args.get("token", "")


def token_matches(given: str, accepted: Iterable[str]) -> bool:
    matched = False
    for token in accepted:
        # Check every token (no early exit) so timing says nothing about which one matched.
        matched |= bool(token) and hmac.compare_digest(given.encode(), token.encode())
    return matched

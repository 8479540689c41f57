"""Bearer tokens, compared in constant time (the same rules as the integrations')."""

from __future__ import annotations

from flask import request

from pager.sources.auth import bearer_or_query
from pager.sources.signatures import matches_any as token_matches

__all__ = ["presented_token", "token_matches"]


def presented_token() -> str:
    """The token in `Authorization: Bearer ...`, else in `?token=`."""
    return bearer_or_query(request.headers.get("Authorization", ""), request.args.get("token", ""))

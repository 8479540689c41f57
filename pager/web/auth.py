"""Bearer tokens, compared in constant time (the same rules as the integrations')."""

from __future__ import annotations

import hmac

from flask import request

from pager.config import Settings
from pager.sources.auth import bearer_or_query
from pager.sources.signatures import matches_any as token_matches

__all__ = ["api_token_name", "presented_token", "token_matches"]


def presented_token() -> str:
    """The token in `Authorization: Bearer ...`, else in `?token=`."""
    return bearer_or_query(request.headers.get("Authorization", ""), request.args.get("token", ""))


def api_token_name(given: str, settings: Settings) -> str | None:
    """The name of the API token `given` is (each compared in constant time); None if none."""
    found = None
    for index, token in enumerate(settings.api_tokens):
        if token and hmac.compare_digest(given.encode(), token.encode()):
            names = settings.api_token_names
            found = names[index] if index < len(names) else "api"
    return found

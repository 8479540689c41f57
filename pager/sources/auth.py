"""How each source proves a request is its own: a token, a token header, or an HMAC of the body.

A check raises NotAuthenticated with what is wrong (the view answers 401), or returns.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pager.config import IntegrationSettings
from pager.sources.delivery import Delivery
from pager.sources.errors import NotAuthenticated
from pager.sources.signatures import matches_any, signed_by

Verify = Callable[[Delivery, IntegrationSettings, datetime], None]


def presented_token(delivery: Delivery) -> str:
    """The token in `Authorization: Bearer ...`, else in `?token=`."""
    return bearer_or_query(delivery.header("Authorization"), delivery.query.get("token", ""))


def bearer_or_query(authorization: str, query_token: str) -> str:
    """The token of an `Authorization: Bearer <token>` header, else the one in the query."""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return query_token


def by_token(delivery: Delivery, integration: IntegrationSettings, now: datetime) -> None:
    """`Authorization: Bearer <token>` or `?token=<token>`."""
    if not matches_any(presented_token(delivery), [integration.token]):
        raise NotAuthenticated("missing or wrong token (Authorization: Bearer <token>)")


def token_in_header(header: str) -> Verify:
    """The integration's token, sent as is in `header` (GitLab's X-Gitlab-Token)."""

    def verify(delivery: Delivery, integration: IntegrationSettings, now: datetime) -> None:
        given = delivery.header(header)
        if not given:
            raise NotAuthenticated(f"missing {header} header")
        if not matches_any(given, [integration.token]):
            raise NotAuthenticated(f"wrong {header}: it must equal the integration's token")

    return verify


def require_signature(
    integration: IntegrationSettings, header: str, given: str, prefix: str, message: bytes
) -> None:
    """`given` (from `header`) must be `prefix` + hex HMAC-SHA256 of `message` under a secret."""
    if not given:
        raise NotAuthenticated(f"missing {header} header (HMAC-SHA256 of the body)")
    if not given.startswith(prefix):
        raise NotAuthenticated(f"{header} must look like '{prefix}<hex HMAC-SHA256>'")
    secrets = (integration.secret, integration.previous_secret)
    if not signed_by(given[len(prefix) :], message, secrets):
        raise NotAuthenticated(f"{header} does not match: body not signed with this secret")


def signature_in_header(header: str, prefix: str = "") -> Verify:
    """`header: <prefix><hex HMAC-SHA256 of the raw body>` with the integration's secret."""

    def verify(delivery: Delivery, integration: IntegrationSettings, now: datetime) -> None:
        require_signature(integration, header, delivery.header(header), prefix, delivery.body)

    return verify


def signature_or_token(header: str, prefix: str = "") -> Verify:
    """The signature when the integration has a secret, else the token."""
    by_signature = signature_in_header(header, prefix)

    def verify(delivery: Delivery, integration: IntegrationSettings, now: datetime) -> None:
        check = by_signature if integration.secret else by_token
        check(delivery, integration, now)

    return verify

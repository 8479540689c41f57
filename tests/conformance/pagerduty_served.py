"""pager's app served over TLS for PagerDuty's own client (`pagerduty`, which speaks https only),
with one `source: pagerduty` integration whose token is the routing key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pager.app import build_pager
from pager.config import IntegrationSettings
from pager.flows.context import Pager
from pager.web import create_app
from tests.conftest import make_settings
from tests.fakes.twilio import stop_server
from tests.fakes.vonage import local_tls, serve_tls_in_background


@contextmanager
def served_over_tls(
    database_url: str, routing_key: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Pager, str]]:
    """The pager and its https URL, trusted through a test CA."""
    integration = IntegrationSettings("payments-pd", "payments", "pagerduty", routing_key)
    pager = build_pager(make_settings(database_url, integrations={integration.name: integration}))
    ca_file, context = local_tls()
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)  # the client speaks httpx, which reads this
    server = serve_tls_in_background(create_app(pager), context)
    try:
        yield pager, f"https://127.0.0.1:{server.port}"
    finally:
        stop_server(server)
        pager.db.dispose()

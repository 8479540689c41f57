"""PagerDuty's own Events API v2 client (PyPI `pagerduty`, successor of `pdpyras`) pointed at
pager: trigger, acknowledge and resolve go through `POST /v2/enqueue` exactly as it sends them
to events.pagerduty.com, and it reads our answers as PagerDuty's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pager.flows import incidents
from pager.flows.context import Pager
from tests.conformance.pagerduty_served import served_over_tls

pagerduty = pytest.importorskip("pagerduty", reason="needs the pagerduty client (test extras)")
ROUTING_KEY = "R0UTINGKEY0FTHEPAYMENTSSERVICE01"


@pytest.fixture
def served(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Pager, str]]:
    """pager's app over TLS with a test CA: the client talks https only."""
    with served_over_tls(sqlite_url, ROUTING_KEY, monkeypatch) as served:
        yield served


def test_it_takes_trigger_acknowledge_and_resolve_from_pagerdutys_client(served) -> None:
    pager, url = served
    client = pagerduty.EventsApiV2Client(ROUTING_KEY)
    client.url = url
    key = client.trigger(
        "Disk full on db-1", "db-1", severity="critical", custom_details={"free": "1%"}
    )
    assert key  # the dedup key we answered, as PagerDuty answers
    [opened] = incidents.listing(pager, None)
    assert (opened.status, opened.title) == ("triggered", "Disk full on db-1")
    client.acknowledge(key)
    assert incidents.view(pager, opened.id).status == "acknowledged"
    client.resolve(key)
    assert incidents.view(pager, opened.id).status == "resolved"


def test_it_is_refused_by_pager_with_a_wrong_routing_key(served) -> None:
    _, url = served
    client = pagerduty.EventsApiV2Client("R0UTINGKEY0FNOSERVICEATALL00001")
    client.url = url
    with pytest.raises(pagerduty.Error) as refused:
        client.trigger("Disk full", "db-1")
    assert "400" in str(refused.value) or "Bad Request" in str(refused.value), refused.value

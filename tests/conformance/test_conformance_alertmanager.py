"""What Prometheus Alertmanager itself posts (captured from its webhook receiver, see README.md
here), replayed byte for byte: two alerts firing in one group, one resolving, then the last."""

from __future__ import annotations

import json
from pathlib import Path

from pager.flows import incidents
from tests.test_integrations_web import post, states, web  # noqa: F401 (the fixture)

HERE = Path(__file__).parent / "alertmanager"
BEARER = {"Authorization": "Bearer am-token"}  # as `http_config.authorization` sends it


def deliver(client, name: str):
    """The captured body, unchanged, with the token Alertmanager's http_config adds."""
    return post(client, "payments-am", (HERE / name).read_bytes(), BEARER)


def test_it_reads_a_version_4_payload_with_its_group_key_and_truncated_count(web) -> None:  # noqa: F811
    body = json.loads((HERE / "two-firing.json").read_bytes())
    assert (body["version"], body["truncatedAlerts"]) == ("4", 0)  # the shape pager is sent
    pager, client = web
    answer = deliver(client, "two-firing.json")
    assert answer.status_code == 200, answer.json
    assert answer.json["opened"] == [1]
    assert states(pager) == [(1, "triggered", "DiskFull", 2)]
    [incident] = incidents.listing(pager, None)
    assert incidents.view(pager, incident.id).summary == "Disk / is full on db-1"


def test_it_resolves_when_alertmanager_reports_each_alert_resolved(web) -> None:  # noqa: F811
    pager, client = web
    deliver(client, "two-firing.json")
    answer = deliver(client, "one-resolved-one-firing.json")
    assert answer.status_code == 200, answer.json
    assert answer.json["resolved"] == []  # db-2 still fires
    assert states(pager)[0][1] == "triggered"
    answer = deliver(client, "last-resolved.json")
    assert answer.status_code == 200, answer.json
    assert answer.json["resolved"] == [1]
    assert states(pager)[0][1] == "resolved"


def test_it_changes_nothing_when_alertmanager_repeats_a_notification(web) -> None:  # noqa: F811
    pager, client = web
    deliver(client, "two-firing.json")
    again = deliver(client, "two-firing.json")  # Alertmanager resends on its repeat_interval
    assert again.status_code == 200, again.json
    assert again.json["opened"] == []
    assert states(pager) == [(1, "triggered", "DiskFull", 2)]


def test_it_refuses_the_payload_without_alertmanagers_token(web) -> None:  # noqa: F811
    _, client = web
    answer = post(client, "payments-am", (HERE / "two-firing.json").read_bytes(), {})
    assert answer.status_code == 401
    assert answer.json["error"]

"""Alertmanager webhook bodies for the load generators: each key is a new group (an incident
of its own) and every alert in it a new fingerprint, so each request stores new alerts."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import payload

KEY = "@KEY@"  # placeholder the wrk script replaces with a unique key per request


def alertmanager_body(key: str, alerts: int) -> dict[str, Any]:
    """A version 4 payload with `alerts` firing alerts in group `key`."""
    body = payload("alertmanager_firing.json")
    first = body["alerts"][0]
    body["groupKey"] = f'{{}}:{{alertname="BenchAlert",group="{key}"}}'
    body["groupLabels"] = {"alertname": "BenchAlert", "group": key}
    body["commonLabels"] = {**body["commonLabels"], "alertname": "BenchAlert"}
    body["alerts"] = [
        dict(
            first,
            labels={**first["labels"], "alertname": "BenchAlert", "instance": f"{key}-{j}"},
            fingerprint=f"{key}-{j}",
        )
        for j in range(alerts)
    ]
    return body


def template(alerts: int) -> str:
    """The JSON text of a body whose key is the placeholder `KEY`."""
    return json.dumps(alertmanager_body(KEY, alerts), separators=(",", ":"))

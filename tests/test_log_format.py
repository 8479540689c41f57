"""`--log-format text|json|logfmt`: one line per event, the event's key=value pairs as fields,
and on each line written while a request runs, that request's id (the caller's `X-Request-Id`
when sane, else a new one), which the answer echoes."""

from __future__ import annotations

import io
import json
import logging
import re
import shlex
from collections.abc import Iterator

import pytest

from pager.app import build_pager
from pager.cli import logs
from pager.web import create_app
from tests.conftest import make_settings
from tests.helpers import payload

AM = {"Authorization": "Bearer am-token"}


@pytest.fixture
def client(sqlite_url: str):
    pager = build_pager(make_settings(sqlite_url))
    yield create_app(pager).test_client()
    pager.db.dispose()


@pytest.fixture(params=logs.FORMATS)
def written(request: pytest.FixtureRequest) -> Iterator[tuple[str, io.StringIO]]:
    """The root logger also writing to a buffer in each format, for the test's length."""
    buffer = io.StringIO()
    handler = logs.handler(request.param, buffer)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield request.param, buffer
    root.removeHandler(handler)
    root.setLevel(level)


def parsed(log_format: str, line: str) -> dict[str, str]:
    """A line read back as a log collector reads it."""
    if log_format == "json":
        return json.loads(line)
    if log_format == "logfmt":
        return dict(pair.split("=", 1) for pair in shlex.split(line))
    return dict(re.findall(r"(\w+)=(\S+)", line))


def test_it_reads_the_pairs_of_our_messages() -> None:
    message = "event=incident_acknowledged incident=4 by='Alice \"Al\" Example' via=sms trailing"
    assert logs.fields_of(message) == {
        "event": "incident_acknowledged",
        "incident": "4",
        "by": 'Alice "Al" Example',
        "via": "sms",
        "msg": "trailing",
    }
    assert logs.fields_of("no pairs at all") == {"msg": "no pairs at all"}


def test_it_writes_one_line_per_event_with_the_request_id(client, written) -> None:
    log_format, buffer = written
    response = client.post(
        "/integrations/payments-am",
        json=payload("alertmanager_firing.json"),
        headers={**AM, "X-Request-Id": "req-4821.a"},
    )
    assert response.headers["X-Request-Id"] == "req-4821.a"
    lines = buffer.getvalue().splitlines()
    events = [parsed(log_format, line) for line in lines]
    received = [e for e in events if e.get("event") == "alerts_received"]
    assert len(received) == 1 and received[0]["request_id"] == "req-4821.a"
    assert received[0]["integration"] == "payments-am" and received[0]["alerts"] == "2"
    if log_format != "text":
        assert received[0]["level"] == "info" and received[0]["logger"] == "pager.flows.intake"
    assert all(e.get("request_id") == "req-4821.a" for e in events), lines


def test_it_keeps_a_traceback_on_one_line_of_json_and_logfmt(written) -> None:
    log_format, buffer = written
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        logging.getLogger("pager.test").exception("event=unhandled_error")
    if log_format == "text":
        return  # for people: Python's traceback as it prints it
    [line] = buffer.getvalue().splitlines()
    fields = parsed(log_format, line)
    assert fields["event"] == "unhandled_error" and "ValueError: boom" in fields["exc"]


@pytest.mark.parametrize(
    "given",
    ["", "has space", "x" * 129, "tab\tin", 'quote"d', "ünï", "a;b"],
)
def test_it_makes_a_new_request_id_when_the_given_one_is_not_sane(client, given) -> None:
    headers = {"X-Request-Id": given} if given else {}
    first = client.get("/healthz", headers=headers).headers["X-Request-Id"]
    second = client.get("/healthz", headers=headers).headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_it_echoes_the_request_id_on_refusals_too(client) -> None:
    response = client.get("/api/v1/incidents", headers={"X-Request-Id": "trace-1"})
    assert response.status_code == 401 and response.headers["X-Request-Id"] == "trace-1"

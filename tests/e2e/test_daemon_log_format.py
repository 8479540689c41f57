"""`pager serve --log-format json`: the real daemon's log is one JSON object per event, and the
lines written while a webhook is served carry its X-Request-Id."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.e2e.daemon import running_daemon
from tests.helpers import payload

pytestmark = pytest.mark.e2e


def test_it_logs_json_lines_with_the_request_id(tmp_path: Path) -> None:
    with running_daemon(tmp_path, args=("--log-format", "json")) as daemon:
        response = daemon.post_alerts_with(payload("alertmanager_firing.json"), "am-4821")
        assert response.headers["X-Request-Id"] == "am-4821"
        daemon.twilio.wait_for_messages(1)
        daemon.wait_for(lambda: '"page_sent"' in daemon.log.read_text(), what="page_sent logged")
    lines = daemon.log.read_text().splitlines()
    banner = [line for line in lines if line.startswith(("pager is listening", "  "))]
    events = [json.loads(line) for line in lines if line not in banner]
    assert banner and events and all(e["ts"] and e["level"] and e["logger"] for e in events)
    assert all("event" in e or "msg" in e for e in events)  # alembic says plain sentences
    [received] = [e for e in events if e.get("event") == "alerts_received"]
    assert received["request_id"] == "am-4821" and received["integration"] == "payments-am"
    # The runner pages outside any request: its lines carry no request id.
    sent = [e for e in events if e.get("event") in ("escalation_step", "page_sent")]
    assert len(sent) == 2 and all("request_id" not in e for e in sent)


def test_it_logs_gunicorns_lines_in_the_same_format(tmp_path: Path) -> None:
    with running_daemon(tmp_path, command="web", args=("--log-format", "logfmt")) as daemon:
        response = daemon.post_alerts_with(payload("alertmanager_firing.json"), "web-1")
        assert response.status_code == 200 and response.headers["X-Request-Id"] == "web-1"
        daemon.wait_for(lambda: "request_id=web-1" in daemon.log.read_text(), what="the line")
    lines = daemon.log.read_text().splitlines()
    logged = [line for line in lines if not line.startswith(("pager is listening", "  "))]
    fields = [dict(pair.split("=", 1) for pair in shlex.split(line)) for line in logged]
    assert all(f["ts"] and f["level"] and f["logger"] for f in fields), logged
    assert any(f["logger"] == "gunicorn.error" and "Booting worker" in f["msg"] for f in fields)
    [received] = [f for f in fields if f.get("event") == "alerts_received"]
    assert received["request_id"] == "web-1"

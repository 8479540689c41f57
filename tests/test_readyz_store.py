"""/readyz tells the truth about the store: while it refuses writes (disk full, read-only),
webhooks get 503 and readiness says unavailable, so a load balancer sends alerts elsewhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import event

from pager.app import build_pager
from pager.flows.context import Pager
from pager.store.db import REFUSAL_MEMORY
from pager.web import create_app
from tests.conftest import make_settings
from tests.helpers import payload

AM = {"Authorization": "Bearer am-token"}
API = {"Authorization": "Bearer api-token"}


@pytest.fixture
def web(sqlite_url: str) -> Iterator[tuple[Pager, FlaskClient]]:
    pager = build_pager(make_settings(sqlite_url))
    yield pager, create_app(pager).test_client()
    pager.db.dispose()


def fill_the_disk(pager: Pager) -> Any:
    """SQLite's own limit on the file's pages: writes that need a new page fail with
    SQLITE_FULL ("database or disk is full"), exactly as on a full disk."""

    def cap(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    pager.db.engine.dispose()
    event.listen(pager.db.engine, "connect", cap)
    return cap


def post_alerts(client: FlaskClient, body: object) -> Any:
    return client.post(
        "/integrations/payments-am",
        data=json.dumps(body),
        headers=AM,
        content_type="application/json",
    )


def storm(index: int) -> dict:
    """An Alertmanager payload with many distinct alerts: it needs new pages to store."""
    body = payload("alertmanager_firing.json")
    template = body["alerts"][0]
    body["alerts"] = [
        {
            **template,
            "fingerprint": f"{index:04d}{n:012d}",
            "labels": {**template["labels"], "instance": f"host-{index}-{n}-" + "x" * 200},
        }
        for n in range(200)
    ]
    return body


def test_it_says_unavailable_while_the_store_refuses_writes(web) -> None:
    pager, client = web
    with freeze_time("2026-12-08T12:00:00Z") as clock:
        assert post_alerts(client, storm(0)).status_code == 200
        cap = fill_the_disk(pager)
        refused = post_alerts(client, storm(1))
        assert (refused.status_code, refused.json["error"]) == (503, "store_unavailable")

        assert (client.get("/readyz").status_code, client.get("/readyz").json) == (
            503,
            {"status": "unavailable"},
        )
        detail = client.get("/readyz", headers=API).json["checks"]["database"]
        assert detail.startswith("unavailable: refused a write") and "full" in detail

        # The disk has room again: once the last refusal is older than the memory, ready.
        event.remove(pager.db.engine, "connect", cap)
        pager.db.engine.dispose()
        clock.tick(REFUSAL_MEMORY + 1)
        assert post_alerts(client, storm(2)).status_code == 200
        ready = client.get("/readyz", headers=API)
        assert (ready.status_code, ready.json["checks"]["database"]) == (200, "ok")


def test_it_says_unavailable_when_the_disk_under_the_database_is_all_but_full(
    web, monkeypatch: pytest.MonkeyPatch
) -> None:
    pager, client = web
    assert client.get("/readyz").status_code == 200
    # What shutil.disk_usage reads from the kernel (statvfs): a disk with 4 KiB free.
    import os

    real = os.statvfs

    class Full:
        def __init__(self, stat: os.statvfs_result) -> None:
            self.f_frsize, self.f_blocks = stat.f_frsize, stat.f_blocks
            self.f_bavail = self.f_bfree = 4096 // stat.f_frsize

    monkeypatch.setattr(os, "statvfs", lambda path: Full(real(path)))
    ready = client.get("/readyz", headers=API)
    assert ready.status_code == 503
    assert "KiB free" in ready.json["checks"]["database"]
    assert Path(pager.db.engine.url.database or "").exists()


def test_it_says_unavailable_while_postgres_is_read_only(database_url: str) -> None:
    """A primary that became a standby (failover) refuses writes with SQLSTATE 25006."""
    if not database_url.startswith("postgresql"):
        pytest.skip("read-only transactions as PostgreSQL has them")
    pager = build_pager(make_settings(database_url))
    client = create_app(pager).test_client()
    try:

        def read_only(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()

        pager.db.engine.dispose()
        event.listen(pager.db.engine, "connect", read_only)
        assert post_alerts(client, payload("alertmanager_firing.json")).status_code == 503
        ready = client.get("/readyz", headers=API)
        assert ready.status_code == 503
        assert "read-only" in ready.json["checks"]["database"]
    finally:
        pager.db.dispose()

"""Every list of the API pages the same way: `limit`, an opaque `cursor`, a `next` link (and a
`Link` header), on SQLite and PostgreSQL. The storm of issue 14 had 356 incidents; the list
stopped at 100 without saying so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient

from pager.flows.context import Pager
from pager.store.models import Incident
from pager.store.people_models import AuditEntry
from pager.web import create_app

API = {"Authorization": "Bearer api-token"}
STORM = 356
T0 = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


@pytest.fixture
def client(pager: Pager) -> FlaskClient:
    return create_app(pager).test_client()


def open_incidents(pager: Pager, count: int, first_at: datetime, **fields: Any) -> list[int]:
    """`count` incidents, three opened at each instant (so the id has to break the ties),
    on two services and in all three states."""
    made = []
    with pager.db.transaction() as session:
        for n in range(count):
            at = first_at + timedelta(seconds=n // 3)
            incident = Incident(
                service=fields.get("service", ("payments", "search")[n % 2]),
                integration="payments-am",
                group_key=f"storm-{first_at.isoformat()}-{n}",
                title=f"disk full #{n}",
                status=fields.get("status", ("triggered", "acknowledged", "resolved")[n % 3]),
                ack_code=f"{n:04d}",
                created_at=at,
                updated_at=at,
            )
            session.add(incident)
            session.flush()
            made.append(incident.id)
    return made


def walk(client: FlaskClient, url: str, key: str, between: Any = None) -> Iterator[dict[str, Any]]:
    """Every page of a list, following `next` (checked against the Link header)."""
    while url:
        response = client.get(url, headers=API)
        assert response.status_code == 200, response.json
        page = response.json
        link = response.headers.get("Link")
        assert link == (f'<{page["next"]}>; rel="next"' if page["next"] else None)
        yield page
        if between is not None:
            between()
        url = page["next"]


def test_it_walks_a_storm_of_incidents_and_sees_each_exactly_once(pager, client) -> None:
    made = open_incidents(pager, STORM, T0)
    pages = list(walk(client, "/api/v1/incidents", "incidents"))
    seen = [incident["id"] for page in pages for incident in page["incidents"]]
    assert sorted(seen) == sorted(made) and len(seen) == STORM
    assert [len(page["incidents"]) for page in pages] == [50] * 7 + [6]  # the default limit
    newest_first = [(i["created_at"], i["id"]) for page in pages for i in page["incidents"]]
    assert newest_first == sorted(newest_first, reverse=True)
    assert pages[-1]["next"] is None


def test_it_keeps_its_pages_while_new_incidents_arrive(pager, client) -> None:
    made = open_incidents(pager, STORM, T0)
    later = iter(range(1, 100))

    def a_new_storm_starts() -> None:  # between every two pages, newer incidents open
        open_incidents(pager, 3, T0 + timedelta(hours=next(later)))

    pages = walk(client, "/api/v1/incidents?limit=100", "incidents", a_new_storm_starts)
    seen = [incident["id"] for page in pages for incident in page["incidents"]]
    assert seen == sorted(made, key=lambda i: ((i - made[0]) // 3, i), reverse=True)


def test_it_filters_by_status_service_and_time_across_pages(pager, client) -> None:
    open_incidents(pager, STORM, T0)
    since, until = "2026-12-08T10:00:10+01:00", "2026-12-08T09:01:00Z"  # [09:00:10, 09:01:00)
    filters = urlencode(
        {"status": "triggered", "service": "payments", "since": since, "until": until}
    )
    url = f"/api/v1/incidents?limit=7&{filters}"
    pages = list(walk(client, url, "incidents"))
    found = [i for page in pages for i in page["incidents"]]
    with pager.db.read() as session:
        expected = {
            i.id
            for i in session.query(Incident).all()
            if i.status == "triggered"
            and i.service == "payments"
            and T0 + timedelta(seconds=10) <= i.created_at < T0 + timedelta(seconds=60)
        }
    assert {i["id"] for i in found} == expected and len(found) == len(expected) > 7
    # A next link carries the filters along, not the token of a ?token= caller.
    query = parse_qs(urlsplit(pages[0]["next"]).query)
    assert query["status"] == ["triggered"] and query["since"] == [since]
    tokened = client.get("/api/v1/incidents?limit=1&token=api-token").json["next"]
    assert "token" not in parse_qs(urlsplit(tokened).query)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("limit=-5", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=WzFd", "cursor"),  # [1]: a cursor of the wrong shape for this list
        ("cursor=WyJ5ZXN0ZXJkYXkiLDFd", "cursor"),  # ["yesterday",1]
        ("since=yesterday", "since"),
        ("until=2026-12-08T09:00:00", "until"),  # no offset
        ("since=2026-12-08T09:00:00+01:00", "since"),  # the + unescaped: a space
        ("status=sleeping", "status"),
        ("service=" + "x" * 201, "service"),
    ],
)
def test_it_refuses_a_bad_paging_or_filter_value_naming_it(client, query, field) -> None:
    response = client.get(f"/api/v1/incidents?{query}", headers=API)
    assert response.status_code == 400
    assert response.json["field"] == field and response.json["message"]


def test_it_takes_the_largest_page_of_500(pager, client) -> None:
    open_incidents(pager, 501, T0)
    first = client.get("/api/v1/incidents?limit=500", headers=API).json
    assert len(first["incidents"]) == 500
    assert len(client.get(first["next"], headers=API).json["incidents"]) == 1


def test_it_pages_silences_people_rotations_and_the_audit_trail_alike(pager, client) -> None:
    soon = datetime.now(UTC)
    for minutes in (30, 10, 20, 10):  # two start at the same instant: the id breaks the tie
        body = {"service": "payments", "duration_minutes": 60}
        body["starts_at"] = (soon + timedelta(minutes=minutes)).isoformat()
        assert client.post("/api/v1/silences", json=body, headers=API).status_code == 201
    with pager.db.transaction() as session:
        for n in range(7):
            session.add(
                AuditEntry(at=T0, actor="ci", way="api", action="test", target=f"#{n}", detail="")
            )
    lists = {  # path: (key, limit, how many pages)
        "/api/v1/silences": ("silences", 1, 4),
        "/api/v1/people": ("people", 2, 2),  # alice, bob, carol
        "/api/v1/rotations": ("rotations", 1, 1),  # one rotation: one page, no next
        "/api/v1/audit": ("entries", 3, 3),
    }
    for path, (key, limit, count) in lists.items():
        whole = client.get(f"{path}?limit=500&action=test", headers=API).json[key]
        pages = list(walk(client, f"{path}?limit={limit}&action=test", key))
        assert [item for page in pages for item in page[key]] == whole, path
        assert len(pages) == count and pages[-1]["next"] is None, path
    rotations = client.get("/api/v1/rotations?limit=1", headers=API).json
    assert rotations["status"] and rotations["services"] == ["payments"]  # whole on each page


def test_it_still_pages_the_audit_trail_by_before(pager, client) -> None:
    with pager.db.transaction() as session:
        for n in range(5):
            session.add(
                AuditEntry(at=T0, actor="ci", way="api", action="t", target=f"{n}", detail="")
            )
    ids = [e["id"] for e in client.get("/api/v1/audit?action=t", headers=API).json["entries"]]
    older = client.get(f"/api/v1/audit?action=t&before={ids[1]}&limit=2", headers=API).json
    assert [e["id"] for e in older["entries"]] == ids[2:4]
    assert "before" not in parse_qs(urlsplit(older["next"]).query)
    assert [e["id"] for e in client.get(older["next"], headers=API).json["entries"]] == ids[4:]

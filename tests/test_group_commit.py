"""Group commit (store.group_commit, used by the webhook intake): webhooks arriving together
share one commit, each is committed before its 2xx, and a failing one takes only itself down.

The first grouped writers of each test hold their commits open (their work waits on a gate)
until the others are all waiting: then they arrive together for certain, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pager.flows.context import Pager
from pager.store.models import Alert, Incident, Runner, TimelineEntry
from pager.web import create_app
from tests.helpers import payload
from tests.test_web import post_alerts

CROWD = 12


def alertmanager_group(key: str) -> dict[str, Any]:
    """A firing Alertmanager payload of one new group (one new incident, one new alert)."""
    body = payload("alertmanager_firing.json")
    first = body["alerts"][0]
    body["groupKey"] = f'{{}}:{{alertname="Crowd",group="{key}"}}'
    body["alerts"] = [dict(first, labels={**first["labels"], "group": key}, fingerprint=key)]
    return body


def count_commits(pager: Pager) -> list[int]:
    """A list that grows by one at every real commit of the store (not savepoint releases)."""
    commits: list[int] = []
    event.listen(pager.db.engine, "commit", lambda _connection: commits.append(1))
    return commits


@contextmanager
def commit_held_open(pager: Pager) -> Iterator[Callable[..., None]]:
    """Grouped commits under way that wait, as many as may be under way at once (one on
    SQLite, several on PostgreSQL); yields `until(n)`, which waits for `n` writers to be
    waiting for the next commit, then lets those under way finish (unless `release=False`)."""
    held = pager.db.group_commit.in_flight
    started, gate = threading.Semaphore(0), threading.Event()

    def hold(_session: Session) -> None:
        started.release()
        gate.wait(30)

    def lead() -> None:
        with suppress(Exception):  # a test that makes commits fail sees it in the others
            pager.db.grouped(hold)

    leaders = [threading.Thread(target=lead) for _ in range(held)]
    for leader in leaders:
        leader.start()
        assert started.acquire(timeout=10), "a first writer never started its commit"

    def until(writers: int, release: bool = True) -> None:
        deadline = time.monotonic() + 20
        while pager.db.group_commit.waiting < writers:
            assert time.monotonic() < deadline, "the writers never all arrived"
            time.sleep(0.01)
        if release:
            gate.set()

    try:
        yield until
    finally:
        gate.set()
        for leader in leaders:
            leader.join(30)


def post_in_threads(app: Flask, keys: list[str]) -> tuple[list[threading.Thread], dict[str, int]]:
    statuses: dict[str, int] = {}

    def post(key: str) -> None:
        statuses[key] = post_alerts(app.test_client(), alertmanager_group(key)).status_code

    threads = [threading.Thread(target=post, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    return threads, statuses


def stored_alerts(pager: Pager) -> set[str]:
    with pager.db.read() as session:
        return set(session.scalars(select(Alert.fingerprint)))


def test_it_stores_every_webhook_of_a_crowd_in_fewer_commits_than_webhooks(pager: Pager) -> None:
    app = create_app(pager)
    keys = [f"crowd-{i}" for i in range(CROWD)]
    commits = count_commits(pager)
    with commit_held_open(pager) as until:
        threads, statuses = post_in_threads(app, keys)
        until(CROWD)
    for thread in threads:
        thread.join(30)
    assert statuses == {key: 200 for key in keys}
    assert stored_alerts(pager) == set(keys)
    # Those held, then every webhook together.
    assert len(commits) == pager.db.group_commit.in_flight + 1
    with pager.db.read() as session:  # each opened its own incident, with its timeline line
        assert session.scalar(select(func.count()).select_from(Incident)) == CROWD
        opened = select(func.count()).where(TimelineEntry.kind == "opened")
        assert session.scalar(opened) == CROWD


def test_it_stores_a_lone_webhook_at_once(pager: Pager) -> None:
    commits = count_commits(pager)
    response = post_alerts(create_app(pager).test_client(), alertmanager_group("alone"))
    assert response.status_code == 200
    assert stored_alerts(pager) == {"alone"}
    assert len(commits) == 1


def bad_statement(session: Session) -> None:
    session.execute(text("SELECT no_such_column FROM incidents"))


def own_bug(_session: Session) -> None:
    raise ValueError("the writer's own bug")


@pytest.mark.parametrize(("failure", "error"), [(bad_statement, DBAPIError), (own_bug, ValueError)])
def test_it_rolls_back_only_the_writer_that_failed(
    pager: Pager, failure: Callable[[Session], None], error: type[Exception]
) -> None:
    app = create_app(pager)
    keys = [f"beside-{i}" for i in range(4)]
    errors: list[BaseException] = []

    def failing(session: Session) -> None:
        session.execute(text("DELETE FROM alerts"))  # undone with the rest of its work
        at = datetime(2026, 1, 1, tzinfo=UTC)
        session.add(Runner(id="ghost", host="here", pid=1, started_at=at, seen_at=at))
        session.flush()
        failure(session)

    def write_failing() -> None:
        try:
            pager.db.grouped(failing)
        except Exception as exc:
            errors.append(exc)

    with commit_held_open(pager) as until:
        threads, statuses = post_in_threads(app, keys[:2])
        until(2, release=False)  # stored before the failing writer runs: its DELETE sees them
        threads.append(threading.Thread(target=write_failing))
        threads[-1].start()
        more, later = post_in_threads(app, keys[2:])
        until(len(keys) + 1)
    for thread in threads + more:
        thread.join(30)
    assert {**statuses, **later} == {key: 200 for key in keys}
    assert stored_alerts(pager) == set(keys)
    assert len(errors) == 1 and isinstance(errors[0], error), errors
    with pager.db.read() as session:
        assert session.get(Runner, "ghost") is None


@pytest.mark.parametrize(("failure", "error"), [(bad_statement, DBAPIError), (own_bug, ValueError)])
def test_it_rolls_back_a_lone_writer_that_failed(
    pager: Pager, failure: Callable[[Session], None], error: type[Exception]
) -> None:
    commits = count_commits(pager)

    def failing(session: Session) -> None:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        session.add(Runner(id="ghost", host="here", pid=1, started_at=at, seen_at=at))
        session.flush()
        failure(session)

    with pytest.raises(error):
        pager.db.grouped(failing)
    assert commits == []
    with pager.db.read() as session:
        assert session.get(Runner, "ghost") is None
    # The connection went back clean: the next writer is stored.
    response = post_alerts(create_app(pager).test_client(), alertmanager_group("next"))
    assert response.status_code == 200
    assert stored_alerts(pager) == {"next"}


def test_it_answers_no_2xx_when_the_shared_commit_fails(pager: Pager) -> None:
    app = create_app(pager)
    keys = [f"lost-{i}" for i in range(3)]

    def crash(_connection: Any) -> None:
        raise RuntimeError("the process died before its commit")

    with commit_held_open(pager) as until:
        threads, statuses = post_in_threads(app, keys)
        event.listen(pager.db.engine, "commit", crash)
        until(len(keys))
    try:
        for thread in threads:
            thread.join(30)
    finally:
        event.remove(pager.db.engine, "commit", crash)
    assert all(status >= 500 for status in statuses.values()), statuses
    assert stored_alerts(pager) == set()
    # The store recovers: the next webhook is stored.
    assert post_alerts(app.test_client(), alertmanager_group("after")).status_code == 200
    assert stored_alerts(pager) == {"after"}

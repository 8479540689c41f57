"""The store's transactions: read ones never wait for SQLite's writer and keep nothing, and
`durable` picks the fsync level."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from pager.store.db import Database, MigrationFailed
from pager.store.models import Runner

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


def runner(name: str) -> Runner:
    return Runner(id=name, host="h", pid=1, started_at=T0, seen_at=T0)


def count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Runner)) or 0


def test_a_read_sees_the_last_commit_and_keeps_nothing_written_in_it(db: Database) -> None:
    with db.transaction() as session:
        session.add(runner("kept"))
    with db.read() as session:
        session.add(runner("dropped"))
        session.flush()
        assert session.scalar(select(func.count()).select_from(Runner)) == 2
    assert count(db) == 1


def test_a_read_does_not_wait_for_a_writer_in_another_thread(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    db.upgrade()
    writing, done = threading.Event(), threading.Event()

    def write() -> None:
        with db.transaction() as session:
            session.add(runner("slow"))
            session.flush()
            writing.set()
            done.wait(10)

    writer = threading.Thread(target=write)
    writer.start()
    assert writing.wait(10)
    try:
        assert count(db) == 0  # the writer holds the lock; the reader sees the last commit
    finally:
        done.set()
        writer.join(10)
    assert count(db) == 1
    db.dispose()


@pytest.mark.parametrize(("durable", "level"), [(True, 2), (False, 1)])
def test_durable_picks_fsync_at_every_commit_or_at_checkpoints(
    sqlite_url: str, durable: bool, level: int
) -> None:
    db = Database(sqlite_url, durable=durable)
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA synchronous")).scalar() == level  # 2 FULL, 1 NORMAL
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    db.dispose()


def test_a_commit_by_another_process_wakes_the_sqlite_listener(sqlite_url: str) -> None:
    from pager.store.wakeups import Listener

    db, other = Database(sqlite_url), Database(sqlite_url)
    db.upgrade()
    woken = threading.Event()
    listener = Listener(db, woken.set)
    listener.start()
    try:
        assert woken.wait(10)  # its first look: whatever was committed before it started
        woken.clear()
        with other.transaction() as session:  # reads nothing new: no wake-up
            session.scalar(select(func.count()).select_from(Runner))
        assert not woken.wait(0.2)
        with other.transaction() as session:
            session.add(runner("elsewhere"))
        assert woken.wait(10)
    finally:
        listener.stop()
        db.dispose()
        other.dispose()


def test_it_migrates_in_a_child_without_loading_alembic_here(database_url: str) -> None:
    script = (
        "import sys\n"
        "from pager.store.db import Database\n"
        "Database(sys.argv[1]).upgrade_apart()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script, database_url], capture_output=True, text=True, timeout=120
    )
    assert (ran.returncode, ran.stdout) == (0, "[]\n"), ran.stderr
    db = Database(database_url)
    try:
        assert db.current() == Database.head()
    finally:
        db.dispose()


def test_it_says_a_migration_in_the_child_failed_and_why(
    database_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    db = Database(database_url)
    db.upgrade()
    with db.transaction() as session:
        session.execute(text("UPDATE alembic_version SET version_num = 'from-a-newer-pager'"))
    try:
        with pytest.raises(MigrationFailed, match=r"migrating the database failed \(exit code 1\)"):
            db.upgrade_apart()
        assert "Can't locate revision identified by 'from-a-newer-pager'" in capfd.readouterr().err
        assert count(db) == 0  # the parent's own connections still work after the child's exit
    finally:
        db.dispose()

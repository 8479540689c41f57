"""Engine, transactions and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from importlib import import_module
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from pager import metrics
from pager.store.group_commit import GroupCommit

T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_ID = 7_401_202_611  # any constant; serialises migrations across instances


# Grouped transactions under way at once on PostgreSQL (see store.group_commit): below the
# pool's 10 connections, so that the other flows of the process still find one.
POSTGRES_COMMITS_IN_FLIGHT = 6

_READ = "pager_read"  # execution option: a transaction that only reads

# How long readiness remembers that the store refused a write (disk full, read-only after a
# failover, I/O error): a load balancer keeps the instance out for that long after the last one.
REFUSAL_MEMORY = 30.0  # seconds
# Below this much free space where the SQLite file lives, webhooks are about to get 503s.
MIN_FREE_BYTES = 16 * 1024 * 1024
# SQLite's and PostgreSQL's names for "this store cannot keep what it is given" (not a bad
# statement, a lost connection or a lock wait): class 53 is insufficient resources, 25006 a
# read-only transaction (a standby after failover), 58030 an I/O error.
_SQLITE_REFUSALS = ("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN")
_POSTGRES_REFUSALS = ("53", "25006", "58030")


def insert_on_conflict(session: Session, model: type[Any]) -> Any:
    """An INSERT into `model`'s table in the SQL of the session's database, with its
    `on_conflict_do_update` / `on_conflict_do_nothing`. Only that database's dialect is
    imported: PostgreSQL's costs a SQLite daemon 2 MB for nothing."""
    dialect = import_module(f"sqlalchemy.dialects.{session.get_bind().dialect.name}")
    return dialect.insert(model)


class MigrationFailed(Exception):
    """The migration run in a child process (`Database.upgrade_apart`) did not finish."""


def refusal_reason(error: BaseException) -> str | None:
    """Why the database refused to store anything, from a driver's error; None for any other."""
    name = getattr(error, "sqlite_errorname", None) or ""
    state = getattr(error, "sqlstate", None) or ""
    refused = (name.startswith(_SQLITE_REFUSALS)) or (
        bool(state) and state.startswith(_POSTGRES_REFUSALS)
    )
    return (str(error).splitlines() or [type(error).__name__])[0][:200] if refused else None


def _sqlite_engine(url: str, durable: bool) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=10,
        max_overflow=10,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below); the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a transaction that committed survives power loss, not only a process crash;
        # we answer 2xx only after commit, so that promise needs FULL. NORMAL (WAL) survives a
        # crash of the process but may lose the last commits to a power cut: fine for a worker,
        # whose every write the outbox turns into a step run again or a page sent again.
        cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: a deferred transaction that later upgrades to a writer
        # fails with SQLITE_BUSY instead of waiting. A read-only one (`Database.read`) takes
        # no lock: WAL readers never wait for the writer.
        conn.exec_driver_sql(
            "BEGIN" if conn.get_execution_options().get(_READ) else "BEGIN IMMEDIATE"
        )

    return engine


class Database:
    """One engine and its sessions. `transaction()` (and `read()` for queries that change
    nothing) is the only way flows touch the store.

    `durable=False` relaxes SQLite's fsync to what a crash (not a power cut) needs: for
    processes that never answer a 2xx for what they write (`pager worker`).
    """

    def __init__(self, url: str, *, durable: bool = True) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine = _sqlite_engine(url, durable)
            # SQLite has one writer at a time: threads of this process queue here, in turn,
            # rather than in SQLite's busy handler, which sleeps in growing steps.
            self._writer: threading.RLock | None = threading.RLock()
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
            self._writer = None
        self._refused: tuple[float, str] | None = None  # (monotonic time, why) of the last
        event.listen(self.engine, "handle_error", self._note_refusal)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(**{_READ: True}), expire_on_commit=False
        )
        self.group_commit = GroupCommit(
            self._shared_transaction,
            lambda connection, alone: self._sessions(
                bind=connection,
                join_transaction_mode="rollback_only" if alone else "create_savepoint",
            ),
            metrics.WRITERS_PER_COMMIT.observe,
            in_flight=1 if self._writer is not None else POSTGRES_COMMITS_IN_FLIGHT,
        )

    def before_commit(self, hook: Callable[[Session], None]) -> None:
        """Run `hook` in each transaction just before it commits (what it adds commits too)."""
        event.listen(self._sessions, "before_commit", hook)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._writer or nullcontext(), self._sessions() as session, session.begin():
            yield session

    def grouped(self, work: Callable[[Session], T]) -> T:
        """`work(session)`, committed together with the other threads' grouped work waiting at
        the same moment (one transaction and one commit for all: see store.group_commit).

        Each work runs in a savepoint: its exception rolls back its own writes only, and is
        raised here. Returns once the commit holding it is done; what comes after the call is
        after the commit (wake the runner there). Not inside another transaction.
        """
        return self.group_commit.run(work)

    @contextmanager
    def _shared_transaction(self) -> Iterator[Connection]:
        writer = self._writer or nullcontext()
        with writer, self.engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries only: on SQLite it neither takes nor waits for the write lock
        (it sees the last commit). It is rolled back at the end: nothing written in it stays."""
        with self._readers() as session:
            session.begin()
            try:
                yield session
            finally:
                session.rollback()

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to the newest migration (or `revision`); safe when several
        instances start at once."""
        self._migrate("upgrade", revision)

    def upgrade_apart(self) -> None:
        """`upgrade()` in a forked child process, so that Alembic (and Mako, which it imports)
        never take memory in this long-running process: about 10 MB a daemon would keep for
        nothing. Call it before any thread starts. Raises `MigrationFailed` when the child
        failed; it wrote its error to stderr."""
        if not hasattr(os, "fork") or self._in_memory():
            self.upgrade()  # an in-memory schema exists only in this process
            return
        sys.stdout.flush()
        sys.stderr.flush()
        child = os.fork()
        if child == 0:
            os._exit(self._upgrade_in_child())
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise MigrationFailed(f"migrating the database failed (exit code {code}), see above")

    def _upgrade_in_child(self) -> int:
        """The forked child's part of `upgrade_apart`: its exit code."""
        try:
            self.engine.dispose(close=False)  # the parent's connections stay the parent's
            self.upgrade()
            return 0
        except BaseException:  # noqa: BLE001 - whatever it is, the parent must hear of it
            traceback.print_exc()
            return 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()

    def _in_memory(self) -> bool:
        url = self.engine.url
        return self.dialect == "sqlite" and (
            url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
        )

    def downgrade(self, revision: str) -> None:
        """Take the schema back to `revision` (an id like 0016, or -1 for one step back)."""
        self._migrate("downgrade", revision)

    def current(self) -> str | None:
        """The migration the schema is at; None for a database without pager's tables."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @staticmethod
    def head() -> str:
        """The newest migration this version of pager knows."""
        from alembic.script import ScriptDirectory

        found = ScriptDirectory(str(MIGRATIONS)).get_current_head()
        assert found is not None
        return found

    def _migrate(self, action: str, revision: str) -> None:
        from alembic import command  # only here: it costs every process memory and start time
        from alembic.config import Config

        with self.engine.connect() as connection:
            if self.dialect == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
                connection.commit()
            try:
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS))
                config.attributes["connection"] = connection
                getattr(command, action)(config, revision)
                connection.commit()
            finally:
                if self.dialect == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID}
                    )
                    connection.commit()

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def _note_refusal(self, context: Any) -> None:
        reason = refusal_reason(context.original_exception)
        if reason is not None:
            self._refused = (time.monotonic(), reason)

    def storage_problem(self) -> str | None:
        """Why this store cannot take writes now (recently refused one, or the disk under the
        SQLite file is all but full); None when nothing says so."""
        if self._refused is not None:
            at, reason = self._refused
            ago = time.monotonic() - at
            if ago <= REFUSAL_MEMORY:
                return f"refused a write {ago:.0f} s ago: {reason}"
        database = self.engine.url.database if self.dialect == "sqlite" else None
        if database and database != ":memory:":
            free = shutil.disk_usage(Path(database).resolve().parent).free
            if free < MIN_FREE_BYTES:
                return f"the disk holding the database has {free // 1024} KiB free"
        return None

    def dispose(self) -> None:
        self.engine.dispose()

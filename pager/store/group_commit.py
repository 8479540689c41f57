"""Group commit: the writers of one process that arrive together share one transaction.

A webhook's own work is a few statements; what costs is its commit (on SQLite with
`synchronous=FULL`, an fsync; on PostgreSQL, a WAL flush and a round trip). The first writer
to arrive becomes the leader: it takes every writer waiting at that moment, runs each one's
work in a SAVEPOINT of its own (a writer that fails rolls back only its own work and gets its
own exception), commits once, then releases them all. Writers that arrive meanwhile wait for
the next commit, led by the first of them. `in_flight` commits may be under way at once: one
on SQLite (one writer at a time anyway); several on PostgreSQL, which runs transactions side
by side and flushes concurrent commits' WAL together itself: there a writer waits to share a
commit only when that many are already under way. Nobody returns before the commit that holds its
work: what a writer answers after `run` returns is durable (DESIGN invariant 2).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(eq=False)
class _Writer:
    work: Callable[[Session], Any]
    done: threading.Event = field(default_factory=threading.Event)
    batch: list[_Writer] | None = None  # set when woken to lead this batch's commit
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """Runs writers' work in shared transactions, one commit for those waiting together.

    `transaction` opens a connection in a transaction that commits when the block ends (and
    rolls back when it raises); `session_on(connection, alone)` makes a session on that
    connection whose own transaction is a SAVEPOINT, or, `alone`, the connection's transaction
    itself, rolled back (never committed) by the session; `committed` hears how many writers
    each commit held.
    """

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Connection]],
        session_on: Callable[[Connection, bool], Session],
        committed: Callable[[int], None] = lambda writers: None,
        in_flight: int = 1,
    ) -> None:
        self._transaction = transaction
        self._session_on = session_on
        self._committed = committed
        self.in_flight = in_flight  # commits under way at once; a writer beyond them waits
        self._lock = threading.Lock()
        self._waiting: list[_Writer] = []
        self._leaders = 0  # commits under way

    @property
    def waiting(self) -> int:
        """Writers waiting for the next commit (not those of the commits under way)."""
        with self._lock:
            return len(self._waiting)

    def run(self, work: Callable[[Session], T]) -> T:
        """`work(session)`'s result once it is committed; its exception if it raised, or the
        commit's if the commit failed (then nothing of it is stored).

        Never call it inside another transaction of the same database: on SQLite the leader
        would wait for the write lock that transaction holds.
        """
        me = _Writer(work)
        with self._lock:
            self._waiting.append(me)
            batch = self._take() if self._leaders < self.in_flight else None
        if batch is None:
            me.done.wait()
            batch = me.batch  # woken to lead the next commit, or because it is done
        if batch is not None:
            self._lead(batch)
        if me.error is not None:
            raise me.error
        result: T = me.result
        return result

    def _take(self) -> list[_Writer]:
        """Every writer waiting, for one more commit under way (with the lock held)."""
        self._leaders += 1
        batch, self._waiting = self._waiting, []
        return batch

    def _lead(self, batch: list[_Writer]) -> None:
        try:
            self._commit(batch)
        finally:
            with self._lock:
                self._leaders -= 1
                if self._waiting:  # arrived during this commit: the first of them leads next
                    following = self._take()
                    following[0].batch = following
                    following[0].done.set()
            for writer in batch:
                writer.done.set()

    def _commit(self, batch: list[_Writer]) -> None:
        try:
            with self._transaction() as connection:
                for writer in batch:
                    # Alone, a writer needs no savepoint: its error rolls back only its work.
                    self._run(self._session_on(connection, len(batch) == 1), writer)
        except BaseException as exc:  # the commit failed (or never came): nobody is stored
            for writer in batch:
                if writer.error is None:
                    writer.result, writer.error = None, exc
            return
        if any(writer.error is None for writer in batch):
            self._committed(len(batch))

    @staticmethod
    def _run(session: Session, writer: _Writer) -> None:
        try:
            with session.begin():  # SAVEPOINT; RELEASE on success, ROLLBACK TO on error
                writer.result = writer.work(session)
        except Exception as exc:
            writer.result, writer.error = None, exc
        finally:
            session.close()

"""Wake runners in other processes when there is new work.

PostgreSQL: `pager web` commits an alert and notifies; `pager worker` LISTENs and runs at once
instead of waiting for its next look at the database. SQLite has nothing to listen to, but
`PRAGMA data_version` changes whenever another connection commits, and asking costs no disk
read: the worker asks every few milliseconds and wakes when it changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import text

from pager.store.db import Database

CHANNEL = "pager_wake"
SQLITE_LOOK = 0.02  # seconds between looks at SQLite's data_version
log = logging.getLogger(__name__)


def notify(db: Database) -> None:
    if db.dialect != "postgresql":
        return
    with db.engine.connect() as connection:
        connection.execute(text(f"NOTIFY {CHANNEL}"))
        connection.commit()


class Listener:
    """Calls `wake` whenever another process notifies (PostgreSQL) or another connection
    commits (SQLite); reconnects after errors."""

    def __init__(self, db: Database, wake: Callable[[], None]) -> None:
        self.db = db
        self.wake = wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pager-listen", daemon=True)

    def start(self) -> None:
        if self.db.dialect in ("postgresql", "sqlite"):
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen() if self.db.dialect == "postgresql" else self._watch()
            except Exception:  # a database restart must not end the listening for good
                log.exception("event=listen_error")
                self._stop.wait(1.0)

    def _listen(self) -> None:
        raw = self.db.engine.raw_connection()
        try:
            connection = raw.driver_connection
            assert connection is not None
            connection.autocommit = True
            connection.execute(f"LISTEN {CHANNEL}")
            self.wake()  # anything notified while we were not listening
            while not self._stop.is_set():
                for _ in connection.notifies(timeout=1.0, stop_after=1):
                    self.wake()
        finally:
            raw.invalidate()

    def _watch(self) -> None:
        raw = self.db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            seen = None
            while not self._stop.is_set():
                version = cursor.execute("PRAGMA data_version").fetchone()[0]
                if version != seen:
                    seen = version
                    self.wake()  # the first look wakes too: anything committed before it
                self._stop.wait(SQLITE_LOOK)
        finally:
            raw.invalidate()

"""Work on many rows in one transaction, falling back to one transaction each.

A runner's batch (escalation steps due, pages to start, answers to record) is written in one
transaction: one commit, one fsync, however many rows. If any row's work raises, or the commit
fails, the batch is rolled back whole and each row is done again in a transaction of its own,
so one bad row costs its batch a second try and never the other rows their writes. No
savepoints: they would cost two statements and a flush a row in the common case."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.orm import Session

from pager.flows.context import Pager

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


def each_in_one_transaction(
    pager: Pager,
    items: Sequence[Item],
    work: Callable[[Session, Item], Result],
    what: str,
    prepare: Callable[[Session, Sequence[Item]], None] | None = None,
) -> list[Result | None]:
    """`work(session, item)` for every item, in one transaction; the results in order. On a
    failure, each item alone: one that fails alone is logged and gives None, never raised, so
    that one bad row (a broken snapshot, a bug) cannot stop a runner's pass and the pages
    behind it. `prepare(session, items)` first, in each transaction, with the items it holds
    (to read them in one query, say)."""
    if len(items) > 1:
        try:
            with pager.db.transaction() as session:
                if prepare is not None:
                    prepare(session, items)
                return [work(session, item) for item in items]
        except Exception:
            log.exception("event=batch_error what=%s items=%d", what, len(items))
    results: list[Result | None] = []
    for item in items:
        try:
            with pager.db.transaction() as session:
                if prepare is not None:
                    prepare(session, [item])
                results.append(work(session, item))
        except Exception:
            log.exception("event=batch_item_error what=%s item=%r", what, item)
            results.append(None)
    return results

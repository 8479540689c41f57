"""The moves the code makes, against the tables of `pager.domain.states`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

import pytest

from pager.domain.states import AttemptState, ForbiddenMove, PageState, allows
from pager.flows.failover import later_status
from pager.providers.base import DeliveryState
from pager.store import outbox
from pager.store.models import Notification

NOW = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)


def test_it_allows_every_change_of_an_attempt_that_status_updates_make() -> None:
    made = {
        (current, later_status(current, new))
        for current in AttemptState
        for new in get_args(DeliveryState)
        if later_status(current, new) != current
    }
    assert made  # later_status moves something, or this checks nothing
    assert [(old, new) for old, new in made if not allows(old, AttemptState(new))] == []


def test_it_knows_every_delivery_state_as_a_page_and_an_attempt_state() -> None:
    assert set(get_args(DeliveryState)) <= set(AttemptState)
    assert set(get_args(DeliveryState)) - {"queued"} <= set(PageState)


def _page(status: str) -> Notification:
    return Notification(status=status, next_attempt_at=None, lease_until=NOW, lease_owner="r1")


def test_it_requeues_a_page_that_was_being_sent() -> None:
    n = _page("sending")
    outbox.requeue(n, NOW, NOW)
    assert (n.status, n.next_attempt_at, n.lease_owner) == ("pending", NOW, None)


def test_it_refuses_to_requeue_a_delivered_page() -> None:
    n = _page("delivered")
    with pytest.raises(ForbiddenMove, match="no move from 'delivered' to 'pending'"):
        outbox.requeue(n, NOW, NOW)
    assert n.status == "delivered"

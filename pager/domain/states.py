"""The states of an incident, of a page (a notification, the outbox row) and of one attempt
through a provider, and the moves between them: one table per kind.

Each value is the string stored in the `status` column today. A `StrEnum` member equals its
string and the database keeps it as that string, so rows read back as plain strings compare
equal to the members.

The tables say what the code does, read from every place that assigns a status (and the tests
scan the code for it). Staying in a state is not a move: `check` lets it pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar


class IncidentState(StrEnum):
    """`incidents.status`."""

    TRIGGERED = "triggered"  # paging: the escalation runs
    ACKNOWLEDGED = "acknowledged"  # someone has it (an ack timeout may trigger it again)
    RESOLVED = "resolved"  # over; a flapping alert may reopen it (flows.intake)


class PageState(StrEnum):
    """`notifications.status`: one page (or notice, code, canary SMS) to one number."""

    PENDING = "pending"  # waiting for `next_attempt_at`
    SENDING = "sending"  # claimed by a runner (leased), a provider being called
    SENT = "sent"  # a provider took it
    DELIVERED = "delivered"  # the SMS reached the handset
    ANSWERED = "answered"  # the call was picked up
    NO_ANSWER = "no_answer"  # the call rang out or was busy
    FAILED = "failed"  # every provider and round failed (or a Verify code went by call instead)
    CANCELLED = "cancelled"  # no longer wanted: acknowledged, resolved, spent code, late canary
    SKIPPED = "skipped"  # the number replied STOP
    DIGESTED = "digested"  # held by a limit, then carried by another page's digest (digest_of)


class AttemptState(StrEnum):
    """`attempts.status`: one try of one page through one provider."""

    SENDING = "sending"  # recorded before the provider is called
    QUEUED = "queued"  # the provider accepted it
    SENT = "sent"  # handed to the carrier
    DELIVERED = "delivered"
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    UNKNOWN = "unknown"  # no answer to the send in time: ask the provider before sending again


INCIDENT_MOVES: dict[IncidentState, frozenset[IncidentState]] = {
    IncidentState.TRIGGERED: frozenset({IncidentState.ACKNOWLEDGED, IncidentState.RESOLVED}),
    # un-acknowledged (by hand, or its ack timeout ran out), or resolved
    IncidentState.ACKNOWLEDGED: frozenset({IncidentState.TRIGGERED, IncidentState.RESOLVED}),
    IncidentState.RESOLVED: frozenset({IncidentState.TRIGGERED}),  # reopened while flapping
}

# A provider's word on a try already under way when the page moved on (a delivery status
# after the send timed out and the page was cancelled, skipped, digested or given up): it is
# recorded on the page as it comes (flows.feedback).
_LATE_RECEIPT = frozenset({PageState.DELIVERED, PageState.ANSWERED, PageState.NO_ANSWER})
_ANSWERED = _LATE_RECEIPT | {PageState.SENT}

PAGE_MOVES: dict[PageState, frozenset[PageState]] = {
    # claimed; cancelled or digested while waiting; the answer to a send that timed out (sent,
    # delivered, or failed over: given up, or a Verify code's call instead)
    PageState.PENDING: frozenset(
        {PageState.SENDING, PageState.CANCELLED, PageState.DIGESTED, PageState.FAILED}
    )
    | _ANSWERED,
    # the provider's answer; held (limit, rate) or failed over back to pending; given up; not
    # wanted any more; the number opted out
    PageState.SENDING: frozenset(
        {PageState.PENDING, PageState.FAILED, PageState.CANCELLED, PageState.SKIPPED}
    )
    | _ANSWERED,
    # its delivery status; or it failed after all: the next provider (pending) or given up
    PageState.SENT: frozenset({PageState.PENDING, PageState.FAILED}) | _LATE_RECEIPT,
    PageState.DELIVERED: frozenset(),
    PageState.ANSWERED: frozenset(),
    PageState.NO_ANSWER: frozenset(),
    PageState.FAILED: _LATE_RECEIPT,
    PageState.CANCELLED: _LATE_RECEIPT,
    PageState.SKIPPED: _LATE_RECEIPT,
    PageState.DIGESTED: _LATE_RECEIPT,
}

# A status callback no longer changes an attempt in one of these (flows.feedback).
ATTEMPT_FINAL = frozenset(
    {AttemptState.DELIVERED, AttemptState.ANSWERED, AttemptState.NO_ANSWER, AttemptState.FAILED}
)

ATTEMPT_MOVES: dict[AttemptState, frozenset[AttemptState]] = {
    AttemptState.SENDING: frozenset(
        {AttemptState.QUEUED, AttemptState.SENT, AttemptState.UNKNOWN} | ATTEMPT_FINAL
    ),
    # the provider found it (or had no record of it: failed), or its status came
    AttemptState.UNKNOWN: frozenset({AttemptState.QUEUED, AttemptState.SENT} | ATTEMPT_FINAL),
    AttemptState.QUEUED: frozenset({AttemptState.SENT} | ATTEMPT_FINAL),
    AttemptState.SENT: ATTEMPT_FINAL,
    # One final word may replace another: the send's own answer (or its failure) recorded
    # after a fast status callback (flows.failover.later_status keeps the later of equals).
    AttemptState.DELIVERED: ATTEMPT_FINAL - {AttemptState.DELIVERED},
    AttemptState.ANSWERED: ATTEMPT_FINAL - {AttemptState.ANSWERED},
    AttemptState.NO_ANSWER: ATTEMPT_FINAL - {AttemptState.NO_ANSWER},
    AttemptState.FAILED: ATTEMPT_FINAL - {AttemptState.FAILED},
}

INITIAL: dict[type[StrEnum], StrEnum] = {
    IncidentState: IncidentState.TRIGGERED,
    PageState: PageState.PENDING,
    AttemptState: AttemptState.SENDING,
}

_MOVES: dict[type[StrEnum], Mapping[Any, frozenset[Any]]] = {
    IncidentState: INCIDENT_MOVES,
    PageState: PAGE_MOVES,
    AttemptState: ATTEMPT_MOVES,
}

State = TypeVar("State", IncidentState, PageState, AttemptState)


class ForbiddenMove(ValueError):
    """A status change the tables do not allow (or from a status that is no state at all)."""

    def __init__(self, kind: type[StrEnum], old: str, new: str) -> None:
        super().__init__(f"{kind.__name__}: no move from {str(old)!r} to {str(new)!r}")
        self.kind, self.old, self.new = kind, old, new


def allows(old: str, new: State) -> bool:
    """Whether a `type(new)` may go from `old` (a stored string or a member) to `new`."""
    kind = type(new)
    try:
        current = kind(old)
    except ValueError:
        return False
    return current == new or new in _MOVES[kind][current]


def check(old: str, new: State) -> State:
    """`new`, when `old` may move to it; raises `ForbiddenMove` otherwise."""
    if not allows(old, new):
        raise ForbiddenMove(type(new), old, new)
    return new


def terminal(kind: type[StrEnum]) -> frozenset[StrEnum]:
    """The states of `kind` nothing moves out of."""
    return frozenset(state for state, moves in _MOVES[kind].items() if not moves)

"""The sandbox provider's pretend phones (`GET /sandbox`): every message to and from them, by
number, beside everyone in the rotations, and which of its calls still take keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pager.flows.context import Pager
from pager.flows.feedback import calls_taking_keys
from pager.providers.sandbox import SandboxProvider
from pager.store import sandbox as sandbox_store
from pager.store.models import SandboxMessage


@dataclass(frozen=True)
class Phones:
    by_number: list[tuple[str, list[SandboxMessage]]]  # by number; everyone's, even silent
    people: dict[str, str]  # number -> name, for everyone in the rotations
    live_calls: set[str]  # the calls a keypad press still answers


def recent_messages(pager: Pager) -> Sequence[SandboxMessage]:
    """The latest messages to and from the pretend phones, oldest first."""
    with pager.db.transaction() as session:
        return sandbox_store.recent(session)


def phones(pager: Pager, provider: SandboxProvider) -> Phones:
    """Each pretend phone with its messages: every number in the rotations, and any other
    that `provider` sent to or heard from."""
    messages = recent_messages(pager)
    schedule = pager.rotations.schedule
    people = {p.phone: p.name for p in schedule.people.values()} if schedule else {}
    by_number: dict[str, list[SandboxMessage]] = {number: [] for number in people}
    for message in messages:
        by_number.setdefault(message.number, []).append(message)
    calls = [
        m.provider_message_id for m in messages if m.channel == "voice" and m.direction == "out"
    ]
    live = calls_taking_keys(pager, provider.name, calls)
    return Phones(sorted(by_number.items()), people, live)

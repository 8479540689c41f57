"""Access: what a signed-in person manages for themselves (their sessions and personal API
tokens), and what an admin (`admins:` in the rotation files) may do for anyone: end their
sessions, revoke their tokens. Each change is in the audit trail."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pager.domain.codes import token_digest
from pager.flows.context import Pager
from pager.store import audit, personal_tokens, web_sessions
from pager.store.people_models import PersonalToken

TOKEN_PREFIX = "pgr_"  # noqa: S105  (recognisable when leaked: secret scanners, logs)
USED_EVERY = timedelta(minutes=1)  # how often a token's last_used_at is written
WAY = "dashboard"


class NotAllowed(Exception):
    """The signed-in person may not do that (it is someone else's, and they are no admin)."""


@dataclass(frozen=True)
class SessionView:
    id: int
    person: str
    created_at: datetime
    last_seen_at: datetime
    remote_addr: str | None
    user_agent: str | None


@dataclass(frozen=True)
class TokenView:
    id: int
    person: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


def is_admin(pager: Pager, person: str) -> bool:
    schedule = pager.rotations.schedule
    return schedule is not None and person in schedule.admins


def _may_manage(pager: Pager, actor: str, owner: str) -> None:
    if actor != owner and not is_admin(pager, actor):
        raise NotAllowed(f"only {owner} or an admin may do that")


def open_sessions(pager: Pager, person: str) -> list[SessionView]:
    with pager.db.read() as session:
        return [
            SessionView(s.id, s.person, s.created_at, s.last_seen_at, s.remote_addr, s.user_agent)
            for s in web_sessions.open_of(session, person)
        ]


def end_sessions(
    pager: Pager, actor: str, owner: str, now: datetime, session_id: int | None = None
) -> int:
    """End `owner`'s session `session_id`, or all of them; returns how many ended."""
    _may_manage(pager, actor, owner)
    with pager.db.transaction() as session:
        ending = [s for s in web_sessions.open_of(session, owner) if session_id in (None, s.id)]
        for each in ending:
            web_sessions.end(each, actor, now)
        if ending:
            what = f"session {session_id}" if session_id else "every session"
            audit.record(
                session, now, actor, WAY, "sessions_ended", owner, f"{what} ({len(ending)})"
            )
    return len(ending)


def create_token(pager: Pager, person: str, name: str, now: datetime) -> str:
    """A new personal API token for `person`; the only time its text is ever seen."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with pager.db.transaction() as session:
        made = personal_tokens.add(
            session,
            PersonalToken(
                person=person, name=name[:100], digest=token_digest(token), created_at=now
            ),
        )
        audit.record(session, now, person, WAY, "token_created", person, f"token {made.id}: {name}")
    return token


def tokens_of(pager: Pager, person: str) -> list[TokenView]:
    with pager.db.read() as session:
        return [
            TokenView(t.id, t.person, t.name, t.created_at, t.last_used_at)
            for t in personal_tokens.of(session, person)
        ]


def revoke_token(pager: Pager, actor: str, token_id: int, now: datetime) -> bool:
    """Revoke a personal token (its person's, or any for an admin); False if there is none."""
    with pager.db.transaction() as session:
        found = personal_tokens.get(session, token_id)
        if found is None or found.revoked_at is not None:
            return False
        _may_manage(pager, actor, found.person)
        found.revoked_at, found.revoked_by = now, actor
        audit.record(
            session,
            now,
            actor,
            WAY,
            "token_revoked",
            found.person,
            f"token {found.id}: {found.name}",
        )
    return True


def person_of_token(pager: Pager, token: str, now: datetime) -> str | None:
    """The person whose live personal token `token` is (found by its hash); None otherwise,
    or when that person has left the rotations."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    schedule = pager.rotations.schedule
    with pager.db.transaction() as session:
        found = personal_tokens.by_digest(session, token_digest(token))
        if found is None or found.revoked_at is not None:
            return None
        if schedule is None or found.person not in schedule.people:
            return None
        if found.last_used_at is None or now - found.last_used_at >= USED_EVERY:
            found.last_used_at = now
        return found.person

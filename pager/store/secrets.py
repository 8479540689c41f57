"""Tokens the daemon generates for itself (quick start), kept so a restart keeps them."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pager.store.models import GeneratedSecret


def generated(session: Session, name: str) -> str:
    """The token called `name`, made on first use."""
    found = session.get(GeneratedSecret, name)
    if found is not None:
        return found.value
    value = secrets.token_urlsafe(24)
    try:
        with session.begin_nested():
            session.add(GeneratedSecret(name=name, value=value))
    except IntegrityError:  # another instance made it first
        found = session.get(GeneratedSecret, name)
        assert found is not None
        return found.value
    return value

"""The last rotation set that validated, so a broken file never leaves us with none."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pager.store.models import RotationSet


def latest(session: Session) -> RotationSet | None:
    return session.scalars(select(RotationSet).order_by(RotationSet.id.desc()).limit(1)).first()


def save(session: Session, digest: str, files: list[tuple[str, str]], now: datetime) -> bool:
    """Keep `files` as the last good set; False when it is the one kept already."""
    current = latest(session)
    if current is not None and current.digest == digest:
        return False
    session.add(
        RotationSet(loaded_at=now, digest=digest, files={"files": [list(f) for f in files]})
    )
    return True


def files_of(found: RotationSet) -> list[tuple[str, str]]:
    return [(name, text) for name, text in found.files["files"]]

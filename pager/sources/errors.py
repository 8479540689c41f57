from __future__ import annotations


class SourceError(Exception):
    """A payload we cannot read; `field` names the part that is wrong (JSON path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

from __future__ import annotations


class SourceError(Exception):
    """A payload we cannot read; `field` names the part that is wrong (JSON path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class NotAuthenticated(Exception):
    """The request does not prove it comes from the integration's tool; the message says why."""


class Ignored(Exception):
    """A genuine delivery that asks nothing of us (a ping, an event or a branch we don't watch).

    The sender gets a 2xx with the reason, so it does not retry.
    """

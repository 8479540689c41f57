"""A request id on every request: the caller's `X-Request-Id` when it is sane, else a new one;
echoed in the answer and carried by each log line written while the request runs."""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

from flask import Flask, Response, request

HEADER = "X-Request-Id"
# What a proxy or a client sends (a UUID, a trace id...): short, and nothing a log line or a
# header could be broken by.
SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current() -> str | None:
    """The id of the request this thread serves now; None outside a request."""
    return _current.get()


def _begin() -> None:
    given = request.headers.get(HEADER, "")
    _current.set(given if SANE.fullmatch(given) else secrets.token_hex(16))


def _echo(response: Response) -> Response:
    given = current()
    if given is not None:
        response.headers[HEADER] = given
    return response


def _end(_exc: BaseException | None) -> None:
    _current.set(None)


def init_app(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_echo)
    app.teardown_request(_end)

"""Every error answers JSON that names the problem; nothing malformed becomes a 500."""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from pager.flows.context import Pager

log = logging.getLogger(__name__)

# The URL converter of row ids: the id columns are int4 on PostgreSQL, so a larger id names no
# row. Routing answers it 404, before the driver could fail on it (OverflowError, DataError).
ROW_ID = f"int(max={2**31 - 1})"


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.field = field


def pager() -> Pager:
    found: Pager = current_app.extensions["pager"]
    return found


def _api_error(exc: ApiError) -> ResponseReturnValue:
    body = {"error": exc.error, "message": exc.message}
    if exc.field is not None:
        body["field"] = exc.field
    return jsonify(body), exc.status


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    name = (exc.name or "error").lower().replace(" ", "_")
    response = jsonify({"error": name, "message": exc.description})
    return response, exc.code or 500


def _unexpected(exc: Exception) -> ResponseReturnValue:
    # Reaching here is a bug; the body says so without leaking internals.
    log.exception("event=unhandled_error")
    return jsonify({"error": "internal_error", "message": "unexpected error; see the log"}), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)

"""One way every list of the API pages: `limit`, an opaque `cursor`, and a `next` link.

A page answers its list under the key it always had, plus `"next"`: the URL of the next page,
or null on the last one; the same URL is in a `Link: <...>; rel="next"` header. The cursor is
the sort key of the page's last item (keyset paging), so a row added or removed elsewhere never
shifts the pages still to come: each row present for the whole walk is seen exactly once.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from pager.web.errors import ApiError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_CURSOR = 400  # characters: a cursor holds one or two short values

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    """What the caller asked for: how many, and after which item (None: from the start)."""

    limit: int
    after: tuple[Any, ...] | None


def page_request(arity: int) -> PageRequest:
    """`?limit=` (1 to 500, default 50) and `?cursor=` of a list whose sort key has `arity`
    values; a bad value of either is a 400 naming it."""
    return PageRequest(int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT), _cursor(arity))


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(
            400, "invalid_parameter", f"{name} must be a whole number from {low} to {high}", name
        )
    return int(raw)


def encode_cursor(key: Sequence[Any]) -> str:
    """The opaque cursor of a sort key (datetimes as ISO 8601, ints and strings as they are)."""
    values = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(arity: int) -> tuple[Any, ...] | None:
    given = request.args.get("cursor")
    if not given:
        return None
    refused = ApiError(
        400, "invalid_cursor", "cursor is not one this list gave (take it from 'next')", "cursor"
    )
    if len(given) > MAX_CURSOR:
        raise refused
    try:
        values = json.loads(base64.urlsafe_b64decode(given + "=" * (-len(given) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise refused from exc
    if not isinstance(values, list) or len(values) != arity:
        raise refused
    if not all(
        isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)) for v in values
    ):
        raise refused
    return tuple(values)


def cursor_time(value: Any) -> datetime:
    """A datetime a cursor holds; a tampered one is refused like any bad cursor."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ApiError(400, "invalid_cursor", "cursor is not one this list gave", "cursor")
    return parsed.astimezone(UTC)


def after_time_and_id(asked: PageRequest) -> tuple[datetime, int] | None:
    """The (time, id) a cursor of a list sorted by a time then an id holds; None at the start."""
    if asked.after is None:
        return None
    return cursor_time(asked.after[0]), cursor_int(asked.after[1])


def cursor_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
        raise ApiError(400, "invalid_cursor", "cursor is not one this list gave", "cursor")
    return value


def next_url(cursor: str | None, *, drop: tuple[str, ...] = ()) -> str | None:
    """This request's URL with `cursor` set (and the `drop` arguments left out); None at the
    end. The token of `?token=` is left out: it is a credential, and links end up in logs."""
    if cursor is None:
        return None
    left_out = {"cursor", "token", *drop}
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in left_out]
    return f"{request.base_url}?{urlencode([*args, ('cursor', cursor)])}"


def answer(key: str, items: Sequence[Any], nxt: str | None, **more: Any) -> ResponseReturnValue:
    """The page as JSON (`{key: [...], **more, "next": url-or-null}`) with its Link header."""
    response = jsonify({key: items, **more, "next": nxt})
    if nxt is not None:
        response.headers["Link"] = f'<{nxt}>; rel="next"'
    return response


def page_of(
    found: Sequence[T], limit: int, key_of: Callable[[T], Sequence[Any]]
) -> tuple[Sequence[T], str | None]:
    """The first `limit` of `found` (fetched with one more than asked, to know whether more
    exist) and the cursor of the next page, or None when this is the last."""
    if len(found) <= limit:
        return found, None
    shown = found[:limit]
    return shown, encode_cursor(key_of(shown[-1]))

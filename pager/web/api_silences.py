"""`/api/v1/silences`: maintenance windows, listed by page, added and ended."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from pager.flows import silences as silence_flows
from pager.flows.context import utcnow
from pager.web import paging
from pager.web.api import blueprint, who_acts
from pager.web.api_bodies import SILENCE, SilenceBody, read_body
from pager.web.errors import ROW_ID, ApiError, pager


def _ends_at(body: SilenceBody, starts_at: datetime) -> datetime:
    """When the window ends: `ends_at`, or `duration_minutes` after `starts_at`."""
    if body.duration_minutes is None:
        assert body.ends_at is not None  # SILENCE requires one of the two
        return body.ends_at
    try:
        return starts_at + timedelta(minutes=body.duration_minutes)
    except OverflowError as exc:  # past year 9999
        raise ApiError(
            400, "invalid_field", "'duration_minutes' ends past the year 9999", "duration_minutes"
        ) from exc


@blueprint.get("/silences")
def list_silences() -> ResponseReturnValue:
    """Windows in force or to come, by start: `?limit=`, `?cursor=`."""
    asked = paging.page_request(2)
    after = paging.after_time_and_id(asked)
    found = silence_flows.list_silences(pager(), utcnow(), after, asked.limit + 1)
    shown, cursor = paging.page_of(found, asked.limit, lambda v: (v.starts_at, v.id))
    return paging.answer("silences", [v.to_json() for v in shown], paging.next_url(cursor))


@blueprint.post("/silences")
def add_silence() -> ResponseReturnValue:
    """Start a maintenance window: `{"service", "ends_at" | "duration_minutes", "starts_at"?,
    "reason"?, "by"?}`."""
    body = read_body(SILENCE, required=True)
    now = utcnow()
    starts_at = body.starts_at or now
    ends_at = _ends_at(body, starts_at)
    try:
        view = silence_flows.add_silence(
            pager(), body.service, starts_at, ends_at, body.reason, who_acts(body.by), now
        )
    except silence_flows.SilenceRefused as exc:
        raise ApiError(400, "invalid_field", str(exc), exc.field) from exc
    return jsonify(view.to_json()), 201


@blueprint.delete(f"/silences/<{ROW_ID}:silence_id>")
def end_silence(silence_id: int) -> ResponseReturnValue:
    view = silence_flows.end_silence(pager(), silence_id, utcnow(), by=g.api_actor)
    if view is None:
        raise ApiError(404, "not_found", f"no silence {silence_id}")
    return jsonify(view.to_json())

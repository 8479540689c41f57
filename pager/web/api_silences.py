"""`/api/v1/silences`: maintenance windows, listed by page, added and ended."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from pager.flows import silences as silence_flows
from pager.flows.context import utcnow
from pager.web import paging
from pager.web.api import MAX_SERVICE, blueprint, body_of, instant, who_acts
from pager.web.errors import ROW_ID, ApiError, pager


def _ends_after(starts_at: datetime, minutes: int) -> datetime:
    try:
        return starts_at + timedelta(minutes=minutes)
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
    body = body_of(required=True)
    now = utcnow()
    service = body.get("service")
    if not isinstance(service, str) or not service:
        raise ApiError(400, "invalid_field", "'service' is required", "service")
    if len(service) > MAX_SERVICE:
        raise ApiError(
            400, "invalid_field", f"'service' is over {MAX_SERVICE} characters", "service"
        )
    starts_at = now if body.get("starts_at") is None else instant(body["starts_at"], "starts_at")
    minutes = body.get("duration_minutes")
    if minutes is not None:
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            raise ApiError(
                400,
                "invalid_field",
                "'duration_minutes' must be a positive whole number",
                "duration_minutes",
            )
        ends_at = _ends_after(starts_at, minutes)
    else:
        ends_at = instant(body.get("ends_at"), "ends_at")
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise ApiError(400, "invalid_field", "'reason' must be text", "reason")
    try:
        view = silence_flows.add_silence(
            pager(), service, starts_at, ends_at, reason, who_acts(body), now
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

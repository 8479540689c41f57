"""`/api/v1`: incidents as JSON, acknowledge and resolve. Bearer tokens from `api_tokens`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from pager.domain.jsonbody import JsonRefused, read_json_object
from pager.flows import access, audit, incidents
from pager.flows import people as people_flows
from pager.flows import silences as silence_flows
from pager.flows.changes import recent_changes
from pager.flows.context import utcnow
from pager.flows.incidents import IncidentView
from pager.flows.rotations import load_rotations
from pager.flows.silences import SilenceView
from pager.web.auth import api_token_name, presented_token
from pager.web.errors import ROW_ID, ApiError, pager

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
STATUSES = ("triggered", "acknowledged", "resolved")
MAX_BY = 100
MAX_SERVICE = 200  # the width of silences.service


@blueprint.before_request
def _authenticate() -> None:
    given = presented_token()
    name = api_token_name(given, pager().settings) or access.person_of_token(
        pager(), given, utcnow()
    )
    if name is None:
        raise ApiError(
            401, "unauthorized", "missing or wrong API token (Authorization: Bearer <token>)"
        )
    g.api_actor = name


def _json(view: IncidentView, *, with_timeline: bool = True) -> dict[str, Any]:
    return view.to_json(with_timeline=with_timeline)


@blueprint.get("/incidents")
def list_incidents() -> ResponseReturnValue:
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError(
            400, "invalid_status", f"status must be one of {', '.join(STATUSES)}", "status"
        )
    found = incidents.listing(pager(), status)
    return jsonify(incidents=[_json(view, with_timeline=False) for view in found])


@blueprint.get(f"/incidents/<{ROW_ID}:incident_id>")
def get_incident(incident_id: int) -> ResponseReturnValue:
    view = _found(lambda: incidents.view(pager(), incident_id))
    changes = recent_changes(pager(), view.service, view.created_at, utcnow())
    return jsonify(
        {
            **_json(view),
            "next_step": incidents.next_step(pager(), incident_id),
            "recent_changes": [
                {
                    "at": c.at.isoformat(),
                    "summary": c.summary,
                    "source": c.source,
                    "links": [{"href": href, "text": text} for href, text in c.links],
                    "custom_details": c.custom_details,
                }
                for c in changes
            ],
        }
    )


@blueprint.post(f"/incidents/<{ROW_ID}:incident_id>/escalate")
def escalate(incident_id: int) -> ResponseReturnValue:
    """Run the incident's next escalation step now (while it is triggered)."""
    by = _actor(_body(required=False))
    return jsonify(
        _json(_found(lambda: incidents.escalate_now(pager(), incident_id, by, "api", utcnow())))
    )


@blueprint.post(f"/incidents/<{ROW_ID}:incident_id>/notes")
def add_note(incident_id: int) -> ResponseReturnValue:
    """`{"text": "restarted the primary"}` on the incident's timeline."""
    body = _body(required=True)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > incidents.MAX_NOTE:
        raise ApiError(
            400,
            "invalid_field",
            f"'text' must be a note of 1 to {incidents.MAX_NOTE} characters",
            "text",
        )
    by = _actor(body)
    return jsonify(
        _json(_found(lambda: incidents.add_note(pager(), incident_id, text, by, "api", utcnow())))
    ), 201


@blueprint.post(f"/incidents/<{ROW_ID}:incident_id>/ack")
def acknowledge(incident_id: int) -> ResponseReturnValue:
    by = _actor(_body(required=False))
    return jsonify(
        _json(_found(lambda: incidents.acknowledge(pager(), incident_id, by, "api", utcnow())))
    )


@blueprint.post(f"/incidents/<{ROW_ID}:incident_id>/unack")
def unacknowledge(incident_id: int) -> ResponseReturnValue:
    by = _actor(_body(required=False))
    return jsonify(
        _json(_found(lambda: incidents.unacknowledge(pager(), incident_id, by, utcnow())))
    )


@blueprint.post(f"/incidents/<{ROW_ID}:incident_id>/resolve")
def resolve(incident_id: int) -> ResponseReturnValue:
    by = _actor(_body(required=False))
    return jsonify(
        _json(_found(lambda: incidents.resolve(pager(), incident_id, by, "api", utcnow())))
    )


def _body(*, required: bool) -> dict[str, Any]:
    """The request's JSON object; without a body, {} unless one is `required`.

    Any body sent must be a JSON object we can store, whatever its Content-Type: an ack whose
    body we can't read must not pass as an ack "by api".
    """
    raw = request.get_data(cache=False)
    if not required and not raw.strip():
        return {}
    try:
        return read_json_object(raw)
    except JsonRefused as exc:
        raise ApiError(400, "invalid_json", exc.message, exc.field or None) from exc


def _actor(body: dict[str, Any]) -> str:
    """Who acts: the API token's name. A `by` in the body is only a note beside it (anyone
    holding a token could write any name there)."""
    by = body.get("by")
    if by is not None and (not isinstance(by, str) or not 0 < len(by) <= MAX_BY):
        raise ApiError(
            400, "invalid_field", f"'by' must be a name of 1 to {MAX_BY} characters", "by"
        )
    actor: str = g.api_actor
    return f"{actor} (for {by})" if by and by != actor else actor


def _found(call: Any) -> IncidentView:
    try:
        view: IncidentView = call()
    except incidents.NotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    return view


def _rotations_json() -> dict[str, Any]:
    rotations = pager().rotations
    schedule = rotations.schedule
    return {
        "status": rotations.status,
        "origin": rotations.origin,
        "digest": rotations.digest,
        "loaded_at": rotations.loaded_at.isoformat() if rotations.loaded_at else None,
        "problems": [str(problem) for problem in rotations.problems],
        "rotations": sorted(schedule.rotations) if schedule else [],
        "services": sorted(schedule.services) if schedule else [],
    }


@blueprint.get("/people")
def list_people() -> ResponseReturnValue:
    """Everyone in the rotations: number masked, proven or not, their last test page."""
    return jsonify(people=[view.to_json() for view in people_flows.people(pager())])


@blueprint.get("/rotations")
def rotations_status() -> ResponseReturnValue:
    return jsonify(_rotations_json())


@blueprint.post("/rotations/reload")
def reload_rotations() -> ResponseReturnValue:
    """Re-read the files now; 422 with the problems when they don't validate (the last good set
    stays in force)."""
    load_rotations(pager(), utcnow())
    body = _rotations_json()
    return jsonify(body), 422 if body["problems"] else 200


def _silence_json(view: SilenceView) -> dict[str, Any]:
    data = asdict(view)
    data["starts_at"] = view.starts_at.isoformat()
    data["ends_at"] = view.ends_at.isoformat()
    return data


def _instant(body: dict[str, Any], key: str, default: datetime | None = None) -> datetime:
    value = body.get(key)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise ApiError(400, "invalid_field", f"'{key}' must be an ISO 8601 time", key)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, "invalid_field", f"'{key}' is not an ISO 8601 time", key) from exc
    if parsed.tzinfo is None:
        raise ApiError(400, "invalid_field", f"'{key}' needs a UTC offset (or Z)", key)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ApiError(400, "invalid_field", f"'{key}' is out of range in UTC", key) from exc


def _ends_after(starts_at: datetime, minutes: int) -> datetime:
    try:
        return starts_at + timedelta(minutes=minutes)
    except OverflowError as exc:  # past year 9999
        raise ApiError(
            400, "invalid_field", "'duration_minutes' ends past the year 9999", "duration_minutes"
        ) from exc


@blueprint.get("/silences")
def list_silences() -> ResponseReturnValue:
    return jsonify(
        silences=[_silence_json(v) for v in silence_flows.list_silences(pager(), utcnow())]
    )


@blueprint.post("/silences")
def add_silence() -> ResponseReturnValue:
    """Start a maintenance window: `{"service", "ends_at" | "duration_minutes", "starts_at"?,
    "reason"?, "by"?}`."""
    body = _body(required=True)
    now = utcnow()
    service = body.get("service")
    if not isinstance(service, str) or not service:
        raise ApiError(400, "invalid_field", "'service' is required", "service")
    if len(service) > MAX_SERVICE:
        raise ApiError(
            400, "invalid_field", f"'service' is over {MAX_SERVICE} characters", "service"
        )
    starts_at = _instant(body, "starts_at", now)
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
        ends_at = _instant(body, "ends_at")
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise ApiError(400, "invalid_field", "'reason' must be text", "reason")
    try:
        view = silence_flows.add_silence(
            pager(), service, starts_at, ends_at, reason, _actor(body), now
        )
    except silence_flows.SilenceRefused as exc:
        raise ApiError(400, "invalid_field", str(exc), exc.field) from exc
    return jsonify(_silence_json(view)), 201


@blueprint.delete(f"/silences/<{ROW_ID}:silence_id>")
def end_silence(silence_id: int) -> ResponseReturnValue:
    view = silence_flows.end_silence(pager(), silence_id, utcnow(), by=g.api_actor)
    if view is None:
        raise ApiError(404, "not_found", f"no silence {silence_id}")
    return jsonify(_silence_json(view))


@blueprint.get("/audit")
def audit_trail() -> ResponseReturnValue:
    """The audit trail, newest first: `?action=`, `?actor=`, `?limit=` (1-500, default 100),
    and `?before=<id>` for the next page, which `next` links to."""
    limit = _int_arg("limit", 100, 1, audit.MAX_PAGE) or 100
    before = _int_arg("before", None, 1, 2**62)
    found = audit.listing(
        pager(),
        before_id=before,
        action=request.args.get("action") or None,
        actor=request.args.get("actor") or None,
        limit=limit,
    )
    entries = [{**asdict(entry), "at": entry.at.isoformat()} for entry in found]
    more = len(found) == limit
    args = {k: v for k, v in request.args.items() if k != "before"}
    query = urlencode({**args, "before": found[-1].id}) if more else ""
    return jsonify(entries=entries, next=f"{request.path}?{query}" if more else None)


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(
            400, "invalid_parameter", f"{name} must be a number from {low} to {high}", name
        )
    return int(raw)

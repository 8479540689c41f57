"""`/api/v1`: incidents as JSON, acknowledge and resolve. Bearer tokens from `api_tokens`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from pager.flows import incidents
from pager.flows.context import utcnow
from pager.flows.incidents import IncidentView
from pager.flows.rotations import load_rotations
from pager.web.auth import presented_token, token_matches
from pager.web.errors import ApiError, pager

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
STATUSES = ("triggered", "acknowledged", "resolved")


@blueprint.before_request
def _authenticate() -> None:
    if not token_matches(presented_token(), pager().settings.api_tokens):
        raise ApiError(
            401, "unauthorized", "missing or wrong API token (Authorization: Bearer <token>)"
        )


def _json(view: IncidentView, *, with_timeline: bool = True) -> dict[str, Any]:
    data = asdict(view)
    for key in ("created_at", "acknowledged_at", "resolved_at"):
        data[key] = data[key].isoformat() if data[key] else None
    if with_timeline:
        data["timeline"] = [
            {"at": entry.at.isoformat(), "kind": entry.kind, "message": entry.message}
            for entry in view.timeline
        ]
    else:
        del data["timeline"]
    return data


@blueprint.get("/incidents")
def list_incidents() -> ResponseReturnValue:
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError(
            400, "invalid_status", f"status must be one of {', '.join(STATUSES)}", "status"
        )
    found = incidents.listing(pager(), status)
    return jsonify(incidents=[_json(view, with_timeline=False) for view in found])


@blueprint.get("/incidents/<int:incident_id>")
def get_incident(incident_id: int) -> ResponseReturnValue:
    return jsonify(_json(_found(lambda: incidents.view(pager(), incident_id))))


@blueprint.post("/incidents/<int:incident_id>/ack")
def acknowledge(incident_id: int) -> ResponseReturnValue:
    by = _actor()
    return jsonify(
        _json(_found(lambda: incidents.acknowledge(pager(), incident_id, by, "api", utcnow())))
    )


@blueprint.post("/incidents/<int:incident_id>/resolve")
def resolve(incident_id: int) -> ResponseReturnValue:
    by = _actor()
    return jsonify(
        _json(_found(lambda: incidents.resolve(pager(), incident_id, by, "api", utcnow())))
    )


def _actor() -> str:
    body = request.get_json(silent=True)
    by = body.get("by") if isinstance(body, dict) else None
    if by is not None and (not isinstance(by, str) or not 0 < len(by) <= 100):
        raise ApiError(400, "invalid_field", "'by' must be a name of 1 to 100 characters", "by")
    return by or "api"


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
        "status": "invalid" if rotations.problems else ("ok" if schedule else "missing"),
        "origin": rotations.origin,
        "digest": rotations.digest,
        "loaded_at": rotations.loaded_at.isoformat() if rotations.loaded_at else None,
        "problems": [str(problem) for problem in rotations.problems],
        "rotations": sorted(schedule.rotations) if schedule else [],
        "services": sorted(schedule.services) if schedule else [],
    }


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

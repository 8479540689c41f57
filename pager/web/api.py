"""`/api/v1`: incidents as JSON, acknowledge and resolve. Bearer tokens from `api_tokens`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from pager.domain.body_schema import BodyRefused, instant
from pager.domain.states import IncidentState
from pager.flows import access, audit, incidents
from pager.flows import people as people_flows
from pager.flows.changes import recent_changes
from pager.flows.context import utcnow
from pager.flows.incidents import IncidentFilter, IncidentView
from pager.flows.rotations import load_rotations
from pager.web import paging
from pager.web.api_bodies import ACTOR, MAX_SERVICE, NOTE, read_body
from pager.web.auth import api_token_name, presented_token
from pager.web.errors import ROW_ID, ApiError, pager

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
STATUSES = tuple(IncidentState)
View = TypeVar("View", bound=Callable[..., Any])


_OPEN_TO_ALL: set[str] = set()  # views that need no token (the OpenAPI document)


def open_to_all(view: View) -> View:
    """Let `view` answer without a token."""
    _OPEN_TO_ALL.add(view.__name__)
    return view


@blueprint.before_request
def _authenticate() -> None:
    if request.endpoint and request.endpoint.removeprefix("api.") in _OPEN_TO_ALL:
        return
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
    """Newest first: `?status=`, `?service=`, `?since=`/`?until=` (when opened, ISO 8601 with
    an offset), `?limit=`, `?cursor=`."""
    asked = paging.page_request(2)
    after = paging.after_time_and_id(asked)
    found = incidents.newest_first(pager(), _incident_filter(), after, asked.limit + 1)
    shown, cursor = paging.page_of(found, asked.limit, lambda v: (v.created_at, v.id))
    return paging.answer(
        "incidents", [_json(v, with_timeline=False) for v in shown], paging.next_url(cursor)
    )


def _incident_filter() -> IncidentFilter:
    args = request.args
    status = args.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError(
            400, "invalid_status", f"status must be one of {', '.join(STATUSES)}", "status"
        )
    service = args.get("service") or None
    if service is not None and len(service) > MAX_SERVICE:
        raise ApiError(
            400, "invalid_parameter", f"service is over {MAX_SERVICE} characters", "service"
        )
    since, until = (_time_arg(name) for name in ("since", "until"))
    return IncidentFilter(status, service, since, until)


def _time_arg(name: str) -> datetime | None:
    given = request.args.get(name)
    if not given:
        return None
    if " " in given.strip():  # an unescaped + of an offset reads as a space in a query
        raise ApiError(
            400, "invalid_parameter", f"{name} has a space: write its offset's + as %2B", name
        )
    try:
        return instant(given, name)
    except BodyRefused as exc:
        raise ApiError(400, "invalid_parameter", exc.message, name) from exc


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
    by = who_acts(read_body(ACTOR, required=False).by)
    return jsonify(
        _json(_found(lambda: incidents.escalate_now(pager(), incident_id, by, "api", utcnow())))
    )


@blueprint.post(f"/incidents/<{ROW_ID}:incident_id>/notes")
def add_note(incident_id: int) -> ResponseReturnValue:
    """`{"text": "restarted the primary"}` on the incident's timeline."""
    body = read_body(NOTE, required=True)
    by = who_acts(body.by)
    return jsonify(
        _json(
            _found(lambda: incidents.add_note(pager(), incident_id, body.text, by, "api", utcnow()))
        )
    ), 201


@blueprint.post(f"/incidents/<{ROW_ID}:incident_id>/ack")
def acknowledge(incident_id: int) -> ResponseReturnValue:
    by = who_acts(read_body(ACTOR, required=False).by)
    return jsonify(
        _json(_found(lambda: incidents.acknowledge(pager(), incident_id, by, "api", utcnow())))
    )


@blueprint.post(f"/incidents/<{ROW_ID}:incident_id>/unack")
def unacknowledge(incident_id: int) -> ResponseReturnValue:
    by = who_acts(read_body(ACTOR, required=False).by)
    return jsonify(
        _json(_found(lambda: incidents.unacknowledge(pager(), incident_id, by, utcnow())))
    )


@blueprint.post(f"/incidents/<{ROW_ID}:incident_id>/resolve")
def resolve(incident_id: int) -> ResponseReturnValue:
    by = who_acts(read_body(ACTOR, required=False).by)
    return jsonify(
        _json(_found(lambda: incidents.resolve(pager(), incident_id, by, "api", utcnow())))
    )


def who_acts(by: str | None) -> str:
    """Who acts: the API token's name. A `by` in the body is only a note beside it (anyone
    holding a token could write any name there)."""
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
    """Everyone in the rotations by handle: number masked, proven or not, their last test
    page. `?limit=`, `?cursor=`."""
    asked = paging.page_request(1)
    everyone = people_flows.people(pager())
    if asked.after is not None:
        everyone = [view for view in everyone if view.handle > str(asked.after[0])]
    shown, cursor = paging.page_of(everyone, asked.limit, lambda view: (view.handle,))
    return paging.answer("people", [view.to_json() for view in shown], paging.next_url(cursor))


@blueprint.get("/rotations")
def rotations_status() -> ResponseReturnValue:
    """The set in force; its rotation names by page (`?limit=`, `?cursor=`), the rest whole."""
    asked = paging.page_request(1)
    body = _rotations_json()
    names: list[str] = body.pop("rotations")
    if asked.after is not None:
        names = [name for name in names if name > str(asked.after[0])]
    shown, cursor = paging.page_of(names, asked.limit, lambda name: (name,))
    return paging.answer("rotations", list(shown), paging.next_url(cursor), **body)


@blueprint.post("/rotations/reload")
def reload_rotations() -> ResponseReturnValue:
    """Re-read the files now; 422 with the problems when they don't validate (the last good set
    stays in force)."""
    load_rotations(pager(), utcnow())
    body = _rotations_json()
    return jsonify(body), 422 if body["problems"] else 200


@blueprint.get("/audit")
def audit_trail() -> ResponseReturnValue:
    """The audit trail, newest first: `?action=`, `?actor=`, `?limit=`, `?cursor=` (and
    `?before=<id>`, the older way to page: entries older than that id)."""
    asked = paging.page_request(1)
    before = paging.int_arg("before", 0, 1, 2**62) or None
    if asked.after is not None:
        before = paging.cursor_int(asked.after[0])
    found = audit.listing(
        pager(),
        before_id=before,
        action=request.args.get("action") or None,
        actor=request.args.get("actor") or None,
        limit=asked.limit + 1,
    )
    shown, cursor = paging.page_of(found, asked.limit, lambda entry: (entry.id,))
    entries = [{**asdict(entry), "at": entry.at.isoformat()} for entry in shown]
    return paging.answer("entries", entries, paging.next_url(cursor, drop=("before",)))

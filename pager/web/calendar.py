"""`GET /calendar/<rotation>.ics?token=...`: shifts for calendar apps (which can't send
headers, hence the token in the URL). `&person=<id>` keeps one person's shifts."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from pager.domain.calendar import shifts_to_ics
from pager.flows.context import utcnow
from pager.web.auth import token_matches
from pager.web.errors import ApiError, pager

blueprint = Blueprint("calendar", __name__)
PAST = timedelta(weeks=2)
AHEAD = timedelta(weeks=12)


@blueprint.get("/calendar/<rotation>.ics")
def rotation_calendar(rotation: str) -> ResponseReturnValue:
    if not token_matches(request.args.get("token", ""), [pager().calendar_token]):
        raise ApiError(401, "unauthorized", "missing or wrong calendar token (?token=)")
    schedule = pager().rotations.schedule
    if schedule is None or rotation not in schedule.rotations:
        raise ApiError(404, "unknown_rotation", f"no rotation named '{rotation}'")
    person = request.args.get("person")
    if person is not None and person not in schedule.people:
        raise ApiError(400, "unknown_person", f"no person named '{person}'", "person")
    now = utcnow()
    shifts = schedule.shifts(rotation, now - PAST, now + AHEAD)
    if person is not None:
        shifts = [shift for shift in shifts if shift.person == person]
    body = shifts_to_ics(f"On call: {rotation}", shifts, schedule.people, now)
    return Response(body, content_type="text/calendar; charset=utf-8")

"""The dashboard's schedule pages: one per rotation (who now, who next, the next two weeks
with overrides and gaps, in the rotation's time zone) and the services with their policies in
words (`flows/on_call.py` works them out). Pages of the dashboard blueprint."""

from __future__ import annotations

from flask import abort, render_template
from flask.typing import ResponseReturnValue

from pager.domain.rotations import Schedule
from pager.flows import on_call
from pager.flows.context import utcnow
from pager.web.dashboard import blueprint
from pager.web.errors import pager


@blueprint.get("/rotations/<rotation_id>")
def rotation_page(rotation_id: str) -> ResponseReturnValue:
    schedule = _schedule()
    if rotation_id not in schedule.rotations:
        abort(404, f"There is no rotation '{rotation_id}'.")
    ahead = on_call.rotation_ahead(schedule, rotation_id, utcnow())
    return render_template(
        "rotation.html",
        rotation=rotation_id,
        timezone=ahead.timezone,
        rows=ahead.rows,
        days=ahead.days,
        legend=ahead.legend,
        gaps=ahead.gaps,
    )


@blueprint.get("/services")
def services_page() -> ResponseReturnValue:
    schedule = _schedule()
    services = on_call.services_in_words(schedule)
    return render_template("services.html", services=services, rotations=sorted(schedule.rotations))


def _schedule() -> Schedule:
    schedule = pager().rotations.schedule
    if schedule is None:
        abort(503, "No valid rotation set: nobody can be paged. Check the files with pager check.")
    return schedule

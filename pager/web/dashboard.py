"""The dashboard: open incidents with Acknowledge / Resolve buttons, who is on call, and whether
the rotation files are valid. Server-rendered HTML, readable at 3 a.m. on a phone.

People in the rotations sign in as themselves with a one-time code sent to their phone
(`flows.sign_in`, `web.sign_in`); what they do here is done by them, on the timeline and in the
audit trail. Sessions are kept server side and can be ended. Every POST carries a CSRF token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from pager.domain.phones import mask
from pager.domain.states import IncidentState
from pager.flows import canaries, incident_alerts, incidents, on_call, people, sign_in, totp
from pager.flows.changes import recent_changes
from pager.flows.context import Pager, utcnow
from pager.flows.delivery_summary import how_pages_leave
from pager.flows.incidents import IncidentView
from pager.flows.silences import list_silences
from pager.web.errors import ROW_ID, pager
from pager.web.sign_in import (
    COOKIE,
    check_csrf,
    clear_session_cookie,
    csrf_token,
    remote_address,
    set_session_cookie,
    signed_in,
)

log = logging.getLogger(__name__)
blueprint = Blueprint("dashboard", __name__, static_folder="static", static_url_path="/assets")

VIA = "dashboard"  # on the timeline: "acknowledged by Alice (dashboard)"
OPEN_TO_ALL = {"dashboard.login", "dashboard.login_code", "dashboard.static"}
MAX_NAME = 100
RECENTLY_RESOLVED = 10
REFRESH_SECONDS = 30
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

Action = Callable[[Pager, int, str, datetime], IncidentView]
ACTIONS: dict[str, tuple[Action, IncidentState]] = {
    "ack": (
        lambda p, i, by, now: incidents.acknowledge(p, i, by, VIA, now),
        IncidentState.ACKNOWLEDGED,
    ),
    "unack": (
        lambda p, i, by, now: incidents.unacknowledge(p, i, by, now, VIA),
        IncidentState.TRIGGERED,
    ),
    "resolve": (
        lambda p, i, by, now: incidents.resolve(p, i, by, VIA, now),
        IncidentState.RESOLVED,
    ),
    "escalate": (
        lambda p, i, by, now: incidents.escalate_now(p, i, by, VIA, now),
        IncidentState.TRIGGERED,
    ),
}


SESSION_LIFETIME = timedelta(hours=12)  # a shift, not Flask's default of 31 days


@blueprint.record_once
def _cookie_defaults(state: BlueprintSetupState) -> None:
    # The session is only the dashboard's: keep it from scripts and from cross-site POSTs.
    config = state.app.config
    config["SESSION_COOKIE_HTTPONLY"] = True
    if not config.get("SESSION_COOKIE_SAMESITE"):
        config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # Served over https (behind a proxy, Flask may see http): never send the cookie in clear.
    pager_settings = state.app.extensions["pager"].settings
    config["SESSION_COOKIE_SECURE"] = pager_settings.public_url.startswith("https://")
    config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME


@blueprint.before_request
def _guard() -> ResponseReturnValue | None:
    if request.endpoint == "dashboard.static":
        return None
    if not current_app.secret_key:
        abort(503, "The dashboard has no session key yet (app.secret_key is not set).")
    if request.endpoint not in OPEN_TO_ALL and signed_in() is None:
        return redirect(url_for(".login", next=request.path), 303)
    if request.method == "POST":
        check_csrf()
    return None


@blueprint.after_request
def _headers(response: Response) -> Response:
    if request.endpoint != "dashboard.static":
        response.headers["Cache-Control"] = "no-store"  # incident data stays off shared disks
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@blueprint.errorhandler(HTTPException)
def _error_page(exc: HTTPException) -> ResponseReturnValue:
    return render_template("dashboard_error.html", error=exc), exc.code or 500


@blueprint.context_processor
def _template_helpers() -> dict[str, Any]:
    now = utcnow()
    signed = signed_in()
    user = signed.name if signed else None
    return {
        "user": user,
        "rotations": pager().rotations if user else None,
        "has_webhooks": bool(pager().settings.webhooks),
        "mask": mask,
        "csrf_token": csrf_token,
        "utc": lambda at: utc_text(at, now),
        "ago": lambda at: ago(at, now),
    }


def _safe_next(value: str) -> str:
    """Only a path on this site: a login link must not send the engineer anywhere else."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return ""
    return value if value.isprintable() and " " not in value else ""


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Step one: a handle or number; a code goes to that person's phone, if they exist."""
    next_path = _safe_next(request.values.get("next", ""))
    if request.method == "GET":
        nobody = pager().rotations.schedule is None
        return render_template("login.html", next=next_path, who="", no_rotations=nobody)
    who = " ".join(request.form.get("who", "").split())[:MAX_NAME]
    if not who or not who.isprintable():
        error = "Enter your handle (as in the rotation files) or your phone number."
        return render_template("login.html", next=next_path, who="", error=error), 400
    channel = request.form.get("channel", "sms")
    if channel == "totp":  # nothing to send: the code is in the person's app
        return render_template("login_code.html", next=next_path, who=who, channel=channel)
    channel = "voice" if channel == "voice" else "sms"
    sign_in.send_code(pager(), who, channel, remote_address(), utcnow())
    return render_template("login_code.html", next=next_path, who=who, channel=channel)


@blueprint.post("/login/code")
def login_code() -> ResponseReturnValue:
    """Step two: the code; right, and a session starts."""
    next_path = _safe_next(request.form.get("next", ""))
    who = " ".join(request.form.get("who", "").split())[:MAX_NAME]
    code = request.form.get("code", "").strip()[:20]
    channel = "totp" if request.form.get("channel") == "totp" else "sms"
    check = totp.check_code if channel == "totp" else sign_in.check_code
    person = check(pager(), who, code, remote_address(), utcnow())
    if person is None:
        error = "That code is wrong, expired or already used. Try again, or ask for a new one."
        page = render_template(
            "login_code.html", next=next_path, who=who, error=error, channel=channel
        )
        return page, 401
    token = sign_in.start_session(
        pager(), person, remote_address(), request.headers.get("User-Agent"), utcnow()
    )
    session.clear()  # the sign-in forms' CSRF token is done with
    return set_session_cookie(redirect(next_path or url_for(".home"), 303), token)


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    everywhere = request.form.get("everywhere") == "1"
    sign_in.end_session(
        pager(), request.cookies.get(COOKIE, ""), remote_address(), utcnow(), everywhere
    )
    flash("Signed out everywhere." if everywhere else "Signed out.", "ok")
    return clear_session_cookie(redirect(url_for(".login"), 303))


@blueprint.get("/")
def home() -> ResponseReturnValue:
    p, now, signed = pager(), utcnow(), signed_in()
    triggered = incidents.listing(p, IncidentState.TRIGGERED)
    acknowledged = incidents.listing(p, IncidentState.ACKNOWLEDGED)
    return render_template(
        "dashboard.html",
        triggered=triggered,
        open_incidents=triggered + acknowledged,
        resolved=incidents.listing(p, IncidentState.RESOLVED, RECENTLY_RESOLVED),
        oncall=on_call.on_call_now(p.rotations.schedule, now),
        silences=list_silences(p, now),
        now=now,
        delivery=how_pages_leave(p),
        people=people.people(p),
        me=signed.person if signed else None,
        mine=incidents.open_paged_to_person(p, signed.person) if signed else None,
        canaries=canaries.latest_results(p),
        refresh=REFRESH_SECONDS,
    )


@blueprint.get(f"/incidents/<{ROW_ID}:incident_id>")
def incident(incident_id: int) -> ResponseReturnValue:
    p = pager()
    try:
        view = incidents.view(p, incident_id)
    except incidents.NotFound:
        abort(404, f"There is no incident #{incident_id}.")
    alerts, alert_total = incident_alerts.first_alerts(p, incident_id)
    return render_template(
        "incident.html",
        incident=view,
        alerts=alerts,
        alert_total=alert_total,
        next_step=incidents.next_step(p, incident_id),
        changes=recent_changes(p, view.service, view.created_at, utcnow()),
    )


@blueprint.post(f"/incidents/<{ROW_ID}:incident_id>/notes")
def note(incident_id: int) -> ResponseReturnValue:
    signed = signed_in()
    text = request.form.get("text", "")
    if not text.strip():
        abort(400, "Write the note first.")
    try:
        incidents.add_note(
            pager(), incident_id, text, signed.name if signed else "dashboard", VIA, utcnow()
        )
    except incidents.NotFound:
        abort(404, f"There is no incident #{incident_id}.")
    flash("Note added.", "ok")
    return redirect(url_for(".incident", incident_id=incident_id), 303)


@blueprint.post(f"/incidents/<{ROW_ID}:incident_id>/<any(ack, unack, resolve, escalate):action>")
def act(incident_id: int, action: str) -> ResponseReturnValue:
    """The buttons: the same flows as the API, `by` the signed-in name; then the timeline."""
    signed = signed_in()
    by = signed.name if signed else "dashboard"
    flow, wanted = ACTIONS[action]
    try:
        view = flow(pager(), incident_id, by, utcnow())
    except incidents.NotFound:
        abort(404, f"There is no incident #{incident_id}.")
    flash(*_outcome(view, action, wanted, by))
    return redirect(url_for(".incident", incident_id=incident_id), 303)


def _outcome(view: IncidentView, action: str, wanted: IncidentState, by: str) -> tuple[str, str]:
    """What to tell the engineer, with a flash category: someone may have got there first."""
    done = {
        "ack": "acknowledged",
        "unack": "un-acknowledged: escalating again",
        "escalate": "escalating: the next step pages now",
    }
    who = view.acknowledged_by if wanted == IncidentState.ACKNOWLEDGED else view.resolved_by
    if view.status == wanted and (action in ("unack", "escalate") or who == by):
        return f"Incident #{view.id} {done.get(action, wanted)}.", "ok"
    by_whom = f" by {who}" if view.status == wanted and who else ""
    return f"Incident #{view.id} was not changed: it is {view.status}{by_whom}.", "warn"


def utc_text(at: datetime, now: datetime) -> str:
    """`14:03 UTC` today, `12 Jan 14:03 UTC` another day, with the year when it is not this one."""
    at = at.astimezone(UTC)
    if at.date() == now.date():
        return at.strftime("%H:%M UTC")
    return at.strftime("%d %b %H:%M UTC" if at.year == now.year else "%d %b %Y %H:%M UTC")


def ago(at: datetime, now: datetime) -> str:
    """`4 min ago`, `2 h 5 min ago`, `3 d 1 h ago`; `in 20 min` for what is still to come."""
    seconds = int((now - at).total_seconds())
    if abs(seconds) < 60:
        return "just now"
    minutes = abs(seconds) // 60
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        text = f"{days} d {hours} h" if hours else f"{days} d"
    elif hours:
        text = f"{hours} h {minutes} min" if minutes else f"{hours} h"
    else:
        text = f"{minutes} min"
    return f"{text} ago" if seconds > 0 else f"in {text}"

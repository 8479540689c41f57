"""The dashboard's audit page: who did what, newest first, with filters and older pages. A page
of the dashboard blueprint (signed in, CSP, CSRF as every other)."""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from pager.flows import audit
from pager.web.dashboard import blueprint
from pager.web.errors import pager

PAGE = 100


@blueprint.get("/audit")
def audit_page() -> ResponseReturnValue:
    before = request.args.get("before", "")
    if before and not (before.isdigit() and 0 < int(before) < 2**62):
        abort(400, "`before` is an entry number.")
    action = request.args.get("action", "")[:60] or None
    actor = request.args.get("actor", "")[:200] or None
    entries = audit.listing(
        pager(), before_id=int(before) if before else None, action=action, actor=actor, limit=PAGE
    )
    older = entries[-1].id if len(entries) == PAGE else None
    return render_template(
        "audit.html", entries=entries, action=action or "", actor=actor or "", older=older
    )

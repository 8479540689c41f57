"""The dashboard's delivery log of outgoing webhooks: what was told to whom, and how it went
(delivered, waiting for a retry and why, or given up). A page of the dashboard blueprint."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from pager.flows import webhooks
from pager.web.dashboard import blueprint
from pager.web.errors import pager

SHOWN = 200


@blueprint.get("/webhooks")
def webhooks_page() -> ResponseReturnValue:
    return render_template(
        "webhooks.html",
        hooks=pager().settings.webhooks,
        log=webhooks.delivery_log(pager(), SHOWN),
    )

"""The HTTP face of the daemon: thin views that authenticate, parse, call one flow, answer."""

from __future__ import annotations

from flask import Flask

from pager.flows.context import Pager
from pager.web import (
    api,
    api_silences,  # noqa: F401  (its views join the api blueprint)
    audit_page,  # noqa: F401  (its page joins the dashboard blueprint)
    calendar,
    dashboard,
    errors,
    heartbeats,
    integrations,
    openapi,  # noqa: F401  (its view joins the api blueprint)
    ops,
    pagerduty,
    people_page,  # noqa: F401  (its pages join the dashboard blueprint)
    providers,
    request_ids,
    sandbox,
    schedule_page,  # noqa: F401  (its pages join the dashboard blueprint)
    verify,
    webhooks_page,  # noqa: F401  (its page joins the dashboard blueprint)
)

MAX_BODY = 1024 * 1024  # 1 MiB: larger bodies get 413


def create_app(pager: Pager) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["pager"] = pager
    app.secret_key = pager.session_key or None
    errors.init_app(app)
    request_ids.init_app(app)
    for blueprint in (
        integrations.blueprint,
        pagerduty.blueprint,
        heartbeats.blueprint,
        providers.blueprint,
        api.blueprint,
        sandbox.blueprint,
        calendar.blueprint,
        dashboard.blueprint,
        ops.blueprint,
        verify.blueprint,
    ):
        app.register_blueprint(blueprint)
    return app

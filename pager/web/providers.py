"""Provider webhooks: inbound SMS, delivery status, keypad digits. Verified before anything."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TypeVar

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from pager import metrics
from pager.flows import feedback, replies
from pager.flows.context import utcnow
from pager.providers.base import Provider, WebhookInvalid, WebRequest, WebResponse
from pager.web.errors import ApiError, pager

blueprint = Blueprint("providers", __name__)
log = logging.getLogger(__name__)
T = TypeVar("T")


def _read(
    name: str, endpoint: str, parse: Callable[[Provider, WebRequest], T]
) -> tuple[Provider, T]:
    """The provider called `name`, and its webhook parsed, once its signature checks out."""
    provider = pager().provider(name)
    if provider is None:
        raise ApiError(404, "unknown_provider", f"no provider named '{name}'")
    # Providers sign the URL they were given: our public URL, not what a proxy shows us.
    query = request.query_string.decode("latin-1")
    url = f"{pager().settings.public_url}{request.path}" + (f"?{query}" if query else "")
    body = request.get_data(cache=True)  # before .form, which would consume the raw body
    web_request = WebRequest(
        url=url,
        method=request.method,
        headers=dict(request.headers.items()),
        form=request.form.to_dict(),
        body=body,
        query=request.args.to_dict(),
    )
    if not provider.verify_webhook(web_request):
        metrics.WEBHOOKS_REJECTED.labels(endpoint, "signature").inc()
        log.warning("event=webhook_signature_invalid provider=%s endpoint=%s", name, endpoint)
        raise ApiError(403, "invalid_signature", f"request is not signed by provider '{name}'")
    # Checked as sent; parsed without NUL characters, which PostgreSQL text cannot hold (a
    # reply "ACK 4821\0" still acks).
    web_request = replace(
        web_request, form=_without_nul(web_request.form), query=_without_nul(web_request.query)
    )
    try:
        return provider, parse(provider, web_request)
    except WebhookInvalid as exc:
        raise ApiError(400, "invalid_webhook", str(exc)) from exc


def _without_nul(fields: Mapping[str, str]) -> dict[str, str]:
    return {k.replace("\0", ""): v.replace("\0", "") for k, v in fields.items()}


def _answer(response: WebResponse) -> Response:
    return Response(response.body, status=response.status, content_type=response.content_type)


# Vonage and MessageBird accounts can be set to deliver inbound SMS as GET (a query string).
@blueprint.route("/providers/<name>/inbound", methods=["GET", "POST"])
def inbound(name: str) -> ResponseReturnValue:
    provider, sms = _read(name, "inbound", lambda p, r: p.parse_inbound(r))
    text = replies.handle_sms(pager(), name, sms, utcnow())
    return _answer(provider.sms_reply(sms, text))


@blueprint.route("/providers/<name>/status", methods=["GET", "POST"])  # MessageBird uses GET
def status(name: str) -> ResponseReturnValue:
    _, update = _read(name, "status", lambda p, r: p.parse_status(r))
    # Unknown attempts get a quiet answer too: the provider must stop retrying.
    feedback.record_status(pager(), name, update, request.args.get("a"), utcnow())
    return Response("", status=204)


@blueprint.post("/providers/<name>/voice")
def voice(name: str) -> ResponseReturnValue:
    provider, pressed = _read(name, "voice", lambda p, r: p.parse_keypad(r))
    said = feedback.keypad(pager(), name, pressed, request.args.get("a"), utcnow())
    return _answer(provider.voice_reply(pressed, said))

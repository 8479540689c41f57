"""Vonage's webhooks: whether one is signed by Vonage, and the fields it carries.

SMS API webhooks (inbound, delivery receipts) are signed with a `sig` over their fields and a
`timestamp`; Voice API and Messages API webhooks (an account whose SMS settings use the
Messages API sends its inbound SMS and statuses that way) carry an HS256 JWT in
`Authorization` with the body's hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import jwt
from vonage import Auth

from pager.domain.jsonbody import JsonRefused, read_json, read_json_object
from pager.domain.phones import from_msisdn
from pager.providers.base import DeliveryState, InboundSms, StatusUpdate, WebhookInvalid, WebRequest

MAX_WEBHOOK_AGE = 300  # seconds: a signed webhook older (or newer) than this is a replay
DIGITS = re.compile(r"[0-9*#]*")

# The `status` of a Messages API status webhook (an account whose SMS settings use the Messages
# API, or messages sent through it). `read` comes after `delivered`.
MESSAGE_STATES: Mapping[str, DeliveryState] = {
    "submitted": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "rejected": "failed",
    "undelivered": "failed",
    "undeliverable": "failed",  # the name in Vonage's messages-olympus spec's status enum
}


def signed_by_vonage(
    request: WebRequest, signatures: Auth, secret: str, api_key: str, now: float
) -> bool:
    """Whether `request` is signed with our signature secret (`signatures`), near `now`."""
    authorization = next(
        (v for k, v in request.headers.items() if k.lower() == "authorization"), ""
    )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token:
        return voice_token_valid(token, secret, api_key, request.body, now)
    try:
        params = webhook_params(request)
    except WebhookInvalid:
        return False
    return sms_signature_valid(signatures, params, now)


def sms_signature_valid(signatures: Auth, params: Mapping[str, Any], now: float) -> bool:
    """Whether `params` carry a `sig` the SDK computes too, over a `timestamp` close to `now`."""
    signature = params.get("sig")
    if not isinstance(signature, str) or not signature:
        return False
    try:
        fresh = abs(now - int(params["timestamp"])) <= MAX_WEBHOOK_AGE
        return fresh and bool(signatures.check_signature(dict(params)))
    # No or a non-numeric timestamp, an infinite one (a JSON 1e400), a non-ASCII sig.
    except (KeyError, TypeError, ValueError, OverflowError):
        return False


def voice_token_valid(token: str, secret: str, api_key: str, payload: bytes, now: float) -> bool:
    """Whether `token` is Vonage's HS256 JWT over `payload` for our account, issued near `now`."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            # Time is checked below against `now`; PyJWT would read the clock itself.
            options={"require": ["iat", "payload_hash"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        return False
    issued, claimed_hash = claims["iat"], claims["payload_hash"]
    if not isinstance(issued, int | float) or not math.isfinite(issued):
        return False
    if abs(now - issued) > MAX_WEBHOOK_AGE:
        return False
    if claims.get("api_key", api_key) != api_key or not isinstance(claimed_hash, str):
        return False
    # Vonage hashes the body as compact JSON; should it ever send it spaced out, so do we.
    bodies = [payload]
    try:
        compact = json.dumps(read_json(payload), separators=(",", ":"), ensure_ascii=False)
        bodies.append(compact.encode())
    except (ValueError, RecursionError):  # not JSON we can read (JsonRefused is a ValueError)
        pass
    hashes = [hashlib.sha256(body).hexdigest() for body in bodies]
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, not False).
    claimed = claimed_hash.lower().encode("utf-8", "surrogatepass")
    return any(hmac.compare_digest(claimed, h.encode()) for h in hashes)


def webhook_params(request: WebRequest) -> dict[str, Any]:
    """A Vonage webhook's fields: from a JSON body, else the form, else the query string."""
    if request.body.lstrip()[:1] == b"{":
        try:
            return read_json_object(request.body, nul="drop")
        except JsonRefused as exc:
            raise WebhookInvalid(f"vonage webhook: {exc}") from None
    return dict(request.form) or dict(request.query)


def required(params: Mapping[str, Any], field: str) -> str:
    """A non-empty webhook field as text, or WebhookInvalid naming it."""
    value = params.get(field)
    if value is None or value == "":
        raise WebhookInvalid(f"vonage webhook: missing field {field!r}")
    return str(value)


def pressed(params: Mapping[str, Any]) -> str:
    """The keys pressed in a call's input webhook; "" when the person pressed nothing."""
    dtmf = params.get("dtmf")
    # Today's webhook has {"digits", "timed_out"}; the older one a plain string.
    keys = (dtmf.get("digits") or "") if isinstance(dtmf, dict) else dtmf
    if not isinstance(keys, str):
        raise WebhookInvalid("vonage webhook: missing field 'dtmf'")
    if not DIGITS.fullmatch(keys):
        raise WebhookInvalid(f"vonage webhook: 'dtmf' digits {keys!r} are not keys")
    return keys


def messages_inbound(params: Mapping[str, object]) -> InboundSms:
    """A Messages API inbound message; only SMS, and its text (other types carry none)."""
    channel = required(params, "channel")
    if channel != "sms":
        raise WebhookInvalid(f"vonage webhook: channel {channel!r} is not sms")
    text = params.get("text") if params.get("message_type", "text") == "text" else ""
    return InboundSms(
        sender=from_msisdn(required(params, "from")),
        recipient=from_msisdn(required(params, "to")),
        body=str(text or ""),
        provider_message_id=required(params, "message_uuid"),
    )


def messages_status(params: Mapping[str, object]) -> StatusUpdate:
    """A Messages API status webhook; a failure's `error.title` is its code (1000s: Vonage's,
    the carrier's otherwise)."""
    raw_status = required(params, "status")
    state = MESSAGE_STATES.get(raw_status)
    if state is None:
        known = ", ".join(MESSAGE_STATES)
        raise WebhookInvalid(f"vonage webhook: unknown status {raw_status!r} (known: {known})")
    error = params.get("error")
    code = str(error.get("title") or "") if isinstance(error, dict) else ""
    return StatusUpdate(
        provider_message_id=required(params, "message_uuid"),
        state=state,
        raw_status=raw_status,
        error_code=code or None,
    )

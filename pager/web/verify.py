"""`/verify/v2`: Twilio Verify v2 on the wire, for the team's own applications (their `twilio`
SDK with `client.verify.base_url` set to pager's `/verify`). HTTP Basic with the service's
token as the password; errors answer Twilio's error JSON."""

from __future__ import annotations

import hmac
import re
from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from pager.config import VerifyService
from pager.flows import verify_api as verify
from pager.flows.context import utcnow
from pager.flows.verify_api import VerificationView, VerifyRefused
from pager.web.errors import pager
from pager.web.sign_in import remote_address

blueprint = Blueprint("verify", __name__, url_prefix="/verify/v2")
_ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
MAX_FIELD = 100  # characters of a form field worth reading


def _error(status: int, code: int, message: str) -> ResponseReturnValue:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return jsonify(body), status


@blueprint.errorhandler(VerifyRefused)
def _refused(exc: VerifyRefused) -> ResponseReturnValue:
    return _error(exc.status, exc.code, exc.message)


@blueprint.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    code = exc.code or 400
    return _error(code, 20404 if code == 404 else 20001, exc.description or "bad request")


def _service(sid: str) -> VerifyService:
    """The service `sid` names when the request carries its token; else 401 (or 404)."""
    auth = request.authorization
    given = (auth.password or "") if auth and auth.type == "basic" else ""
    service = pager().settings.verify_services.get(sid)
    # Compared in constant time, and as long for an unknown service as for a known one.
    expected = service.token if service else "\x00" * 32
    same = hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())
    if service is None or not same:
        raise VerifyRefused(401, 20003, "Authenticate")
    return service


def _account_sid() -> str:
    auth = request.authorization
    username = (auth.username or "") if auth else ""
    return username if _ACCOUNT_SID.fullmatch(username) else "AC" + "0" * 32


def _field(name: str) -> str:
    value = request.form.get(name, "")
    if len(value) > MAX_FIELD:
        raise VerifyRefused(400, 60200, f"Invalid parameter `{name}`: too long")
    return value.strip()


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _verification_url(service_sid: str, sid: str) -> str:
    base = pager().settings.public_url
    return f"{base}/verify/v2/Services/{service_sid}/Verifications/{sid}"


def _verification_json(view: VerificationView) -> dict[str, Any]:
    return {
        "sid": view.sid,
        "service_sid": view.service_sid,
        "account_sid": _account_sid(),
        "to": view.to,
        "channel": view.channel,
        "status": view.status,
        "valid": view.valid,
        "lookup": {},
        "amount": None,
        "payee": None,
        "send_code_attempts": [
            # `delivery` is pager's: how far the outbox got with that code.
            {
                "time": _when(s.at),
                "channel": s.channel,
                "attempt_sid": s.sid,
                "delivery": s.delivery,
            }
            for s in view.sends
        ],
        "date_created": _when(view.created_at),
        "date_updated": _when(view.updated_at),
        "sna": None,
        "url": _verification_url(view.service_sid, view.sid),
    }


def _check_json(view: VerificationView) -> dict[str, Any]:
    return {
        "sid": view.sid,
        "service_sid": view.service_sid,
        "account_sid": _account_sid(),
        "to": view.to,
        "channel": view.channel,
        "status": view.status,
        "valid": view.valid,
        "amount": None,
        "payee": None,
        "date_created": _when(view.created_at),
        "date_updated": _when(view.updated_at),
        "sna_attempts_error_codes": [],
    }


@blueprint.post("/Services/<service_sid>/Verifications")
def create_verification(service_sid: str) -> ResponseReturnValue:
    service = _service(service_sid)
    to, channel = _field("To"), _field("Channel")
    if not to:
        raise VerifyRefused(400, 60200, "Missing required parameter To in the post body")
    if not channel:
        raise VerifyRefused(400, 60200, "Missing required parameter Channel in the post body")
    view = verify.start_verification(pager(), service, to, channel, remote_address(), utcnow())
    return jsonify(_verification_json(view)), 201


@blueprint.post("/Services/<service_sid>/VerificationCheck")
def check_verification(service_sid: str) -> ResponseReturnValue:
    service = _service(service_sid)
    to, sid, code = _field("To"), _field("VerificationSid"), _field("Code")
    view = verify.check_verification(pager(), service, to, sid, code, remote_address(), utcnow())
    return jsonify(_check_json(view)), 200


@blueprint.get("/Services/<service_sid>/Verifications/<sid>")
def fetch_verification(service_sid: str, sid: str) -> ResponseReturnValue:
    service = _service(service_sid)
    view = verify.fetch_verification(pager(), service, sid, utcnow())
    return jsonify(_verification_json(view)), 200


@blueprint.post("/Services/<service_sid>/Verifications/<sid>")
def update_verification(service_sid: str, sid: str) -> ResponseReturnValue:
    service = _service(service_sid)
    status = _field("Status")
    view = verify.update_verification(pager(), service, sid, status, remote_address(), utcnow())
    return jsonify(_verification_json(view)), 200

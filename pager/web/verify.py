"""`/verify/v2`: Twilio Verify v2 on the wire, for the team's own applications (their `twilio`
SDK with `client.verify.base_url` set to pager's `/verify`). HTTP Basic with the service's
token as the password; errors answer Twilio's error JSON."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from pager.config import VerifyService
from pager.domain.body_schema import BodyRefused, BodySchema, Field
from pager.flows import verify_api as verify
from pager.flows.context import utcnow
from pager.flows.verify_api import VerificationView, VerifyRefused
from pager.web.errors import pager
from pager.web.sign_in import remote_address

blueprint = Blueprint("verify", __name__, url_prefix="/verify/v2")
_ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
MAX_FIELD = 100  # characters of a form field worth reading
Form = TypeVar("Form")


@dataclass(frozen=True)
class StartForm:
    to: str
    channel: str


@dataclass(frozen=True)
class CheckForm:
    to: str
    verification_sid: str
    code: str


@dataclass(frozen=True)
class UpdateForm:
    status: str


def _form_field(name: str, attribute: str, *, required: bool = False) -> Field:
    """A form field as Twilio's API takes it: text of at most MAX_FIELD characters; which
    values it may hold is the flow's to say (a service's channels, a status)."""
    says = f"at most {MAX_FIELD} characters"
    return Field(
        name, "text", says, required=required, max_length=MAX_FIELD, default="", attribute=attribute
    )


START = BodySchema(
    StartForm,
    (_form_field("To", "to", required=True), _form_field("Channel", "channel", required=True)),
)
CHECK = BodySchema(
    CheckForm,
    (
        _form_field("To", "to"),
        _form_field("VerificationSid", "verification_sid"),
        _form_field("Code", "code"),
    ),
)
UPDATE = BodySchema(UpdateForm, (_form_field("Status", "status"),))


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


def _form(schema: BodySchema[Form]) -> Form:
    """The request's form as `schema` declares it, each value without its surrounding blanks
    (a blank one is absent); else Twilio's 400 with code 60200."""
    given = {name: value.strip() for name, value in request.form.items() if value.strip()}
    try:
        return schema.read(given)
    except BodyRefused as exc:
        if exc.absent:
            message = f"Missing required parameter {exc.field} in the post body"
        else:
            message = f"Invalid parameter `{exc.field}`: {exc.message}"
        raise VerifyRefused(400, 60200, message) from exc


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
    form = _form(START)
    view = verify.start_verification(
        pager(), service, form.to, form.channel, remote_address(), utcnow()
    )
    return jsonify(_verification_json(view)), 201


@blueprint.post("/Services/<service_sid>/VerificationCheck")
def check_verification(service_sid: str) -> ResponseReturnValue:
    service = _service(service_sid)
    form = _form(CHECK)
    view = verify.check_verification(
        pager(), service, form.to, form.verification_sid, form.code, remote_address(), utcnow()
    )
    return jsonify(_check_json(view)), 200


@blueprint.get("/Services/<service_sid>/Verifications/<sid>")
def fetch_verification(service_sid: str, sid: str) -> ResponseReturnValue:
    service = _service(service_sid)
    view = verify.fetch_verification(pager(), service, sid, utcnow())
    return jsonify(_verification_json(view)), 200


@blueprint.post("/Services/<service_sid>/Verifications/<sid>")
def update_verification(service_sid: str, sid: str) -> ResponseReturnValue:
    service = _service(service_sid)
    status = _form(UPDATE).status
    view = verify.update_verification(pager(), service, sid, status, remote_address(), utcnow())
    return jsonify(_verification_json(view)), 200

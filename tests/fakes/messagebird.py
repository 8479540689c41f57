"""A fake MessageBird REST API on 127.0.0.1 that speaks MessageBird's wire format, for tests.

It answers `POST /messages` and `POST /voicemessages` like MessageBird: JSON in, `Authorization:
AccessKey {key}`, the message object with status 201 out, `{"errors": [{"code", "description",
"parameter"}]}` on failure. After accepting a message that has a `reportUrl` it sends the status
reports itself, as MessageBird does: GET requests to the reportUrl with the report in the query.
It can also post inbound SMS. Every request it makes is signed with a `MessageBird-Signature-JWT`:
an HS256 JWT (iss "MessageBird", nbf, exp, jti) whose `url_hash` is the SHA-256 of the full URL
and whose `payload_hash` is the SHA-256 of the body when there is one.
`GET /messages` lists the SMS, newest first, filtered by `recipient` and `direction`, with the
`reference` each was sent with. `stall_next` takes a message but answers too late for the
client (a timeout after the send).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from werkzeug.wrappers import Request, Response

from tests.fakes.twilio import _LocalServer

DEFAULT_ACCESS_KEY = "live_" + "0f" * 10
DEFAULT_SIGNING_KEY = "sk_" + "5d1e" * 10  # 43 bytes: PyJWT warns below 32
MSISDN = re.compile(r"^[1-9]\d{6,14}$")
TOKEN_LIFETIME = 300  # seconds between nbf and exp in the fake's tokens
SMS_END_STATUSES = frozenset({"delivered", "expired", "delivery_failed"})
VOICE_END_STATUSES = frozenset({"answered", "failed"})
STOPPED_ERROR = 103  # statusErrorCode MessageBird reports when the person texted STOP (courier)

Message = dict[str, Any]


class FakeMessageBird(_LocalServer):
    """The MessageBird SMS and Voice Messaging APIs for one account; see the module docstring."""

    def __init__(
        self,
        access_key: str = DEFAULT_ACCESS_KEY,
        signing_key: str = DEFAULT_SIGNING_KEY,
        *,
        auto_status: str | None = "delivered",
    ) -> None:
        super().__init__()
        self.access_key = access_key
        self.signing_key = signing_key
        self.auto_status = auto_status  # final SMS status to report; calls report "answered"
        self.fail_status: str | None = None  # report this final status instead
        self.fail_error = (str(STOPPED_ERROR), "recipient sent STOP")  # an SMS failure's code
        self.fail_next = 0  # answer this many next create requests with fail_next_as
        self.fail_next_as: tuple[int, int] = (500, 99)  # (HTTP status, MessageBird error code)
        self.messages: list[Message] = []  # every SMS accepted: its "id" and the JSON received
        self.calls: list[Message] = []  # every voice message accepted
        self.callbacks: list[dict[str, Any]] = []  # every report sent, and the answer
        self._objects: list[Message] = []  # the SMS as MessageBird answers them, oldest first
        self._posting: list[threading.Thread] = []

    def stop(self) -> None:
        super().stop()
        for thread in list(self._posting):
            thread.join(timeout=10)

    def wait_for_messages(self, n: int, timeout: float = 10) -> list[Message]:
        return self._wait_for(self.messages, n, timeout, "messages")

    def wait_for_calls(self, n: int, timeout: float = 10) -> list[Message]:
        return self._wait_for(self.calls, n, timeout, "calls")

    # MessageBird's requests to the application

    def signature(self, url: str, body: bytes = b"", *, now: float | None = None) -> str:
        """The MessageBird-Signature-JWT for a request to `url` with `body`."""
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": "MessageBird",
            "nbf": issued,
            "exp": issued + TOKEN_LIFETIME,
            "jti": str(uuid.uuid4()),
            "url_hash": hashlib.sha256(url.encode()).hexdigest(),
        }
        if body:
            claims["payload_hash"] = hashlib.sha256(body).hexdigest()
        return jwt.encode(claims, self.signing_key, algorithm="HS256")

    def get_signed(self, url: str, params: dict[str, str]) -> requests.Response:
        """GET `url` with `params` added to its query, as MessageBird sends status reports."""
        full = url + ("&" if "?" in url else "?") + urlencode(params)
        headers = {"MessageBird-Signature-JWT": self.signature(full)}
        return requests.get(full, headers=headers, timeout=10)

    def post_signed(
        self, url: str, params: dict[str, str], *, now: float | None = None
    ) -> requests.Response:
        """POST `params` form-encoded to `url`, signed over the URL and the body."""
        body = urlencode(params).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "MessageBird-Signature-JWT": self.signature(url, body, now=now),
        }
        return requests.post(url, data=body, headers=headers, timeout=10)

    def send_inbound_sms(
        self, url: str, from_: str, to: str, body: str, *, now: float | None = None
    ) -> requests.Response:
        """Post the inbound SMS webhook for an SMS from `from_` to our number `to`."""
        params = {
            "id": secrets.token_hex(16),
            "originator": from_.lstrip("+"),
            "recipient": to.lstrip("+"),
            "body": body,
            "createdDatetime": _now(),
        }
        return self.post_signed(url, params, now=now)

    def report(self, message: Message, status: str) -> requests.Response:
        """Send the status report of `message` (one of `messages` or `calls`) with `status`."""
        params = {
            "id": message["id"],
            "reference": "",
            "recipient": str(message["recipients"][0]),
            "status": status,
            "statusDatetime": _now(),
        }
        if message in self.messages:
            params.update({"mccmnc": "23410", "ported": "0", "price[amount]": "0.070"})
            params["price[currency]"] = "EUR"
            if status in ("delivery_failed", "expired"):
                params["statusErrorCode"], params["statusReason"] = self.fail_error
        return self.get_signed(message["reportUrl"], params)

    # The REST API

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        listing = request.method == "GET" and request.path == "/messages"
        creating = request.method == "POST" and request.path in ("/messages", "/voicemessages")
        if not (listing or creating):
            return _error(404, 20, "resource not found", None)
        if request.headers.get("Authorization") != f"AccessKey {self.access_key}":
            return _error(401, 2, "Request not allowed (incorrect access_key)", "access_key")
        if listing:
            return self._list(request)
        response = self._create(request)
        if response.status_code == 201:
            self._late("stall_next")
        return response

    def _list(self, request: Request) -> Response:
        """List SMS, newest first, filtered by recipient and direction, `limit` of them."""
        query = request.args.to_dict()
        self._append(self.searches, query)
        recipient, direction = query.get("recipient"), query.get("direction")
        limit = int(query.get("limit") or 20)
        with self._changed:
            found = [
                m
                for m in reversed(self._objects)
                if (not recipient or any(str(i["recipient"]) == recipient for i in _items(m)))
                and (not direction or m.get("direction") == direction)
            ]
        body = {
            "offset": 0,
            "limit": limit,
            "count": len(found[:limit]),
            "totalCount": len(found),
            "links": {"first": None, "previous": None, "next": None, "last": None},
            "items": found[:limit],
        }
        return Response(json.dumps(body), status=200, content_type="application/json")

    def _create(self, request: Request) -> Response:
        with self._changed:
            if self.fail_next > 0:
                self.fail_next -= 1
                status, code = self.fail_next_as
                return _error(status, code, "Internal error (fake)", None)
        try:
            fields = json.loads(request.get_data())
        except ValueError:
            return _error(400, 21, "Bad request (invalid JSON)", None)
        recipients = [str(r) for r in fields.get("recipients") or []]
        if not recipients or not all(MSISDN.match(r) for r in recipients):
            return _error(422, 9, "no (correct) recipients found", "recipients")
        if not fields.get("originator"):
            return _error(422, 9, "originator is required", "originator")
        if not fields.get("body"):
            return _error(422, 9, "body is required", "body")
        if request.path == "/messages":
            return self._accept(self.messages, "sms", fields, recipients, "sent")
        return self._accept(self.calls, "voice", fields, recipients, "calling")

    def _accept(
        self, kept: list[Message], kind: str, fields: Message, recipients: list[str], status: str
    ) -> Response:
        """Record the message, answer 201 with MessageBird's object, then send its reports."""
        message_id = secrets.token_hex(16)
        now = _now()
        resource = "messages" if kind == "sms" else "voicemessages"
        items = [{"recipient": int(r), "status": status, "statusDatetime": now} for r in recipients]
        message = {
            "id": message_id,
            "href": f"https://rest.messagebird.com/{resource}/{message_id}",
            "reference": None,
            "scheduledDatetime": None,
            "createdDatetime": now,
            **fields,
            "recipients": {
                "totalCount": len(items),
                "totalSentCount": len(items),
                "totalDeliveredCount": 0,
                "totalDeliveryFailedCount": 0,
                "items": items,
            },
        }
        if kind == "sms":
            message.update({"direction": "mt", "type": "sms", "datacoding": "plain", "mclass": 1})
            self._append(self._objects, message)
        received = {"id": message_id, **fields}
        self._append(kept, received)
        response = Response(json.dumps(message), status=201, content_type="application/json")
        if fields.get("reportUrl") and (self.auto_status or self.fail_status):
            # Start only once the 201 is written, as MessageBird's reports come after its answer.
            response.call_on_close(lambda: self._in_background(received))
        return response

    def _in_background(self, message: Message) -> None:
        thread = threading.Thread(
            target=self._report_all, args=(message,), name="fake-messagebird-reports", daemon=True
        )
        self._posting.append(thread)
        thread.start()

    def _report_all(self, message: Message) -> None:
        if message in self.messages:
            final = self.fail_status or self.auto_status or "sent"
            statuses = ["sent", final if final in SMS_END_STATUSES else "delivery_failed"]
        else:
            final = self.fail_status or "answered"
            statuses = [final if final in VOICE_END_STATUSES else "failed"]
        for status in statuses:
            record: dict[str, Any] = {"url": message["reportUrl"], "status": status}
            try:
                record["status_code"] = self.report(message, status).status_code
            except requests.RequestException as exc:
                record["error"] = f"{type(exc).__name__}: {exc}"
            self._append(self.callbacks, record)


def _items(message: Message) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = message["recipients"]["items"]
    return items


def _error(status: int, code: int, description: str, parameter: str | None) -> Response:
    body = {"errors": [{"code": code, "description": description, "parameter": parameter}]}
    return Response(json.dumps(body), status=status, content_type="application/json")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")  # as MessageBird dates them

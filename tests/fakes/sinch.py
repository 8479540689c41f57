"""A fake Sinch SMS REST API on 127.0.0.1 that speaks Sinch's wire format, for tests.

pager reaches it through Sinch's own SDK (`sinch`), pointed here by the provider's `base_url`.
It answers `POST /xms/v1/{service_plan_id}/batches` like Sinch: a JSON batch in, `Authorization:
Bearer {api_token}`, the batch with its `id` and status 201 out, Sinch's error JSON on failure
(`{"code", "text"}` for the SMS API's 400 and 403; `fail_next_body` stands for a gateway's page
that is no JSON at all). Where each shape comes from: tests/conformance/README.md.
For a batch with `delivery_report: per_recipient` and a `callback_url` it then posts the
recipient delivery reports itself, and it can post inbound SMS (`mo_text`) callbacks. Callbacks
are signed as Sinch signs them (x-sinch-webhook-signature, -nonce, -timestamp, -algorithm)
when the fake has a webhook secret, and unsigned otherwise, as Sinch sends them by default.
`GET /xms/v1/{service_plan_id}/batches` lists the batches, filtered by `client_reference` and
`start_date` (an ISO-8601 instant with its zone). `stall_next` takes a batch but answers too
late for the client (a timeout after the send); `lose_next` answers too late and never takes it.

`WebhookBodySink` stands in for our daemon when a test needs the raw body of a webhook.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from pager.providers.base import WebRequest
from tests.fakes.twilio import WebhookSink, _LocalServer

DEFAULT_SERVICE_PLAN_ID = "jd63jf88477ll123ab4567cd89012ef"
DEFAULT_API_TOKEN = "7f3a" * 8
MSISDN = re.compile(r"^\+?[1-9]\d{6,14}$")
FINAL_STATUSES = frozenset(
    {"Delivered", "Failed", "Aborted", "Rejected", "Deleted", "Expired", "Cancelled", "Unknown"}
)
DISPATCHED_CODE = 401  # Sinch's REST code for Dispatched; Queued is 400
FAILED_CODE = 402  # a REST failure code from Sinch's 400-418 range, for the failure statuses
ULID_ALPHABET = string.digits + "ABCDEFGHJKMNPQRSTVWXYZ"  # Sinch's batch ids are ULIDs

Batch = dict[str, Any]


class FakeSinch(_LocalServer):
    """The Sinch SMS REST API for one service plan; see the module docstring."""

    def __init__(
        self,
        service_plan_id: str = DEFAULT_SERVICE_PLAN_ID,
        api_token: str = DEFAULT_API_TOKEN,
        *,
        webhook_secret: str | None = None,
        auto_status: str | None = "Delivered",
    ) -> None:
        super().__init__()
        self.service_plan_id = service_plan_id
        self.api_token = api_token
        self.webhook_secret = webhook_secret  # None: callbacks go unsigned
        self.auto_status = auto_status  # final status to report; None: report nothing
        self.fail_next = 0  # answer this many next batches with fail_next_as
        self.fail_next_as: tuple[int, str] = (500, "internal_error")  # (HTTP status, code)
        self.fail_next_body: str | None = None  # an error page instead of Sinch's error JSON
        self.messages: list[Batch] = []  # every batch accepted, with its "id"
        self.callbacks: list[dict[str, Any]] = []  # every callback posted, and the answer
        self._posting: list[threading.Thread] = []

    def stop(self) -> None:
        super().stop()
        for thread in list(self._posting):
            thread.join(timeout=10)

    def wait_for_messages(self, n: int, timeout: float = 10) -> list[Batch]:
        return self._wait_for(self.messages, n, timeout, "messages")

    def wait_for_callbacks(self, n: int, timeout: float = 10) -> list[dict[str, Any]]:
        return self._wait_for(self.callbacks, n, timeout, "callbacks posted")

    # Sinch's requests to the application

    def post_callback(
        self, url: str, event: dict[str, Any], *, timestamp: int | None = None
    ) -> requests.Response:
        """POST `event` as JSON to `url` as Sinch does, signed when the fake has a secret."""
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret is not None:
            headers.update(sign(self.webhook_secret, body, timestamp=timestamp))
        return requests.post(url, data=body, headers=headers, timeout=10)

    def send_inbound_sms(
        self, url: str, from_: str, to: str, body: str, *, timestamp: int | None = None
    ) -> requests.Response:
        """Post Sinch's `mo_text` callback for an SMS from `from_` to our number `to`."""
        now = _now()
        event = {
            "type": "mo_text",
            "id": _ulid(),
            "from": from_.lstrip("+"),  # Sinch writes MSISDNs without the +
            "to": to.lstrip("+"),
            "body": body,
            "received_at": now,
            "sent_at": now,
            "operator_id": "23410",
        }
        return self.post_callback(url, event, timestamp=timestamp)

    def report(self, batch: Batch, status: str) -> requests.Response:
        """Post the `recipient_delivery_report_sms` of `batch` with `status`."""
        code = 0 if status == "Delivered" else FAILED_CODE
        code = DISPATCHED_CODE if status == "Dispatched" else code
        event = {
            "type": "recipient_delivery_report_sms",
            "batch_id": batch["id"],
            "recipient": batch["to"][0].lstrip("+"),
            "code": code,
            "status": status,
            "at": _now(),
            "operator_status_at": _now(),
        }
        return self.post_callback(batch["callback_url"], event)

    # The REST API

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        match = re.fullmatch(r"/xms/v1/([^/]+)/batches", request.path)
        if request.method not in ("GET", "POST") or match is None:
            return _error(404, "not_found", f"The resource {request.path} was not found")
        if request.headers.get("Authorization") != f"Bearer {self.api_token}":
            # Sinch's shared authentication error, not the SMS API's {"code", "text"}.
            body = {
                "type": "https://developers.sinch.com/docs/errors/registry/invalid-credentials",
                "title": "Invalid credentials",
                "detail": "The provided credentials are invalid.",
            }
            return Response(json.dumps(body), status=401, content_type="application/json")
        if match.group(1) != self.service_plan_id:
            return _error(403, "unknown_service_plan", "Unknown service plan")
        if request.method == "GET":
            return self._list_batches(request)
        if self._late("lose_next"):
            return _error(503, "service_unavailable", "The request was lost (fake)")
        with self._changed:
            if self.fail_next > 0:
                self.fail_next -= 1
                status, code = self.fail_next_as
                if self.fail_next_body is not None:
                    return Response(self.fail_next_body, status=status, content_type="text/html")
                return _error(status, code, "Internal error (fake)")
        try:
            batch = json.loads(request.get_data())
        except ValueError:
            return _error(400, "syntax_invalid_json", "The JSON in the request is invalid")
        response = self._create_batch(batch)
        if response.status_code == 201:
            self._late("stall_next")
        return response

    def _list_batches(self, request: Request) -> Response:
        """List batches, newest first, filtered by client_reference and start_date (Sinch's
        default start: 24 hours ago), one page of page_size."""
        query = request.args.to_dict()
        self._append(self.searches, query)
        reference = query.get("client_reference")
        try:
            start = _instant(query["start_date"]) if "start_date" in query else None
        except ValueError:
            return _error(400, "syntax_invalid_parameter_format", "Invalid start_date")
        size = int(query.get("page_size") or 30)
        with self._changed:
            found = [
                b
                for b in reversed(self.messages)
                if (reference is None or b.get("client_reference") == reference)
                and (start is None or _instant(b["created_at"]) >= start)
            ]
        body = {"count": len(found), "page": 0, "page_size": size, "batches": found[:size]}
        return Response(json.dumps(body), status=200, content_type="application/json")

    def _create_batch(self, batch: Batch) -> Response:
        recipients = batch.get("to")
        if not isinstance(recipients, list) or not recipients or not batch.get("body"):
            return _error(400, "syntax_constraint_violation", "to and body are required")
        bad = [to for to in recipients if not MSISDN.match(str(to))]
        if bad:
            return _error(
                400, "syntax_invalid_parameter_format", f"Invalid MSISDN: {', '.join(bad)}"
            )
        now = _now()
        created = {
            "id": _ulid(),
            "type": "mt_text",
            "canceled": False,
            "created_at": now,
            "modified_at": now,
            "delivery_report": "none",
            "flash_message": False,
            **batch,
        }
        self._append(self.messages, created)
        response = Response(json.dumps(created), status=201, content_type="application/json")
        if created["delivery_report"] == "per_recipient" and created.get("callback_url"):
            # Start only once the 201 is written, as Sinch's reports come after its answer.
            response.call_on_close(lambda: self._in_background(created))
        return response

    def _in_background(self, batch: Batch) -> None:
        if self.auto_status is None:
            return
        thread = threading.Thread(
            target=self._report_batch, args=(batch,), name="fake-sinch-reports", daemon=True
        )
        self._posting.append(thread)
        thread.start()

    def _report_batch(self, batch: Batch) -> None:
        final = self.auto_status if self.auto_status in FINAL_STATUSES else "Failed"
        for status in ("Dispatched", final):
            record: dict[str, Any] = {"url": batch["callback_url"], "status": status}
            try:
                record["status_code"] = self.report(batch, status).status_code
            except requests.RequestException as exc:
                record["error"] = f"{type(exc).__name__}: {exc}"
            self._append(self.callbacks, record)


class WebhookBodySink(WebhookSink):
    """`WebhookSink` that also keeps the raw body, and the URL as our daemon rebuilds it
    (base URL + path + the query string as sent), which is what JSON webhooks are signed over."""

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        query = environ.get("QUERY_STRING", "")
        body = request.get_data()  # before .form: parsing a form leaves nothing to get_data
        seen = WebRequest(
            url=f"{self.base_url}{request.path}" + (f"?{query}" if query else ""),
            method=request.method,
            headers=dict(request.headers),
            form=request.form.to_dict(),
            body=body,
            query=request.args.to_dict(),
        )
        self._append(self.received, seen)
        return Response("", status=200)(environ, start_response)


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers Sinch adds to a signed callback: HMAC-SHA256 over body.nonce.timestamp."""
    nonce = secrets.token_urlsafe(18)
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signed = body + b"." + nonce.encode() + b"." + stamp.encode()
    signature = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest())
    return {
        "x-sinch-webhook-signature": signature.decode(),
        "x-sinch-webhook-signature-nonce": nonce,
        "x-sinch-webhook-signature-timestamp": stamp,
        "x-sinch-webhook-signature-algorithm": "HmacSHA256",
    }


def _error(status: int, code: str, text: str) -> Response:
    body = {"code": code, "text": text}
    return Response(json.dumps(body), status=status, content_type="application/json")


def _ulid() -> str:
    return "01" + "".join(secrets.choice(ULID_ALPHABET) for _ in range(24))


def _instant(iso: str) -> datetime:
    """An ISO-8601 instant with its zone (`Z` or an offset); ValueError for anything else."""
    instant = datetime.fromisoformat(iso)
    if instant.tzinfo is None:
        raise ValueError(f"no time zone in {iso!r}")
    return instant


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

"""A fake Twilio REST API on 127.0.0.1 that speaks Twilio's wire format, for tests.

The official SDK talks to it unchanged (`client.api.base_url = fake.base_url`). It answers
`POST /2010-04-01/Accounts/{AccountSid}/Messages.json` and `.../Calls.json` like Twilio: form
fields in, HTTP basic auth, a JSON resource with status 201 out, Twilio's error JSON on failure.
After accepting a message or call it posts the status callbacks itself, signed with
X-Twilio-Signature as Twilio signs them, and it can post inbound SMS and keypad callbacks.
`GET .../Messages.json` reads the messages it took, newest first, filtered by `To` and `From`.
`stall_next` takes a message but answers too late for the client (a timeout after the send);
`lose_next` answers too late and never takes it.

`WebhookSink` stands in for our daemon's webhook endpoints when a test needs to see what Twilio
would post.
"""

from __future__ import annotations

import errno
import json
import random
import re
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Self

import phonenumbers
import requests
from twilio.request_validator import RequestValidator
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from pager.providers.base import WebRequest

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "0f" * 16
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Final statuses; a fail_status that is not one of a kind becomes that kind's plain failure.
SMS_END_STATUSES = frozenset({"sent", "delivered", "read", "undelivered", "failed"})
CALL_END_STATUSES = frozenset({"completed", "busy", "no-answer", "canceled", "failed"})
UNDELIVERED_ERROR = "30003"  # Twilio: "Unreachable destination handset"
SID_PREFIXES = {"Messages": "SM", "Calls": "CA"}
SUBRESOURCES = {"Messages": "Media", "Calls": "Recordings"}
PORTS = range(20000, 32000)  # below the ephemeral range (32768-60999) of these machines

Form = dict[str, Any]  # str values, or list[str] for a field sent more than once
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def bind_local_port() -> socket.socket:
    """A listening TCP socket on 127.0.0.1 at a free port below the ephemeral range."""
    for _ in range(100):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", random.choice(PORTS)))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                continue
            raise
        sock.listen(64)
        return sock
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop} after 100 tries")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def serve_in_background(app: WsgiApp) -> BaseWSGIServer:
    """Serve the WSGI `app` on 127.0.0.1 from a daemon thread; stop with `stop_server`."""
    sock = bind_local_port()
    try:
        # werkzeug exits the process when it cannot bind, so it gets a socket already bound.
        server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler, fd=sock.fileno()
        )
    finally:
        sock.close()  # the server holds its own duplicate
    # A short poll so that stop_server returns at once (the default poll is half a second).
    serve = threading.Thread(
        target=server.serve_forever, args=(0.01,), name=f"fake:{server.port}", daemon=True
    )
    serve.start()
    return server


def stop_server(server: BaseWSGIServer) -> None:
    server.shutdown()
    server.server_close()


class _LocalServer:
    """A WSGI app served on 127.0.0.1 that records what it sees in lists other threads can wait
    on (bounded waits on a condition, never fixed sleeps). Also a context manager."""

    def __init__(self) -> None:
        self.base_url = ""
        # Take this many next sends, then keep the answer back for `stall_seconds`: the client
        # times out not knowing that the provider has the message (fakes that offer it).
        self.stall_next = 0
        # Keep this many next sends waiting for `stall_seconds`, then drop them untaken.
        self.lose_next = 0
        self.stall_seconds = 5.0
        self.searches: list[dict[str, str]] = []  # the query of every request that lists sends
        self._changed = threading.Condition()
        self._released = threading.Event()
        self._server: BaseWSGIServer | None = None

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raise NotImplementedError

    def start(self) -> Self:
        self._server = serve_in_background(self._wsgi)
        self.base_url = f"http://127.0.0.1:{self._server.port}"
        return self

    def stop(self) -> None:
        self._released.set()  # a late answer must not hold the server's shutdown
        if self._server is not None:
            stop_server(self._server)
            self._server = None

    def _late(self, which: str) -> bool:
        """Whether this answer is to come late (`stall_next` or `lose_next` says so); if it
        is, wait for `stall_seconds` first."""
        with self._changed:
            late = getattr(self, which) > 0
            if late:
                setattr(self, which, getattr(self, which) - 1)
        if late:
            self._released.wait(self.stall_seconds)
        return late

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _append(self, items: list[Any], item: Any) -> None:
        with self._changed:
            items.append(item)
            self._changed.notify_all()

    def _wait_for(self, items: list[Any], n: int, timeout: float, what: str) -> list[Any]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(items) >= n, timeout):
                raise AssertionError(f"expected {n} {what} within {timeout}s, got {len(items)}")
            return list(items)


class FakeTwilio(_LocalServer):
    """A Twilio REST API for one account; see the module docstring."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        auto_status: str | None = "delivered",
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.auto_status = auto_status  # final SMS status to report; calls report "completed"
        self.fail_status: str | None = None  # report this final status instead (error 30003)
        self.fail_next = 0  # answer this many next create requests with fail_next_as
        self.fail_next_as: tuple[int, int] = (500, 20500)  # (HTTP status, Twilio error code)
        self.messages: list[Form] = []
        self.calls: list[Form] = []
        self.callbacks: list[dict[str, Any]] = []  # every webhook this fake posted, and answer
        self._resources: list[dict[str, Any]] = []  # Message resources, oldest first
        self._validator = RequestValidator(auth_token)
        self._posting: list[threading.Thread] = []

    def stop(self) -> None:
        super().stop()
        for thread in list(self._posting):
            thread.join(timeout=10)

    def wait_for_messages(self, n: int, timeout: float = 10) -> list[Form]:
        return self._wait_for(self.messages, n, timeout, "messages")

    def wait_for_calls(self, n: int, timeout: float = 10) -> list[Form]:
        return self._wait_for(self.calls, n, timeout, "calls")

    def wait_for_message(
        self, wanted: Callable[[Form], bool], after: int = 0, timeout: float = 10
    ) -> Form:
        """The first message after the first `after` that `wanted` says yes to, waiting for
        it: others (a page that lands meanwhile) may come before it."""

        def found() -> Form | None:
            return next((m for m in self.messages[after:] if wanted(m)), None)

        with self._changed:
            if not self._changed.wait_for(lambda: found() is not None, timeout):
                raise AssertionError(f"no such message within {timeout}s: {self.messages}")
            message = found()
            assert message is not None
            return message

    def wait_for_callbacks(self, n: int, timeout: float = 10) -> list[dict[str, Any]]:
        return self._wait_for(self.callbacks, n, timeout, "callbacks posted")

    # Twilio's requests to the application

    def post_signed(self, url: str, params: dict[str, str]) -> requests.Response:
        """POST `params` to `url` as Twilio does, with a correct X-Twilio-Signature."""
        signature = self._validator.compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        return requests.post(url, data=params, headers=headers, timeout=10)

    def send_inbound_sms(self, url: str, from_: str, to: str, body: str) -> requests.Response:
        """Post Twilio's incoming-message webhook for an SMS from `from_` to our number `to`."""
        sid = "SM" + secrets.token_hex(16)
        return self.post_signed(url, inbound_sms_form(self.account_sid, sid, from_, to, body))

    def press_keys(self, url: str, call_sid: str, digits: str) -> requests.Response:
        """Post the <Gather> action callback of call `call_sid` with `digits` pressed."""
        call = next((c for c in self.calls if c["sid"] == call_sid), {})
        return self.post_signed(
            url,
            {
                **self._call_params(call_sid, call, "in-progress"),
                "Digits": digits,
                "FinishedOnKey": "",
                "msg": "Gather End",
            },
        )

    def _call_params(self, sid: str, call: Form, status: str) -> dict[str, str]:
        """The fields Twilio puts in every voice webhook of an outbound API call."""
        ours, theirs = call.get("From", ""), call.get("To", "")
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": sid,
            "CallStatus": status,
            "Called": theirs,
            "Caller": ours,
            "Direction": "outbound-api",
            "From": ours,
            "To": theirs,
        }

    # The REST API

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        match = re.fullmatch(
            rf"/{API_VERSION}/Accounts/([^/]+)/(Messages|Calls)\.json", request.path
        )
        if request.method not in ("GET", "POST") or match is None:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.account_sid, self.auth_token):
            response = _error(401, 20003, "Authenticate")
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        if match.group(1) != self.account_sid:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        if request.method == "GET":
            if match.group(2) != "Messages":
                return _error(404, 20404, f"The requested resource {request.path} was not found")
            return self._list_messages(request)
        if self._late("lose_next"):
            return _error(503, 20503, "Service Unavailable (fake): the request was lost")
        with self._changed:
            if self.fail_next > 0:
                self.fail_next -= 1
                status, code = self.fail_next_as
                return _error(status, code, "Internal Server Error (fake)")
        form: Form = {k: v[0] if len(v) == 1 else v for k, v in request.form.lists()}
        if match.group(2) == "Messages":
            response = self._create_message(form)
        else:
            response = self._create_call(form)
        if response.status_code == 201:
            self._late("stall_next")
        return response

    def _list_messages(self, request: Request) -> Response:
        """Read Messages, newest first, filtered by To and From, as Twilio pages them."""
        query = request.args.to_dict()
        self._append(self.searches, query)
        to, from_ = query.get("To"), query.get("From")
        size = min(int(query.get("PageSize") or 50), 1000)
        with self._changed:
            found = [
                m
                for m in reversed(self._resources)
                if (not to or m["to"] == to) and (not from_ or m["from"] == from_)
            ][:size]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        body = {
            "messages": found,
            "end": max(len(found) - 1, 0),
            "first_page_uri": f"{uri}?PageSize={size}&Page=0",
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": f"{uri}?PageSize={size}&Page=0",
        }
        return Response(json.dumps(body), status=200, content_type="application/json")

    def _create_message(self, form: Form) -> Response:
        to, body = form.get("To", ""), form.get("Body", "")
        problem = _first_problem(
            (not to, 21604, "A 'To' phone number is required."),
            (not E164.match(to), 21211, f"The 'To' number {to} is not a valid phone number."),
            (not form.get("From"), 21603, "A 'From' phone number is required."),
            (not body, 21602, "Message body is required."),
            (len(body) > 1600, 21617, "The concatenated message body exceeds 1600 characters."),
        )
        fields = {
            "body": body,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": _segments(body),
        }
        return problem or self._accept("Messages", form, fields, self._report_message)

    def _create_call(self, form: Form) -> Response:
        to = form.get("To", "")
        instructions = form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")
        problem = _first_problem(
            (not to, 21201, "No 'To' number is specified"),
            (not E164.match(to), 21211, f"The 'To' number {to} is not a valid phone number."),
            (not form.get("From"), 21213, "No 'From' number is specified"),
            (not instructions, 21200, "Url, Twiml or ApplicationSid is required"),
        )
        fields = {
            "annotation": None,
            "answered_by": None,
            "caller_name": None,
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from_formatted": form.get("From"),
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": "PN" + "0" * 32,
            "queue_time": "0",
            "start_time": None,
            "to_formatted": to,
            "trunk_sid": None,
        }
        return problem or self._accept("Calls", form, fields, self._report_call)

    def _accept(
        self, kind: str, form: Form, fields: dict[str, Any], report: Callable[[str, Form], None]
    ) -> Response:
        """Record the Message or Call, answer 201 with its resource, then post its callbacks."""
        sid = SID_PREFIXES[kind] + secrets.token_hex(16)
        self._append(self.messages if kind == "Messages" else self.calls, {"sid": sid, **form})
        now = _now()
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/{kind}/{sid}"
        resource = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "from": form["From"],
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {SUBRESOURCES[kind].lower(): f"{uri}/{SUBRESOURCES[kind]}.json"},
            "to": form["To"],
            "uri": f"{uri}.json",
            **fields,
        }
        if kind == "Messages":
            self._append(self._resources, resource)
        response = Response(json.dumps(resource), status=201, content_type="application/json")
        if form.get("StatusCallback") and (self.auto_status or self.fail_status):
            # Start only once the 201 is written, as Twilio's callbacks come after its answer.
            response.call_on_close(lambda: self._in_background(lambda: report(sid, form)))
        return response

    def _in_background(self, post: Callable[[], None]) -> None:
        thread = threading.Thread(target=post, name="fake-twilio-callbacks", daemon=True)
        self._posting.append(thread)
        thread.start()

    # Status callbacks

    def _report_message(self, sid: str, message: Form) -> None:
        final = self.fail_status or self.auto_status or "sent"
        if final not in SMS_END_STATUSES:
            final = "undelivered"  # a call word such as "no-answer"
        statuses = [final] if final in ("sent", "failed") else ["sent", final]
        for status in statuses:
            params = {
                "AccountSid": self.account_sid,
                "ApiVersion": API_VERSION,
                "From": message["From"],
                "MessageSid": sid,
                "MessageStatus": status,
                "SmsSid": sid,
                "SmsStatus": status,
                "To": message["To"],
            }
            if status in ("failed", "undelivered"):
                params["ErrorCode"] = UNDELIVERED_ERROR
            if status == "delivered":
                params["RawDlrDoneDate"] = datetime.now(UTC).strftime("%y%m%d%H%M")
            self._post_callback(message["StatusCallback"], params)

    def _report_call(self, sid: str, call: Form) -> None:
        final = self.fail_status or "completed"
        if final not in CALL_END_STATUSES:
            final = "failed"  # an SMS word such as "undelivered"
        events = call.get("StatusCallbackEvent") or ["completed"]
        events = [events] if isinstance(events, str) else events
        progress = [("initiated", "initiated"), ("ringing", "ringing")]
        if final == "completed":
            progress.append(("answered", "in-progress"))
        progress.append(("completed", final))
        wanted = [status for event, status in progress if event in events]
        for number, status in enumerate(wanted):
            params = {
                **self._call_params(sid, call, status),
                "CallbackSource": "call-progress-events",
                "SequenceNumber": str(number),
                "Timestamp": _now(),
            }
            if status in CALL_END_STATUSES:
                params["CallDuration"] = "12" if status == "completed" else "0"
            self._post_callback(call["StatusCallback"], params)

    def _post_callback(self, url: str, params: dict[str, str]) -> None:
        record: dict[str, Any] = {"url": url, "params": params}
        try:
            record["status_code"] = self.post_signed(url, params).status_code
        except requests.RequestException as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
        self._append(self.callbacks, record)


class WebhookSink(_LocalServer):
    """A stand-in for our daemon's webhook endpoints: records every request, answers 200."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[WebRequest] = []

    def wait_for(self, n: int, timeout: float = 10) -> list[WebRequest]:
        return self._wait_for(self.received, n, timeout, "webhook requests")

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        seen = WebRequest(
            url=request.url,
            method=request.method,
            headers=dict(request.headers),
            form=request.form.to_dict(),
            query=request.args.to_dict(),
        )
        self._append(self.received, seen)
        response = Response("<Response/>", content_type="application/xml")
        return response(environ, start_response)


def _error(status: int, code: int, message: str) -> Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(json.dumps(body), status=status, content_type="application/json")


def _first_problem(*checks: tuple[bool, int, str]) -> Response | None:
    """Twilio's 400 answer for the first failed check, as it reports one problem at a time."""
    for failed, code, message in checks:
        if failed:
            return _error(400, code, message)
    return None


def _now() -> str:
    return format_datetime(datetime.now(UTC))  # RFC 2822, as Twilio dates its resources


def _segments(body: str) -> str:
    """Roughly Twilio's count: ASCII as GSM-7 (160, or 153 a part), else UCS-2 (70, or 67)."""
    single, part = (160, 153) if body.isascii() else (70, 67)
    return "1" if len(body) <= single else str(-(-len(body) // part))


def _country(number: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""


def inbound_sms_form(account_sid: str, sid: str, from_: str, to: str, body: str) -> dict[str, str]:
    """The form of Twilio's incoming-message webhook, field for field as Twilio posts it
    (https://www.twilio.com/docs/messaging/guides/webhook-request)."""
    return {
        "ToCountry": _country(to),
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": _country(from_),
        "To": to,
        "ToZip": "",
        "NumSegments": _segments(body),
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": API_VERSION,
    }

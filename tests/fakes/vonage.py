"""A fake Vonage (SMS API and Voice API) on 127.0.0.1 that speaks Vonage's wire format, for tests.

The official SDK always uses https, so the fake serves TLS with a throwaway CA made at start;
point the SDK at it with `HttpClientOptions(api_host=fake.host, rest_host=fake.host)` and trust
the CA with `REQUESTS_CA_BUNDLE=fake.ca_bundle` (the SDK uses `requests`).

It answers `POST /sms/json` (API key and secret, as form or JSON, answers HTTP 200 with a status
per message part) and `POST /v1/calls` (a JWT signed with the application's private key, answers
201). After a send it posts delivery receipts or call events itself, and it can post inbound
SMS and keypad input: SMS webhooks signed with a `sig` parameter, voice webhooks with an HS256
JWT in `Authorization`, both with the account's signature secret, as Vonage signs them.
`GET /v2/reports/records` (the Reports API, synchronous) lists the SMS sent, filtered by
`client_ref` and `date_start`. `stall_next` takes an SMS but answers too late for the client (a
timeout after the send).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import secrets
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Self

import jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from vonage_http_client import Auth
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from pager.domain.messages import segments
from pager.providers.base import WebRequest
from tests.fakes import twilio
from tests.fakes.twilio import _LocalServer, _QuietHandler, bind_local_port

DEFAULT_API_KEY = "a1b2c3d4"
DEFAULT_API_SECRET = "0123456789abcdef"
DEFAULT_SIGNATURE_SECRET = "s1gnature-" + "5e" * 12
DEFAULT_APPLICATION_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
NUMBER = re.compile(r"^[1-9]\d{6,14}$")  # Vonage numbers: E.164 digits without '+'
SMS_END_STATUSES = frozenset({"delivered", "expired", "failed", "rejected", "unknown"})
CALL_END_STATUSES = frozenset(
    {"busy", "cancelled", "failed", "rejected", "timeout", "unanswered", "machine"}
)
SMS_ERROR_TEXTS = {  # https://developer.vonage.com/api-errors/sms
    "1": "Throttled",
    "2": "Missing Parameters",
    "3": "Invalid Parameters",
    "4": "Bad Credentials",
    "5": "Internal Error",
    "6": "Invalid Message",
    "7": "Number Barred",
    "8": "Partner Account Barred",
    "9": "Partner Quota Violation",
    "10": "Too Many Existing Binds",
    "15": "Illegal Sender Address - rejected",
}
UNDELIVERED_ERROR = "1"  # a non-zero DLR err-code

Params = dict[str, Any]


@cache
def application_key() -> rsa.RSAPrivateKey:
    """The RSA key pair of the fake's default application, made once (it takes a while)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_key_pem(key: rsa.RSAPrivateKey) -> str:
    """`key` as Vonage hands it out when an application is created: PKCS#8 PEM text."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class FakeVonage(_LocalServer):
    """The SMS and Voice APIs of one Vonage account with one application; see the docstring."""

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        api_secret: str = DEFAULT_API_SECRET,
        signature_secret: str = DEFAULT_SIGNATURE_SECRET,
        signature_method: str = "sha256",
        application_id: str = DEFAULT_APPLICATION_ID,
        *,
        auto_status: str | None = "delivered",
    ) -> None:
        super().__init__()
        self.api_key, self.api_secret = api_key, api_secret
        self.signature_secret = signature_secret
        self.application_id = application_id
        self.private_key = private_key_pem(application_key())  # what the dashboard gives you
        self.auto_status = auto_status  # final DLR to report; calls report answered+completed
        self.fail_status: str | None = None  # report this final SMS or call status instead
        self.fail_next = 0  # answer this many next requests with fail_next_as
        # (HTTP status, SMS status): HTTP 200 answers the SMS API with that status per message
        # part (a long message: all parts but the first, which the SDK calls a partial failure).
        self.fail_next_as: tuple[int, str] = (500, "")
        self.messages: list[Params] = []  # SMS API requests, with the "message-ids" of parts
        self.calls: list[Params] = []  # Voice API request bodies, with the "uuid" given
        self.callbacks: list[dict[str, Any]] = []  # every webhook this fake posted, and answer
        self._records: list[Params] = []  # Reports API records of the SMS sent, oldest first
        self.host = ""  # "127.0.0.1:PORT", for HttpClientOptions
        self.ca_bundle = ""  # the test CA's certificate (PEM file) for REQUESTS_CA_BUNDLE
        self._signer = Auth(
            api_key=api_key, signature_secret=signature_secret, signature_method=signature_method
        )
        self._posting: list[threading.Thread] = []

    def provider_options(self, from_number: str) -> dict[str, Any]:
        """A `vonage` provider entry's options (as in pager.yaml) that send SMS through this
        fake and take its signed webhooks; the test sets REQUESTS_CA_BUNDLE to `ca_bundle`."""
        return {
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "signature_secret": self.signature_secret,
            "from": from_number,
            "api_host": self.host,
            "rest_host": self.host,
            "timeout": "5",
        }

    def start(self) -> Self:
        self.ca_bundle, context = local_tls()
        self._server = serve_tls_in_background(self._wsgi, context)
        self.host = f"127.0.0.1:{self._server.port}"
        self.base_url = f"https://{self.host}"
        return self

    def stop(self) -> None:
        super().stop()
        for thread in list(self._posting):
            thread.join(timeout=10)

    def wait_for_messages(self, n: int, timeout: float = 10) -> list[Params]:
        return self._wait_for(self.messages, n, timeout, "messages")

    def wait_for_calls(self, n: int, timeout: float = 10) -> list[Params]:
        return self._wait_for(self.calls, n, timeout, "calls")

    def wait_for_callbacks(self, n: int, timeout: float = 10) -> list[dict[str, Any]]:
        return self._wait_for(self.callbacks, n, timeout, "callbacks posted")

    # Vonage's requests to the application

    def post_signed_sms_webhook(
        self, url: str, params: dict[str, str], *, method: str = "POST", at: float | None = None
    ) -> requests.Response:
        """Send SMS webhook `params` as Vonage does, with `timestamp`, `nonce` and `sig`.

        `method` is the dashboard's choice: GET (query), POST (form) or POST-JSON; `at` dates
        the signature (now by default).
        """
        signed = {**params, "timestamp": str(int(time.time() if at is None else at))}
        signed["nonce"] = str(uuid.uuid4())
        signed["sig"] = self._signer.sign_params(dict(signed)).upper()
        headers = {"User-Agent": "Nexmo/MessagingHUB/v1.0"}
        if method == "GET":
            return requests.get(url, params=signed, headers=headers, timeout=10)
        if method == "POST-JSON":
            return requests.post(url, json=signed, headers=headers, timeout=10)
        return requests.post(url, data=signed, headers=headers, timeout=10)

    def post_signed_voice_webhook(
        self, url: str, body: dict[str, Any], *, at: float | None = None
    ) -> requests.Response:
        """POST `body` as JSON with the JWT Vonage signs voice webhooks with."""
        payload = json.dumps(body, separators=(",", ":")).encode()
        claims = {
            "iat": int(time.time() if at is None else at),
            "jti": str(uuid.uuid4()),
            "iss": "Vonage",
            "payload_hash": hashlib.sha256(payload).hexdigest(),
            "api_key": self.api_key,
            "application_id": self.application_id,
        }
        token = jwt.encode(claims, self.signature_secret, algorithm="HS256")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return requests.post(url, data=payload, headers=headers, timeout=10)

    def send_inbound_sms(
        self, url: str, from_: str, to: str, text: str, *, method: str = "POST"
    ) -> requests.Response:
        """Post the inbound-SMS webhook for `text` from `from_` to our number `to` (E.164)."""
        params = {
            "api-key": self.api_key,
            "msisdn": from_.lstrip("+"),
            "to": to.lstrip("+"),
            "messageId": _message_id(),
            "text": text,
            "type": "text" if text.isascii() else "unicode",
            "keyword": text.split()[0].upper() if text.split() else "",
            "message-timestamp": _vonage_time(),
        }
        return self.post_signed_sms_webhook(url, params, method=method)

    def send_delivery_receipt(
        self, url: str, message_id: str, status: str, err_code: str = "0"
    ) -> requests.Response:
        """Post the delivery receipt of message part `message_id` with `status`."""
        message = next((m for m in self.messages if message_id in m["message-ids"]), {})
        params = {
            "msisdn": message.get("to", ""),
            "to": message.get("from", ""),
            "network-code": "23410",
            "messageId": message_id,
            "price": "0.03330000",
            "status": status,
            "scts": datetime.now(UTC).strftime("%y%m%d%H%M"),
            "err-code": err_code,
            "api-key": self.api_key,
            "message-timestamp": _vonage_time(),
        }
        if message.get("client-ref"):
            params["client-ref"] = message["client-ref"]
        return self.post_signed_sms_webhook(url, params)

    def send_call_event(self, url: str, call_uuid: str, status: str) -> requests.Response:
        """Post the event of call `call_uuid` with `status` to its event URL `url`."""
        return self.post_signed_voice_webhook(url, self._call_event(call_uuid, status))

    def press_keys(self, url: str, call_uuid: str, digits: str) -> requests.Response:
        """Post the input webhook of call `call_uuid` with `digits` pressed (may be empty)."""
        dtmf = {"digits": digits, "timed_out": not digits}
        body = {**self._call_fields(call_uuid), "dtmf": dtmf, "speech": {"results": []}}
        return self.post_signed_voice_webhook(url, body)

    def _call_fields(self, call_uuid: str) -> dict[str, Any]:
        """The fields every voice webhook of call `call_uuid` has."""
        call = next((c for c in self.calls if c["uuid"] == call_uuid), {})
        return {
            "from": call.get("from", {}).get("number", ""),
            "to": call.get("to", [{}])[0].get("number", ""),
            "uuid": call_uuid,
            "conversation_uuid": call.get("conversation_uuid", ""),
            "timestamp": _iso_now(),
        }

    def _call_event(self, call_uuid: str, status: str) -> dict[str, Any]:
        event = {**self._call_fields(call_uuid), "status": status, "direction": "outbound"}
        if status == "completed":
            event |= {"duration": "12", "rate": "0.00450000", "price": "0.00090000"}
            event |= {"start_time": _iso_now(), "end_time": _iso_now(), "network": "23410"}
        return event

    # The REST APIs

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if request.method == "POST" and request.path == "/sms/json":
            return self._sms_api(request)
        if request.method == "POST" and request.path == "/v1/calls":
            return self._voice_api(request)
        if request.method == "GET" and request.path == "/v2/reports/records":
            return self._reports_api(request)
        return _problem(404, "Not Found", f"{request.path} was not found")

    def _reports_api(self, request: Request) -> Response:
        """Synchronous records of SMS sent: Basic auth with the API key and secret, filtered
        by client_ref and date_start, as the Reports API answers `GET /v2/reports/records`."""
        query = request.args.to_dict()
        self._append(self.searches, query)
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.api_key, self.api_secret):
            return _problem(401, "Unauthorized", "You did not provide correct credentials.")
        if query.get("account_id") != self.api_key or query.get("product") != "SMS":
            return _problem(400, "Bad Request", "account_id and product=SMS are required")
        reference, start = query.get("client_ref"), query.get("date_start", "")
        with self._changed:
            records = [
                r
                for r in self._records
                if (reference is None or r["client_ref"] == reference)
                and r["date_received"] >= start.replace("Z", "+0000")
            ]
        body = {
            "request_id": str(uuid.uuid4()),
            "request_status": "SUCCESS",
            "received_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "account_id": self.api_key,
            "product": "SMS",
            "direction": query.get("direction", "outbound"),
            "include_message": False,
            "items_count": len(records),
            "records": records,
        }
        return Response(json.dumps(body), content_type="application/json")

    def _fail_next(self) -> tuple[int, str] | None:
        with self._changed:
            if self.fail_next <= 0:
                return None
            self.fail_next -= 1
            return self.fail_next_as

    def _sms_api(self, request: Request) -> Response:
        params: Params = (
            request.get_json(silent=True) or {}
            if request.mimetype == "application/json"
            else request.form.to_dict()
        )
        auth = request.authorization
        key, secret = (auth.username, auth.password) if auth else (None, None)
        key, secret = key or params.get("api_key"), secret or params.get("api_secret")
        to, text = str(params.get("to", "")), str(params.get("text", ""))
        missing = next((f for f in ("from", "to", "text") if not params.get(f)), None)
        failure = self._fail_next()
        if failure is not None and failure[0] != 200:
            return _problem(failure[0], "Internal Server Error", "fake failure")
        status, error = (
            ("4", "Bad Credentials") if (key, secret) != (self.api_key, self.api_secret)
            else ("2", f"Missing {missing} param") if missing
            else ("3", "Invalid to param") if not NUMBER.match(to)
            else (failure[1], SMS_ERROR_TEXTS.get(failure[1], "Error")) if failure is not None
            else ("0", "")
        )  # fmt: skip
        if status == "0":
            return self._accept_sms(params, to, text)
        answers = [{"status": status, "error-text": error}] * (segments(text) if failure else 1)
        if len(answers) > 1:  # a long message told to fail: its first part went out
            answers[0] = {"to": to, "message-id": _message_id(), "status": "0"}
        body = {"message-count": str(len(answers)), "messages": answers}
        return Response(json.dumps(body), content_type="application/json")

    def _accept_sms(self, params: Params, to: str, text: str) -> Response:
        parts = [_message_id() for _ in range(segments(text))]
        message = {"message-ids": parts, **params}
        self._append(self.messages, message)
        answers = [
            {
                "to": to,
                "message-id": part,
                "status": "0",
                "remaining-balance": "15.53590000",
                "message-price": "0.03330000",
                "network": "23410",
                **({"client-ref": params["client-ref"]} if params.get("client-ref") else {}),
            }
            for part in parts
        ]
        body = {"message-count": str(len(parts)), "messages": answers}
        for part in parts:
            record = {
                "account_id": self.api_key,
                "message_id": part,
                "client_ref": params.get("client-ref"),
                "direction": "outbound",
                "from": params.get("from"),
                "to": to,
                "status": "submitted",
                "date_received": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            }
            self._append(self._records, record)
        response = Response(json.dumps(body), content_type="application/json")
        if params.get("callback") and (self.auto_status or self.fail_status):
            url = params["callback"]
            response.call_on_close(lambda: self._later(lambda: self._report_sms(url, parts)))
        self._late("stall_next")
        return response

    def _voice_api(self, request: Request) -> Response:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        public_key = application_key().public_key()
        try:
            claims = jwt.decode(token, public_key, algorithms=["RS256"])
        except jwt.PyJWTError as exc:
            return _problem(401, "Unauthorized", f"You did not provide correct credentials: {exc}")
        if scheme != "Bearer" or claims.get("application_id") != self.application_id:
            return _problem(401, "Unauthorized", "You did not provide correct credentials.")
        failure = self._fail_next()
        if failure is not None:
            return _problem(failure[0], "Internal Server Error", "fake failure")
        body = request.get_json(silent=True)
        problem = _call_problem(body)
        if problem:
            return _problem(400, "Bad Request", problem)
        assert isinstance(body, dict)
        call = {**body, "uuid": str(uuid.uuid4()), "conversation_uuid": f"CON-{uuid.uuid4()}"}
        self._append(self.calls, call)
        answer = {k: call[k] for k in ("uuid", "conversation_uuid")}
        answer |= {"status": "started", "direction": "outbound"}
        response = Response(json.dumps(answer), status=201, content_type="application/json")
        if body.get("event_url") and (self.auto_status or self.fail_status):
            response.call_on_close(lambda: self._later(lambda: self._report_call(call)))
        return response

    # Status callbacks, posted once the answer is written, as Vonage's come after its answer

    def _later(self, post: Callable[[], None]) -> None:
        thread = threading.Thread(target=post, name="fake-vonage-callbacks", daemon=True)
        self._posting.append(thread)
        thread.start()

    def _report_sms(self, url: str, parts: list[str]) -> None:
        final = self.fail_status or self.auto_status or "delivered"
        if final not in SMS_END_STATUSES:
            final = "failed"  # a call word such as "busy"
        for part in parts:
            err_code = "0" if final == "delivered" else UNDELIVERED_ERROR
            self._record(url, lambda: self.send_delivery_receipt(url, part, final, err_code))

    def _report_call(self, call: Params) -> None:
        final = self.fail_status or "answered"
        if final != "answered" and final not in CALL_END_STATUSES:
            final = "failed"  # an SMS word such as "expired"
        url = call["event_url"][0]
        statuses = ["started", "ringing", final]
        if final != "rejected":  # every call ends with completed, unless Vonage rejected it
            statuses.append("completed")
        for status in statuses:
            self._record(url, lambda: self.send_call_event(url, call["uuid"], status))

    def _record(self, url: str, post: Callable[[], requests.Response]) -> None:
        record: dict[str, Any] = {"url": url}
        try:
            record["status_code"] = post().status_code
        except requests.RequestException as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
        self._append(self.callbacks, record)


class WebhookSink(twilio.WebhookSink):
    """Twilio's sink, keeping the raw body too: Vonage posts JSON webhooks."""

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data(cache=True)  # the form is still parsed from the cached body
        seen = WebRequest(
            url=request.url,
            method=request.method,
            headers=dict(request.headers),
            form=request.form.to_dict(),
            body=body,
            query=request.args.to_dict(),
        )
        self._append(self.received, seen)
        return Response("", content_type="text/plain")(environ, start_response)


def _call_problem(body: object) -> str | None:
    """What Vonage would refuse in a create-call request body, if anything."""
    if not isinstance(body, dict):
        return "The request body is not a JSON object"
    to = body.get("to") or [{}]
    if not isinstance(to, list) or not NUMBER.match(str(to[0].get("number", ""))):
        return "Invalid 'to': a phone number is 7-15 digits without '+'"
    if not NUMBER.match(str((body.get("from") or {}).get("number", ""))):
        return "Invalid 'from': a phone number is 7-15 digits without '+'"
    if not body.get("ncco") and not body.get("answer_url"):
        return "Either 'ncco' or 'answer_url' is required"
    return None


def _problem(status: int, title: str, detail: str) -> Response:
    """Vonage's RFC 7807 error answer."""
    body = {
        "type": f"https://developer.vonage.com/api-errors#{title.lower().replace(' ', '-')}",
        "title": title,
        "detail": detail,
        "instance": str(uuid.uuid4()),
    }
    return Response(json.dumps(body), status=status, content_type="application/problem+json")


_TLS_DIR = tempfile.TemporaryDirectory(prefix="fake-vonage-")  # removed when tests end


@cache
def local_tls() -> tuple[str, ssl.SSLContext]:
    """A throwaway CA and a certificate it signed for 127.0.0.1: (CA file, server context).

    Made once: the CA must outlive a stopped fake, whose clients then see a refused connection.
    """
    directory = Path(_TLS_DIR.name)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pager test CA")])
    ca = (
        _certificate(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    authority = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    server = (
        _certificate(ca_name, name, key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(authority, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file, cert_file, key_file = (directory / n for n in ("ca.pem", "server.pem", "key.pem"))
    ca_file.write_bytes(ca.public_bytes(pem))
    cert_file.write_bytes(server.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return str(ca_file), context


def _certificate(
    issuer: x509.Name, subject: x509.Name, public_key: Any, now: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .issuer_name(issuer)
        .subject_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        # OpenSSL checks validity against the real clock, not a clock the CI moved for Python:
        # a window years wide either side holds under both.
        .not_valid_before(now - timedelta(days=3650))
        .not_valid_after(now + timedelta(days=3650))
    )


def serve_tls_in_background(
    app: Callable[..., Iterable[bytes]], context: ssl.SSLContext
) -> BaseWSGIServer:
    """`serve_in_background` over TLS (that helper takes no SSL context)."""
    sock = bind_local_port()
    try:
        server = make_server(
            "127.0.0.1",
            0,
            app,
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=context,
            fd=sock.fileno(),
        )
    finally:
        sock.close()
    serve = threading.Thread(
        target=server.serve_forever, args=(0.01,), name=f"fake:{server.port}", daemon=True
    )
    serve.start()
    return server


def _message_id() -> str:
    return secrets.token_hex(8).upper()  # like 0B00000127FDBC63


def _vonage_time() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

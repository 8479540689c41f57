"""A fake AWS SNS endpoint on 127.0.0.1 that speaks the SNS Query API, for tests.

boto3 talks to it unchanged (`endpoint_url=fake.base_url`): a form-encoded `POST /` with
`Action=Publish&Version=2010-03-31&PhoneNumber=...&MessageAttributes.entry.N.Name=...`, signed
with SigV4, answered by a `PublishResponse` XML document or by AWS's `ErrorResponse` XML. The
signature is checked in full with botocore's own signer, so a wrong secret fails as on AWS.
SNS posts no webhooks for SMS, so this fake has none to send.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.wrappers import Request, Response

from tests.fakes.twilio import _LocalServer

API_VERSION = "2010-03-31"
NAMESPACE = f"http://sns.amazonaws.com/doc/{API_VERSION}/"
DEFAULT_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
DEFAULT_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<signed>[^,]+), ?Signature=(?P<sig>\w+)"
)
# Sender or Receiver, as AWS puts it in <Type>, by the HTTP status of the error.
FAULT = {True: "Receiver", False: "Sender"}

Form = dict[str, str]


class FakeSns(_LocalServer):
    """The SNS Publish action for one AWS access key; see the module docstring."""

    def __init__(
        self,
        access_key_id: str = DEFAULT_ACCESS_KEY_ID,
        secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY,
    ) -> None:
        super().__init__()
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.fail_next = 0  # answer this many next Publish requests with fail_next_as
        self.fail_next_as: tuple[int, str] = (500, "InternalError")  # (HTTP status, AWS code)
        self.messages: list[dict[str, Any]] = []  # what each accepted Publish carried

    def wait_for_messages(self, n: int, timeout: float = 10) -> list[dict[str, Any]]:
        return self._wait_for(self.messages, n, timeout, "messages")

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        body = request.get_data()
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        if request.method != "POST" or request.path != "/":
            return _error(404, "InvalidAction", f"Could not find operation for {request.path}")
        refused = self._authentication_problem(request, body)
        if refused is not None:
            return refused
        if form.get("Action") != "Publish" or form.get("Version") != API_VERSION:
            return _error(400, "InvalidAction", f"Unknown action {form.get('Action')!r}")
        with self._changed:
            if self.fail_next > 0:
                self.fail_next -= 1
                status, code = self.fail_next_as
                return _error(status, code, "Rate exceeded" if status < 500 else "Internal Error")
        return self._publish(form)

    def _publish(self, form: Form) -> Response:
        to, text = form.get("PhoneNumber", ""), form.get("Message", "")
        if not E164.match(to):
            reason = f"Invalid parameter: PhoneNumber Reason: {to} is not valid to publish to"
            return _error(400, "InvalidParameter", reason)
        if not text:
            return _error(400, "InvalidParameter", "Invalid parameter: Empty message")
        message_id = str(uuid.uuid4())
        message = {
            "MessageId": message_id,
            "PhoneNumber": to,
            "Message": text,
            "MessageAttributes": _attributes(form),
            "form": form,
        }
        self._append(self.messages, message)
        return _xml(
            200,
            f'<PublishResponse xmlns="{NAMESPACE}">'
            f"<PublishResult><MessageId>{message_id}</MessageId></PublishResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</PublishResponse>",
        )

    def _authentication_problem(self, request: Request, body: bytes) -> Response | None:
        """AWS's 403 for a request without a valid SigV4 signature by our key, else None."""
        authorization = request.headers.get("Authorization", "")
        match = AUTHORIZATION.fullmatch(authorization)
        if match is None:
            return _error(
                403, "MissingAuthenticationToken", "Request is missing Authentication Token"
            )
        if match["key"] != self.access_key_id:
            return _error(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            )
        signed = match["signed"].split(";")
        aws_request = AWSRequest(
            method=request.method,
            url=f"{self.base_url}{request.path}",
            data=body,
            headers={name: request.headers.get(name, "") for name in signed},
        )
        aws_request.context["timestamp"] = request.headers.get("X-Amz-Date", "")
        signer = SigV4Auth(
            Credentials(self.access_key_id, self.secret_access_key),
            match["service"],
            match["region"],
        )
        expected = signer.signature(
            signer.string_to_sign(aws_request, signer.canonical_request(aws_request)), aws_request
        )
        if expected != match["sig"]:
            return _error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        return None


def _attributes(form: Form) -> dict[str, dict[str, str]]:
    """`MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue`, by name."""
    found: dict[str, dict[str, str]] = {}
    n = 1
    while (name := form.get(f"MessageAttributes.entry.{n}.Name")) is not None:
        prefix = f"MessageAttributes.entry.{n}.Value."
        found[name] = {
            "DataType": form.get(prefix + "DataType", ""),
            "StringValue": form.get(prefix + "StringValue", ""),
        }
        n += 1
    return found


def _error(status: int, code: str, message: str) -> Response:
    return _xml(
        status,
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error>'
        f"<Type>{FAULT[status >= 500]}</Type><Code>{code}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>",
    )


def _xml(status: int, document: str) -> Response:
    return Response(document, status=status, content_type="text/xml")

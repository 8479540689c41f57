"""AWS SNS: SMS straight to a phone number (`Publish` with `PhoneNumber`) through boto3.

SNS can only send. It places no calls, forwards no replies to a webhook (two-way SMS needs
AWS End User Messaging and an SNS topic, which pager does not read) and calls back no delivery
status: that lives in CloudWatch Logs once "SMS delivery status logging" is turned on, and pager
does not read it. So a published SMS is reported `sent` and the dispatch flow takes `sent` as
final for this provider; acknowledgements have to come through another provider's number.
"""

from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ParamValidationError,
    ReadTimeoutError,
)

from pager.config import ProviderSettings
from pager.providers.base import (
    KEEP_CONNECTIONS,
    BuildContext,
    InboundSms,
    KeypadInput,
    ProviderError,
    Sent,
    StatusUpdate,
    WebhookInvalid,
    WebRequest,
    WebResponse,
    classify,
    optional_option,
    timeout_option,
)

# Error codes that say "not now" rather than "never": SNS answers a burst over the account's
# SMS rate with `Throttling` (HTTP 400), so the HTTP status alone would call it permanent.
TEMPORARY_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "Throttled",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "KMSThrottling",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "RequestTimeout",
    }
)
NOTHING_TO_READ = "sns webhook: SNS posts no inbound SMS, status or keypad webhooks to pager"


class SnsProvider:
    """SMS through one AWS account's SNS in one region. Delivery status is not tracked."""

    channels: frozenset[str] = frozenset({"sms"})

    def __init__(
        self,
        name: str,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        *,
        sender_id: str | None = None,
        origination_number: str | None = None,
        endpoint_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self._attributes = {"AWS.SNS.SMS.SMSType": _text("Transactional")}
        if sender_id:
            self._attributes["AWS.SNS.SMS.SenderID"] = _text(sender_id)
        if origination_number:
            self._attributes["AWS.MM.SMS.OriginationNumber"] = _text(origination_number)
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            # One attempt: the dispatch flow retries and fails over, and a retry inside boto3
            # would double the wait on a provider that does not answer.
            retries={"total_max_attempts": 1, "mode": "standard"},
            # Settings come from pager.yaml only, never from AWS_ENDPOINT_URL* or ~/.aws/config.
            ignore_configured_endpoint_urls=True,
            max_pool_connections=KEEP_CONNECTIONS,  # a runner's calls in flight (default 10)
        )
        # A session of its own: the default boto3 session is shared and not thread-safe.
        self._client = boto3.session.Session().client(
            "sns",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    def send_sms(self, to: str, body: str, status_url: str, reference: str | None = None) -> Sent:
        """Publish one transactional SMS to `to`; SNS reports no status, so `status_url` is
        unused and the answer is final: `sent`.

        SNS keeps no reference of ours and has no way to list what it published, so after a
        timeout nothing can tell whether the SMS went out: the dispatch flow fails over to the
        next provider, and a retry through SNS itself may send the page twice.
        """
        try:
            answer = self._client.publish(
                PhoneNumber=to, Message=body, MessageAttributes=self._attributes
            )
        except ClientError as exc:
            raise self._refused(exc, to) from exc
        except ParamValidationError as exc:  # checked by botocore before anything is sent
            raise ProviderError(
                f"sns {self.name}: sending an SMS failed: {_masked(str(exc), to)}",
                permanent=True,
            ) from exc
        except BotoCoreError as exc:  # connection refused, timeouts, unreadable answers
            raise ProviderError(
                f"sns {self.name}: sending an SMS failed: {type(exc).__name__}: {exc}",
                permanent=False,
                outcome_unknown=isinstance(exc, ReadTimeoutError | ConnectionClosedError),
            ) from exc
        message_id = answer.get("MessageId")
        if not message_id:
            raise ProviderError(
                f"sns {self.name}: SNS accepted the SMS but returned no MessageId",
                permanent=False,
            )
        return Sent(provider_message_id=message_id, state="sent")

    def call(self, to: str, speech: str, keypad_url: str, status_url: str) -> Sent:
        """Never: SNS sends SMS only (permanent, so routing moves on at once)."""
        raise ProviderError(f"sns {self.name}: SNS cannot place calls", permanent=True)

    def verify_webhook(self, request: WebRequest) -> bool:
        """Always False: SNS never posts to pager, so nothing that claims to be SNS is trusted."""
        return False

    def parse_inbound(self, request: WebRequest) -> InboundSms:
        """Never: SNS posts no inbound SMS to pager."""
        raise WebhookInvalid(NOTHING_TO_READ)

    def parse_status(self, request: WebRequest) -> StatusUpdate:
        """Never: SNS reports delivery to CloudWatch Logs, not to pager."""
        raise WebhookInvalid(NOTHING_TO_READ)

    def parse_keypad(self, request: WebRequest) -> KeypadInput:
        """Never: SNS places no calls."""
        raise WebhookInvalid(NOTHING_TO_READ)

    def sms_reply(self, inbound: InboundSms, text: str | None) -> WebResponse:
        """An empty 200: SNS never delivers an inbound SMS to pager to answer."""
        return WebResponse(body="", content_type="text/plain")

    def voice_reply(self, pressed: KeypadInput, text: str) -> WebResponse:
        """An empty 200: there is no call to speak to."""
        return WebResponse(body="", content_type="text/plain")

    def _refused(self, exc: ClientError, to: str) -> ProviderError:
        """The ProviderError for an error answer from SNS."""
        error = exc.response.get("Error", {})
        code = error.get("Code") or None
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        # SNS quotes the number: "Invalid parameter: PhoneNumber Reason: +4477 is not valid..."
        detail = _masked(error.get("Message") or "", to)
        verdict = classify(status, code, transient_codes=TEMPORARY_CODES)
        return ProviderError(
            f"sns {self.name}: sending an SMS failed: HTTP {status}, code {code}: {detail}",
            permanent=verdict.permanent,
            code=code,
        )


def _text(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _masked(text: str, to: str) -> str:
    return text.replace(to, "<to>") if to else text


def build(settings: ProviderSettings, context: BuildContext) -> SnsProvider:
    """The SNS provider of a `type: sns` entry."""
    o = settings.options
    return SnsProvider(
        settings.name,
        o["region"],
        o["access_key_id"],
        o["secret_access_key"],
        sender_id=optional_option(o, "sender_id"),
        origination_number=optional_option(o, "origination_number"),
        endpoint_url=optional_option(o, "endpoint_url"),
        timeout=timeout_option(o),
    )

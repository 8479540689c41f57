"""The reference's sections of pager.yaml on alerts: where they come from (`integrations`,
`heartbeats`) and where pager tells of them (`webhooks`)."""

from __future__ import annotations

from pager.config.canaries import SHORTEST_EVERY, TIMEOUT_RANGE
from pager.config.model import (
    SOURCE_RULES,
    SOURCES,
    WEBHOOK_EVENTS,
    CanarySettings,
    FieldMapping,
    WebhookSettings,
)
from pager.config.reference_model import Key, Kind, Section
from pager.config.webhooks import FORMATS, LONGEST_TIMEOUT
from pager.domain.durations import format_duration


def _sources(auth: str) -> str:
    """The sources whose integrations authenticate with `auth` ("token", "token or secret")."""
    return ", ".join(f"`{s}`" for s, rules in SOURCE_RULES.items() if rules.auth == auth)


def _taking(option: str) -> str:
    """The sources whose integrations take `option` (`branches`, `mapping`)."""
    return ", ".join(f"`{s}`" for s, rules in SOURCE_RULES.items() if option in rules.options)


INTEGRATIONS = Section(
    id="integrations",
    title="`integrations`: each entry",
    path=("integrations", "*"),
    intro="One entry per place alerts come from; its name is in the URL the sender posts to "
    "(`/integrations/<name>`; PagerDuty's events go to `/v2/enqueue`). Each source's recipe "
    "is in docs/sources.md.",
    example="""\
integrations:
  payments-am:
    service: payments
    source: alertmanager
    token: ${PAYMENTS_AM_TOKEN}
    group_by: [alertname, cluster]
    reopen_within: 10m
    urgency: {critical: high, warning: low}
  checkout-ci:
    service: payments
    source: github
    secret: ${GITHUB_WEBHOOK_SECRET}
    previous_secret: ${GITHUB_WEBHOOK_OLD_SECRET}
    branches: [main, release]
""",
    keys=(
        Key(
            "service",
            Kind.TEXT,
            "A service of the rotation files: its escalation policy is paged.",
            required=True,
        ),
        Key(
            "source",
            Kind.TEXT,
            f"What sends: {', '.join(f'`{source}`' for source in SOURCES)}.",
            required=True,
        ),
        Key(
            "token",
            Kind.SECRET,
            "What the sender proves itself with (bearer token, `?token=`, `X-Gitlab-Token`, "
            "or the PagerDuty routing key).",
            required_when=f"for {_sources('token')}; {_sources('token or secret')}: it or `secret`",
        ),
        Key(
            "secret",
            Kind.SECRET,
            "The HMAC key the sender signs each request with; when set, the signature is "
            "required and the token is not used.",
            required_when=f"for {_sources('secret')}; {_sources('token or secret')}: it or `token`",
        ),
        Key(
            "previous_secret",
            Kind.SECRET,
            "The secret being replaced, still accepted while the sender moves to `secret`; "
            "drop it once it has.",
        ),
        Key(
            "branches",
            Kind.LIST,
            f"The branches whose pipelines page ({_taking('branches')} only).",
            holds="list of branch names",
            default_text="the default branch (Jenkins: every branch)",
        ),
        Key(
            "mapping",
            Kind.MAPPING,
            f"Where the JSON of a {_taking('mapping')} source keeps each field (below).",
            default_text="the documented shape",
        ),
        Key(
            "group_by",
            Kind.LIST,
            "Alerts with the same values of these labels share one incident, across "
            "notifications and receivers.",
            holds="list of label names",
            default_text="the source's own grouping",
        ),
        Key(
            "reopen_within",
            Kind.DURATION,
            "An alert firing again this soon after its incident resolved reopens it (a flapping "
            "alert), and escalation starts again from step 1.",
            default_text="never: a new incident",
        ),
        Key(
            "urgency",
            Kind.MAPPING,
            "The alert's `severity` label to `high` (pages at any hour) or `low` (waits while "
            "it is night, 22:00-08:00, for whoever would be paged).",
            holds="mapping of severity to `high` or `low`",
            default_text="`high` for every alert",
        ),
    ),
)

MAPPING = Section(
    id="mapping",
    title="`integrations`: the `mapping` of a `generic` source",
    path=("integrations", "*", "mapping"),
    intro="For any other JSON: where each alert field is, as a dotted path (`$.a.b`; numbers "
    "pick list items: `$.items.0.name`). The body is then one alert.",
    example="""\
integrations:
  status-page:
    service: payments
    source: generic
    token: ${STATUS_PAGE_TOKEN}
    mapping:
      id: $.incident.key
      title: $.incident.name
      status: $.state
      summary: $.incident.description
      labels: $.incident.tags
      url: $.incident.url
      firing: [open, triggered]
      resolved: [closed]
""",
    keys=(
        Key(
            "id", Kind.TEXT, "Identifies the alert.", holds="path", default_text="title and labels"
        ),
        Key("title", Kind.TEXT, "The incident's title.", holds="path", required=True),
        Key(
            "status",
            Kind.TEXT,
            "The alert's state, read against `firing` and `resolved`; a state in neither is "
            "ignored.",
            holds="path",
            default_text="always firing",
        ),
        Key("summary", Kind.TEXT, "A sentence on what is wrong.", holds="path"),
        Key("labels", Kind.TEXT, "An object of labels (for `group_by`, `urgency`).", holds="path"),
        Key("url", Kind.TEXT, "A link to the alert in the sending tool.", holds="path"),
        Key(
            "firing",
            Kind.LIST,
            "The states that mean firing, compared ignoring case.",
            holds="list of states",
            default="[firing]",
            default_of=(FieldMapping, "firing"),
        ),
        Key(
            "resolved",
            Kind.LIST,
            "The states that mean resolved, compared ignoring case.",
            holds="list of states",
            default="[resolved]",
            default_of=(FieldMapping, "resolved"),
        ),
    ),
)

HEARTBEATS = Section(
    id="heartbeats",
    title="`heartbeats`: each entry",
    path=("heartbeats", "*"),
    intro="A dead man's switch: `POST` (or `GET`) `/heartbeat/<name>` with its token at least "
    "every `interval`, or an incident opens (and the next beat resolves it).",
    example="""\
heartbeats:
  prometheus-watchdog:
    service: payments
    interval: 5m
    token: ${WATCHDOG_TOKEN}
""",
    keys=(
        Key(
            "service", Kind.TEXT, "Whose escalation policy pages when it goes quiet.", required=True
        ),
        Key(
            "interval",
            Kind.DURATION,
            "The longest silence allowed, counted from start-up for one never heard.",
            required=True,
        ),
        Key(
            "token",
            Kind.SECRET,
            "What each beat carries (`Authorization: Bearer` or `?token=`).",
            default_text="pager makes one, keeps it in the database and prints it at start",
        ),
    ),
)

WEBHOOKS = Section(
    id="webhooks",
    title="`webhooks`: each entry",
    path=("webhooks", "*"),
    intro="Every change of an incident and every inbound SMS that is not a command, posted to "
    "n8n, Zapier, Make, Slack...: durable, in order per incident, retried for 24 h "
    '(docs/webhooks.md). Make a secret with `python -c "import base64, secrets; '
    "print('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode())\"` and give it to "
    "both sides through the environment.",
    example="""\
webhooks:
  - name: n8n
    url: https://n8n.example.com/webhook/pager
    secret: ${N8N_WEBHOOK_SECRET}
    events: [incident.triggered, incident.acknowledged, incident.resolved]
    format: standard
    timeout: 10s
  - name: slack
    url: ${SLACK_WEBHOOK_URL}
    format: slack
""",
    keys=(
        Key(
            "name",
            Kind.TEXT,
            "Shown in the delivery log: 1-60 letters, digits, `-`, `_` or `.`, each name once.",
            required=True,
        ),
        Key(
            "url",
            Kind.URL,
            "An `http://` or `https://` URL; one holding a token (Slack's) belongs in `${ENV}`.",
            required=True,
        ),
        Key(
            "secret",
            Kind.SECRET,
            "A Standard Webhooks secret: `whsec_` and the base64 of 24-64 random bytes, the "
            "same on both sides.",
            required_when="with `format: standard`",
        ),
        Key(
            "events",
            Kind.LIST,
            f"Which of {', '.join(f'`{event}`' for event in WEBHOOK_EVENTS)} to send.",
            holds="list of events",
            default="[" + ", ".join(WEBHOOK_EVENTS) + "]",
            default_text="every event",
            default_of=(WebhookSettings, "events"),
        ),
        Key(
            "format",
            Kind.TEXT,
            f"{' or '.join(f'`{kind}`' for kind in FORMATS)}: signed Standard Webhooks JSON, "
            "or a Slack message (unsigned: Slack's URL is the secret).",
            default="standard",
            default_of=(WebhookSettings, "format"),
        ),
        Key(
            "timeout",
            Kind.DURATION,
            f"How long one attempt may take, at most {format_duration(LONGEST_TIMEOUT)}.",
            default="10s",
            default_of=(WebhookSettings, "timeout"),
        ),
    ),
)

CANARIES = Section(
    id="canaries",
    title="`canaries`: each entry",
    path=("canaries", "*"),
    intro="A route proven end to end on a schedule: an SMS with a random nonce through one "
    "provider entry to one of pager's own numbers, which must come back through that number's "
    "inbound webhook before `timeout`. Two failures in a row open an incident on `service`, "
    "paged through the other routes; the next success resolves it (docs/canaries.md).",
    example="""\
canaries:
  - route: twilio
    to: "+447700900000"
    service: payments
    every: 6h
    timeout: 5m
""",
    keys=(
        Key(
            "route",
            Kind.TEXT,
            "The provider entry under test (its `name`); not the sandbox. Its SMS goes through "
            "it alone, with no failover.",
            required=True,
        ),
        Key(
            "to",
            Kind.TEXT,
            "An E.164 number pager receives on: the `from` of one of its provider entries "
            "(best on another provider, so the route's inbound side is proven too).",
            holds="phone number (E.164, in quotes)",
            required=True,
        ),
        Key(
            "service",
            Kind.TEXT,
            "The service whose policy is paged when the route fails twice in a row.",
            required=True,
        ),
        Key(
            "every",
            Kind.DURATION,
            f"How often a round trip starts, at least {format_duration(SHORTEST_EVERY)}; the "
            "first when pager starts.",
            default="6h",
            default_of=(CanarySettings, "every"),
        ),
        Key(
            "timeout",
            Kind.DURATION,
            f"How long the SMS may take to come back: {format_duration(TIMEOUT_RANGE[0])} to "
            f"{format_duration(TIMEOUT_RANGE[1])}, and shorter than `every`.",
            default="5m",
            default_of=(CanarySettings, "timeout"),
        ),
    ),
)

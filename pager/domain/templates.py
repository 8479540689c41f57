"""Message templates per service and channel (`services: {payments: {templates: {sms: ...}}}`).

A team words its pages in Jinja2 (`template_sandbox`); pager still keeps what matters. The SMS
always ends with the ACK/RES instructions and the code, is GSM-7 and fits two segments (the
template's part is the one shortened); a call always ends with the keypad choices and stays
within `VOICE_MAX`. A template that does not render (an undefined name, a sandbox refusal, an
error, past its budget) or renders nothing gives way to the default text, and says why
(`PageBody.failed`) for the incident's timeline: never a lost page.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pager.domain import messages
from pager.domain.messages import PAGE_REPLY, VOICE_ENDING, VOICE_MAX, segments, shorten, to_gsm7
from pager.domain.rotation_fields import Checked
from pager.domain.template_sandbox import MAX_SOURCE, RenderFailed, render, undeclared
from pager.domain.yamldoc import Map, Where

CHANNELS = ("sms", "voice")
# What a template may use, in the order the docs and messages list them.
VARIABLES = (
    "service",
    "title",
    "summary",
    "labels",
    "annotations",
    "firing",
    "resolved",
    "number",
    "links",
    "urgency",
)
# Annotations that name an alert's links, first found wins (Prometheus' convention first).
RUNBOOK_KEYS = ("runbook_url", "runbook")
DASHBOARD_KEYS = ("dashboard_url", "dashboard", "grafana_url")
SMS_SEGMENTS = 2


@dataclass(frozen=True)
class Links:
    """An alert's links; "" where the alert gave none, so `{% if links.runbook %}` reads well."""

    runbook: str = ""
    dashboard: str = ""
    generator: str = ""


def links_of(annotations: Mapping[str, str], generator_url: str | None) -> Links:
    """The links an alert carries: runbook and dashboard from its annotations, and the URL of
    whatever generated it (Prometheus' graph, Grafana's rule, the CI run)."""

    def first(keys: tuple[str, ...]) -> str:
        return next((str(annotations[k]) for k in keys if annotations.get(k)), "")

    return Links(first(RUNBOOK_KEYS), first(DASHBOARD_KEYS), generator_url or "")


@dataclass(frozen=True)
class PageFacts:
    """What a page is about: the variables a template sees."""

    number: int  # the incident's
    service: str
    title: str
    summary: str = ""
    firing: int = 1
    resolved: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    links: Links = Links()
    urgency: str = "high"

    def variables(self) -> dict[str, Any]:
        """The template's variables: copies, so nothing a template does reaches the incident."""
        return {
            "service": self.service,
            "title": self.title,
            "summary": self.summary,
            "labels": {str(k): str(v) for k, v in self.labels.items()},
            "annotations": {str(k): str(v) for k, v in self.annotations.items()},
            "firing": self.firing,
            "resolved": self.resolved,
            "number": self.number,
            "links": self.links,
            "urgency": self.urgency,
        }


@dataclass(frozen=True)
class PageBody:
    """The text of a page, and why its template was not used (None: it was, or there is none)."""

    text: str
    failed: str | None = None


def page_body(channel: str, template: str | None, facts: PageFacts, code: str) -> PageBody:
    """The SMS text (channel "sms") or the speech of a call, from `template` when it renders."""
    if not template:
        return PageBody(default_text(channel, facts, code))
    try:
        part = render(template, facts.variables())
    except RenderFailed as error:
        return PageBody(default_text(channel, facts, code), str(error))
    text = templated_sms(part, code) if channel == "sms" else templated_speech(part)
    if text is None:
        return PageBody(default_text(channel, facts, code), "the template rendered nothing")
    return PageBody(text)


def default_text(channel: str, facts: PageFacts, code: str) -> str:
    """pager's own wording of the page (`messages.page_text`, `messages.voice_text`)."""
    summary = facts.summary or None
    if channel == "sms":
        return messages.page_text(
            number=facts.number,
            service=facts.service,
            title=facts.title,
            firing=facts.firing,
            summary=summary,
            code=code,
        )
    return messages.voice_text(
        number=facts.number,
        service=facts.service,
        title=facts.title,
        firing=facts.firing,
        summary=summary,
    )


def templated_sms(part: str, code: str, max_segments: int = SMS_SEGMENTS) -> str | None:
    """`part` (a rendered template) as a page SMS: GSM-7, blank lines dropped, then the reply
    instructions with `code`; `part` is shortened with '...' to fit `max_segments`. None if
    `part` has nothing to send."""
    lines = sms_lines(part)
    if not lines:
        return None
    reply = PAGE_REPLY.format(code=" ".join(to_gsm7(code).split()))
    separator = "\n" if "\n" in lines else " "

    def fits(text: str) -> bool:
        return segments(f"{_ended(text)}{separator}{reply}") <= max_segments

    short = lines if fits(lines) else shorten(lines, fits)
    return f"{_ended(short)}{separator}{reply}" if short else reply


def templated_speech(part: str) -> str | None:
    """`part` (a rendered template) as what a call reads: one line, the keypad choices last,
    within VOICE_MAX characters. None if `part` has nothing to say."""
    line = plain_line(part)
    if not line:
        return None

    def fits(text: str) -> bool:
        return len(f"{_ended(text)} {VOICE_ENDING}") <= VOICE_MAX

    short = line if fits(line) else shorten(line, fits)
    return f"{_ended(short)} {VOICE_ENDING}" if short else VOICE_ENDING


def sms_lines(text: str) -> str:
    """`text` in GSM-7, each line's spaces collapsed, blank lines dropped."""
    lines = (" ".join(line.split()) for line in to_gsm7(text).split("\n"))
    return "\n".join(line for line in lines if line)


def plain_line(text: str) -> str:
    """`text` on one line, without control characters (voice providers take it as XML)."""
    return " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())


def _ended(text: str) -> str:
    """`text` ended as a sentence, unless it ends in punctuation of its own or a link (a
    phone would take the '.' as part of the link)."""
    words = text.split()
    if not words or "://" in words[-1] or not (text[-1].isalnum() or text[-1] in ")]'\""):
        return text
    return text + "."


def template_source(value: Any) -> str:
    """A template as the rotation files give it: text that compiles and uses known names."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError('expected the text of a template, like "{{ service }}: {{ title }}"')
    if len(value) > MAX_SOURCE:
        raise ValueError(f"the template is longer than {MAX_SOURCE} characters")
    try:
        names = undeclared(value)
    except RenderFailed as error:
        raise ValueError(str(error)) from None
    for name in sorted(names - set(VARIABLES)):
        close = difflib.get_close_matches(name, VARIABLES, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(VARIABLES)}"
        raise ValueError(f"unknown variable '{name}' ({hint})")
    return value


def read_templates(body: Map, context: str, check: Checked) -> dict[str, str] | None:
    """`templates: {sms: ..., voice: ...}` of a service; None when any is wrong (noted)."""
    where = body.at("templates")
    value = check.keys(body["templates"], where, f"templates of {context}", (), CHANNELS)
    if value is None:
        return None
    found = {ch: check.value(value, ch, template_source) for ch in CHANNELS if ch in value}
    templates = {ch: source for ch, source in found.items() if source is not None}
    return templates if len(templates) == len(found) else None


def template_places(service: str, body: Any) -> dict[str, Where]:
    """Where each template of `service` is written, by `template:<service>:<channel>`."""
    value = body.get("templates") if isinstance(body, Map) else None
    if not isinstance(value, Map):
        return {}
    return {f"template:{service}:{ch}": value.at(ch) for ch in CHANNELS if ch in value}

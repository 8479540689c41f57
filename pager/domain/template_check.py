"""`pager check` on message templates: each rendered with a sample alert, and what it would send.

For each template: a note with the text and its size (segments of an SMS, characters of a
call); warnings for what would go wrong with a real alert like the sample: a render that fails
(the default text would go out), characters GSM-7 lacks (sent as others), a text that is cut.
Unknown variables and syntax errors are found when the rotation files are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from pager.domain.messages import VOICE_MAX, is_gsm7, segments, to_gsm7
from pager.domain.rotations import Schedule
from pager.domain.template_sandbox import RenderFailed, render
from pager.domain.templates import (
    SMS_SEGMENTS,
    Links,
    PageFacts,
    plain_line,
    sms_lines,
    templated_sms,
    templated_speech,
)
from pager.domain.yamldoc import Problem, Where

SAMPLE_CODE = "4821"
SAMPLE = PageFacts(
    number=1234,
    service="payments",
    title="HighErrorRate",
    summary="5xx rate above 5% on checkout-1",
    firing=3,
    resolved=1,
    labels={
        "alertname": "HighErrorRate",
        "severity": "critical",
        "instance": "checkout-1:9090",
        "job": "checkout",
    },
    annotations={
        "summary": "5xx rate above 5% on checkout-1",
        "description": "The 5xx rate has been above 5% for 5 minutes.",
        "runbook_url": "https://runbooks.example.com/high-error-rate",
    },
    links=Links(
        runbook="https://runbooks.example.com/high-error-rate",
        dashboard="https://grafana.example.com/d/checkout",
        generator="https://prometheus.example.com/graph?g0.expr=job%3Acheckout",
    ),
    urgency="high",
)


@dataclass
class TemplateFindings:
    warnings: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)


def template_findings(schedule: Schedule, places: Mapping[str, Where]) -> TemplateFindings:
    """Every template of every service, rendered with SAMPLE (named after the service)."""
    found = TemplateFindings()
    for service in sorted(schedule.services.values(), key=lambda s: s.id):
        for channel, source in service.templates.items():
            where = (
                places.get(f"template:{service.id}:{channel}") or places[f"service:{service.id}"]
            )
            name = f"service '{service.id}' {channel} template"
            _check_one(found, where, name, channel, source, replace(SAMPLE, service=service.id))
    return found


def _check_one(
    found: TemplateFindings, where: Where, name: str, channel: str, source: str, facts: PageFacts
) -> None:
    try:
        part = render(source, facts.variables())
    except RenderFailed as error:
        hint = " (an alert may lack a label: write `labels.x | default('...')`)"
        found.warnings.append(
            Problem(
                where,
                f"{name} fails with a sample alert: {error}; such an alert is paged with the "
                f"default text{hint if str(error).startswith('undefined') else ''}",
            )
        )
        return
    text = templated_sms(part, SAMPLE_CODE) if channel == "sms" else templated_speech(part)
    if text is None:
        message = f"{name} renders nothing with a sample alert: the default text would go out"
        found.warnings.append(Problem(where, message))
        return
    if channel == "sms":
        _sms_findings(found, where, name, part, text)
    else:
        full = plain_line(part)
        if full not in text:
            message = f"{name} is cut to {VOICE_MAX} characters with a sample alert: {text!r}"
            found.warnings.append(Problem(where, message))
        size = f"{len(text)} of {VOICE_MAX} characters"
        found.notices.append(Problem(where, f"{name} with a sample alert: {size}: {text!r}"))


def _sms_findings(found: TemplateFindings, where: Where, name: str, part: str, text: str) -> None:
    foreign = dict.fromkeys(ch for ch in part if not ch.isspace() and not is_gsm7(ch))
    if foreign:
        shown = ", ".join(f"{ch!r} as {to_gsm7(ch) or 'nothing'!r}" for ch in foreign)
        found.warnings.append(Problem(where, f"{name} has characters not in GSM-7, sent {shown}"))
    if sms_lines(part) not in text:
        message = f"{name} is cut to fit {SMS_SEGMENTS} segments with a sample alert: {text!r}"
        found.warnings.append(Problem(where, message))
    count = segments(text)
    size = f"{count} segment{'s' if count > 1 else ''}, {len(text)} characters"
    found.notices.append(Problem(where, f"{name} with a sample alert: {size}: {text!r}"))

"""Message templates: the guarantees hold for any template and any alert, and a template that
fails gives way to the default text with the reason."""

from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pager.domain.messages import (
    PAGE_REPLY,
    VOICE_ENDING,
    VOICE_MAX,
    is_gsm7,
    page_text,
    segments,
    voice_text,
)
from pager.domain.rotation_schema import parse_schedule
from pager.domain.template_sandbox import RenderFailed, render
from pager.domain.templates import Links, PageFacts, links_of, page_body

ISSUE_SMS = "{{ service }}: {{ title }} ({{ firing }} firing) on {{ labels.instance }}"
ISSUE_VOICE = "Payments alert. {{ title }}. {{ annotations.summary }}"
REPLY = "Reply ACK 4821 to acknowledge, RES 4821 to resolve."

FACTS = PageFacts(
    number=12,
    service="payments",
    title="HighErrorRate",
    summary="5xx rate above 5% on checkout-1",
    firing=3,
    resolved=1,
    labels={"alertname": "HighErrorRate", "instance": "checkout-1:9090"},
    annotations={"summary": "5xx rate above 5% on checkout-1"},
    links=Links(runbook="https://runbooks.example.com/5xx"),
)
DEFAULT_SMS = page_text(
    number=12,
    service="payments",
    title="HighErrorRate",
    firing=3,
    summary="5xx rate above 5% on checkout-1",
    code="4821",
)


def test_it_sends_the_issue_example_as_written_then_the_reply_instructions():
    sms = page_body("sms", ISSUE_SMS, FACTS, "4821")
    assert sms.failed is None
    assert sms.text == f"payments: HighErrorRate (3 firing) on checkout-1:9090. {REPLY}"
    assert segments(sms.text) == 1

    call = page_body("voice", ISSUE_VOICE, FACTS, "4821")
    assert call.text == (
        "Payments alert. HighErrorRate. 5xx rate above 5% on checkout-1. "
        "Press 1 to acknowledge, 2 to resolve, 3 to escalate now."
    )


def test_it_uses_the_default_text_without_a_template():
    assert page_body("sms", None, FACTS, "4821").text == DEFAULT_SMS
    assert (
        f"[pager] #12 payments: HighErrorRate (3 firing): 5xx rate above 5% on checkout-1. {REPLY}"
    ) == DEFAULT_SMS


def test_it_gives_every_variable_the_issue_names():
    template = (
        "#{{ number }} {{ urgency }} {{ service }}/{{ title }}: {{ summary }} "
        "{{ firing }}f {{ resolved }}r {{ labels.alertname }} {{ annotations.summary }} "
        "{{ links.runbook }}{{ links.dashboard }}{{ links.generator }}"
    )
    assert page_body("sms", template, FACTS, "4821").text == (
        "#12 high payments/HighErrorRate: 5xx rate above 5% on checkout-1 3f 1r HighErrorRate "
        f"5xx rate above 5% on checkout-1 https://runbooks.example.com/5xx {REPLY}"
    )


def test_it_keeps_the_template_lines_and_drops_blank_ones():
    template = (
        "{{ service }}: {{ title }}\n{% if links.dashboard %}{{ links.dashboard }}{% endif %}\n"
    )
    template += "runbook: {{ links.runbook }}"
    assert page_body("sms", template, FACTS, "4821").text == (
        f"payments: HighErrorRate\nrunbook: https://runbooks.example.com/5xx\n{REPLY}"
    )


def test_it_shortens_the_template_part_and_never_the_reply():
    template = "{{ title }}: {% for i in range(60) %}word{{ i }} {% endfor %}"
    text = page_body("sms", template, FACTS, "4821").text
    assert segments(text) == 2
    assert text.endswith(f"... {REPLY}")
    assert text.startswith("HighErrorRate: word0 word1 word2 ")
    assert "word59" not in text


def test_it_maps_the_template_text_to_gsm7():
    text = page_body("sms", "“{{ title }}” – on fire 🔥 Łódź", FACTS, "4821").text
    assert text == f'"HighErrorRate" - on fire ? ?odz. {REPLY}'


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{{ labels.team }}", "undefined: 'dict object' has no attribute 'team'"),
        ("{{ nobody }}", "undefined: 'nobody' is undefined"),
        ("{{ ''.__class__ }}", "not allowed: access to attribute '__class__' of 'str' object"),
        ("{{ labels.pop('instance') }}", "not allowed: access to attribute 'pop' of 'dict'"),
        ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
        (
            "{% for i in range(999) %}{% for j in range(999) %}{% endfor %}{% endfor %}",
            "the template took more than 20000 steps",
        ),
        ("{% for i in range(-5000, 0) %}{% endfor %}", "too big: range() of more than 1000 items"),
        ("{{ title * 1000 }}", "too big: the template builds a value longer than 4000"),
        ("{% set a = 'x' * 3000 %}{{ a ~ a }}", "too big: the template builds a value longer"),
        ("{{ title|center(100000) }}", "too big: a number over 1000 given to a call or filter"),
        ("{{ '%99999s' % title }}", "too big: a format width over 999"),
        ("{{ '{:99999}'.format(title) }}", "too big: a format width over 999"),
        ("{{ 99 ** 99 }}", "too big: the template builds a number too large"),
        ("{% for i in range(999) %}{{ title }}{% endfor %}", "renders more than 4000 characters"),
        ("{% if %}", "syntax error"),
        ("{{ '' }}   \n ", "the template rendered nothing"),
    ],
)
def test_it_falls_back_to_the_default_text_and_says_why(template, why):
    body = page_body("sms", template, FACTS, "4821")
    assert body.text == DEFAULT_SMS
    assert body.failed is not None and why in body.failed

    call = page_body("voice", template, FACTS, "4821")
    assert call.text == voice_text(
        number=12, service="payments", title="HighErrorRate", firing=3, summary=FACTS.summary
    )
    assert call.failed == body.failed


def test_it_leaves_the_facts_as_they_were_whatever_the_template_does():
    with pytest.raises(RenderFailed):
        render("{{ labels.clear() }}", FACTS.variables())
    assert FACTS.labels == {"alertname": "HighErrorRate", "instance": "checkout-1:9090"}


def test_it_finds_an_alerts_links_in_its_annotations():
    annotations = {"runbook_url": "https://r", "dashboard": "https://d", "grafana_url": "https://g"}
    assert links_of(annotations, "https://prom/graph") == Links(
        "https://r", "https://d", "https://prom/graph"
    )
    assert links_of({}, None) == Links("", "", "")


snippets = st.sampled_from(
    [
        "{{ service }}",
        "{{ title }}",
        "{{ summary }}",
        "{{ labels.instance }}",
        "{{ labels.instance | default('?') }}",
        "{{ annotations.summary }}",
        "{% for k, v in labels.items() %}{{ k }}={{ v }}\n{% endfor %}",
        "{% for k in annotations %}{{ annotations[k] * 3 }}{% endfor %}",
        "{{ links.runbook }}",
        "{{ firing }}/{{ resolved }} #{{ number }} {{ urgency }}",
        "{{ nobody }}",
        "{% if",
        "{{ ''.__class__.__mro__ }}",
        "{% for i in range(900) %}{% for j in range(900) %}{% endfor %}{% endfor %}",
        "{{ title * 500 }}",
    ]
)
templates = st.lists(st.one_of(st.text(max_size=80), snippets), max_size=8).map("".join)
texts = st.text(max_size=300)
alert_maps = st.dictionaries(
    st.sampled_from(["instance", "summary", "job", "x"]) | st.text(max_size=10), texts, max_size=5
)
codes = st.from_regex(r"[0-9]{4,8}", fullmatch=True)


def _facts(title: str, labels: dict[str, str], annotations: dict[str, str]) -> PageFacts:
    return PageFacts(
        number=7,
        service="payments",
        title=title or "HighErrorRate",
        summary=annotations.get("summary", ""),
        labels=labels,
        annotations=annotations,
    )


@settings(deadline=None, max_examples=300)
@given(template=templates, title=texts, labels=alert_maps, annotations=alert_maps, code=codes)
def test_it_always_sends_the_code_and_instructions_in_gsm7_within_two_segments(
    template, title, labels, annotations, code
):
    facts = _facts(title, labels, annotations)
    body = page_body("sms", template, facts, code)
    assert body.text.endswith(PAGE_REPLY.format(code=code))
    assert is_gsm7(body.text)
    assert segments(body.text) <= 2
    if body.failed is not None:
        assert body.text == page_text(
            number=7,
            service="payments",
            title=facts.title,
            firing=1,
            summary=facts.summary or None,
            code=code,
        )


@settings(deadline=None, max_examples=200)
@given(template=templates, title=texts, labels=alert_maps, annotations=alert_maps)
def test_it_always_ends_a_call_with_the_keypad_choices_within_the_limit(
    template, title, labels, annotations
):
    body = page_body("voice", template, _facts(title, labels, annotations), "4821")
    assert body.text.endswith(VOICE_ENDING)
    assert len(body.text) <= VOICE_MAX
    assert all(ch.isprintable() for ch in body.text)


PEOPLE_AND_POLICY = """\
people:
  alice: {name: Alice Example, phone: "+447700900101", timezone: Europe/London}
policies:
  sre:
    steps:
      - {targets: [person:alice], channels: [sms], wait: 5m}
"""


def _schedule(services: str):
    return parse_schedule([("r.yaml", PEOPLE_AND_POLICY + dedent(services))])


def test_it_reads_a_services_templates():
    schedule, problems = _schedule(
        """\
        services:
          payments:
            policy: sre
            templates:
              sms: "{{ service }}: {{ title }} ({{ firing }} firing) on {{ labels.instance }}"
              voice: "Payments alert. {{ title }}. {{ annotations.summary }}"
        """
    )
    assert problems == []
    assert schedule is not None
    assert schedule.services["payments"].templates == {"sms": ISSUE_SMS, "voice": ISSUE_VOICE}


def test_it_refuses_unknown_variables_bad_syntax_and_unknown_channels_with_file_and_line():
    _, problems = _schedule(
        """\
        services:
          payments:
            policy: sre
            templates:
              sms: "{{ servce }}: {{ title }}"
              voice: "{{ title }"
          search:
            policy: sre
            templates: {email: "{{ title }}", sms: "{{ hostname }}"}
        """
    )
    assert [str(p) for p in problems] == [
        "r.yaml:11: sms: unknown variable 'servce' (did you mean 'service'?)",
        "r.yaml:12: voice: syntax error: unexpected '}'",
        "r.yaml:15: unknown key 'email' in templates of service 'search' (allowed: sms, voice)",
        "r.yaml:15: sms: unknown variable 'hostname' (known: service, title, summary, labels, "
        "annotations, firing, resolved, number, links, urgency)",
    ]

"""`pager check` on message templates: each rendered with a sample alert, findings at file:line."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from pager.cli.check import check
from pager.domain.messages import VOICE_ENDING

TEAM = """\
people:
  alice: {name: Alice Example, phone: "+447700900101", timezone: Europe/London}
rotations:
  sre-primary: {timezone: Europe/London, start: 2026-01-05T09:00, shift: 1w, members: [alice]}
policies:
  sre:
    steps:
      - {targets: [rotation:sre-primary], channels: [sms, voice], wait: 5m}
services:
  payments:
    policy: sre
    templates:
      sms: "{{ service }}: {{ title }} ({{ firing }} firing) on {{ labels.instance }}"
      voice: "Payments alert. {{ title }}. {{ annotations.summary }}"
  search:
    policy: sre
    templates:
      sms: "{{ labels.team }} – {{ title }} 🔥"
  web:
    policy: sre
    templates:
      sms: |
        {{ service }} {{ title }}
        {% for i in range(40) %}{{ annotations.description }} {% endfor %}
      voice: "{{ annotations.description * 12 }}"
"""
REPLY = "Reply ACK 4821 to acknowledge, RES 4821 to resolve."


@pytest.fixture(autouse=True)
def no_config(monkeypatch):
    monkeypatch.delenv("PAGER_CONFIG", raising=False)


def run_check(tmp_path: Path, text: str, *args: str):
    (tmp_path / "rotations").mkdir()
    (tmp_path / "rotations" / "team.yaml").write_text(text)
    at = "2026-11-25T12:00:00Z"
    return CliRunner().invoke(check, [str(tmp_path / "rotations"), "--at", at, *args])


def test_it_reports_each_templates_text_size_and_problems_at_file_and_line(tmp_path):
    result = run_check(tmp_path, TEAM)
    file = tmp_path / "rotations" / "team.yaml"
    assert result.exit_code == 0, result.output
    description = "The 5xx rate has been above 5% for 5 minutes."
    payments_sms = f"payments: HighErrorRate (3 firing) on checkout-1:9090. {REPLY}"
    payments_call = (
        "Payments alert. HighErrorRate. 5xx rate above 5% on checkout-1. "
        "Press 1 to acknowledge, 2 to resolve, 3 to escalate now."
    )
    web_sms = f"web HighErrorRate\n{f'{description} ' * 5}The...\n{REPLY}"
    web_call = f"{description * 7}The 5xx rate has been... {VOICE_ENDING}"
    assert (len(web_sms), len(web_call)) == (306, 396)
    shown_sms = web_sms.replace("\n", "\\n")
    assert result.output.splitlines() == [
        f"{file}:18:7: warning: service 'search' sms template fails with a sample alert: "
        "undefined: 'dict object' has no attribute 'team'; such an alert is paged with the "
        "default text (an alert may lack a label: write `labels.x | default('...')`)",
        f"{file}:22:7: warning: service 'web' sms template is cut to fit 2 segments with a "
        f"sample alert: '{shown_sms}'",
        f"{file}:25:7: warning: service 'web' voice template is cut to 400 characters with a "
        f"sample alert: '{web_call}'",
        f"{file}:13:7: note: service 'payments' sms template with a sample alert: 1 segment, "
        f"{len(payments_sms)} characters: '{payments_sms}'",
        f"{file}:14:7: note: service 'payments' voice template with a sample alert: "
        f"{len(payments_call)} of 400 characters: '{payments_call}'",
        f"{file}:22:7: note: service 'web' sms template with a sample alert: 2 segments, "
        f"306 characters: '{shown_sms}'",
        f"{file}:25:7: note: service 'web' voice template with a sample alert: 396 of 400 "
        f"characters: '{web_call}'",
        "ok: 1 person, 1 rotation, 0 overrides, 1 policy, 3 services in 1 file",
    ]


def test_it_names_characters_gsm7_lacks_and_what_they_become(tmp_path):
    text = TEAM.replace("{{ labels.team }}", "{{ labels.team | default('search') }}")
    result = run_check(tmp_path, text)
    file = tmp_path / "rotations" / "team.yaml"
    assert (
        f"{file}:18:7: warning: service 'search' sms template has characters not in GSM-7, "
        "sent '–' as '-', '🔥' as '?'"
    ) in result.output.splitlines()
    assert (
        f"{file}:18:7: note: service 'search' sms template with a sample alert: 1 segment, "
        f"76 characters: 'search - HighErrorRate ? {REPLY}'"
    ) in result.output.splitlines()


def test_it_fails_on_warnings_when_strict(tmp_path):
    assert run_check(tmp_path, TEAM, "--strict").exit_code == 1


def test_it_refuses_an_unknown_variable_with_file_and_line(tmp_path):
    result = run_check(tmp_path, TEAM.replace("{{ title }} 🔥", "{{ titel }}"))
    file = tmp_path / "rotations" / "team.yaml"
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{file}:18:7: sms: unknown variable 'titel' (did you mean 'title'?)"
    ]

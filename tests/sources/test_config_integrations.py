"""pager.yaml's integrations for every source: secrets, branches, mappings, located mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pager.config import SOURCES, ConfigError, FieldMapping, load_settings
from pager.sources import REGISTRY

CONFIG = """\
integrations:
  checkout-ci:
    service: payments
    source: github
    secret: ${GITHUB_SECRET}
    previous_secret: ${GITHUB_OLD_SECRET:-}
    branches: [main, release]
  ledger-ci:
    service: payments
    source: gitlab
    token: ${GITLAB_TOKEN}
  grafana-signed:
    service: payments
    source: grafana
    secret: grafana-hmac
  status-page:
    service: payments
    source: generic
    token: generic-token
    mapping:
      id: $.incident.key
      title: $.incident.name
      status: $.state
      firing: [open, triggered]
      resolved: [closed]
"""
ENV = {"GITHUB_SECRET": "gh-1", "GITHUB_OLD_SECRET": "gh-0", "GITLAB_TOKEN": "gl-1"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pager.yaml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, ENV)
    return [str(p).removeprefix(f"{path}:") for p in caught.value.problems]


def test_every_configurable_source_has_a_module_in_the_registry() -> None:
    assert (
        set(SOURCES)
        == set(REGISTRY)
        == {
            "alertmanager",
            "grafana",
            "github",
            "gitlab",
            "jenkins",
            "pagerduty",
            "generic",
        }
    )


def test_it_reads_secrets_branches_and_mappings(tmp_path: Path) -> None:
    integrations = load_settings(write(tmp_path, CONFIG), ENV).integrations
    github = integrations["checkout-ci"]
    assert (github.token, github.secret, github.previous_secret, github.branches) == (
        None,
        "gh-1",
        "gh-0",
        ("main", "release"),
    )
    assert integrations["ledger-ci"].branches == ()
    assert (integrations["grafana-signed"].token, integrations["grafana-signed"].secret) == (
        None,
        "grafana-hmac",
    )
    assert integrations["status-page"].mapping == FieldMapping(
        id=("incident", "key"),
        title=("incident", "name"),
        status=("state",),
        firing=("open", "triggered"),
        resolved=("closed",),
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "{service: s, source: github}",
            "2: integration 'ci': missing 'secret' (the webhook's HMAC secret, "
            "e.g. ${GITHUB_WEBHOOK_SECRET})",
        ),
        (
            "{service: s, source: github, secret: x, token: y}",
            "2: integration 'ci': source 'github' takes no 'token'",
        ),
        (
            "{service: s, source: gitlab, token: x, secret: y}",
            "2: integration 'ci': source 'gitlab' takes no 'secret'",
        ),
        (
            "{service: s, source: alertmanager, token: x, branches: [main]}",
            "2: integration 'ci': source 'alertmanager' takes no 'branches'",
        ),
        (
            "{service: s, source: github, secret: x, mapping: {title: $.a}}",
            "2: integration 'ci': source 'github' takes no 'mapping'",
        ),
        (
            "{service: s, source: grafana}",
            "2: integration 'ci': missing 'token' (or 'secret' for signed requests)",
        ),
        (
            "{service: s, source: grafana, token: x, previous_secret: y}",
            "2: integration 'ci': previous_secret needs secret",
        ),
        (
            "{service: s, source: jenkins, token: x, brnaches: [main]}",
            "2: unknown key 'brnaches' in integration 'ci' (known: branches, group_by, mapping, "
            "previous_secret, reopen_within, secret, service, source, token, urgency)",
        ),
        (
            "{service: s, source: gitlab, token: x, branches: main}",
            "2: integration 'ci': branches: expected a list of branch names",
        ),
        (
            "{service: s, source: generic, token: x, mapping: {id: $.k}}",
            "2: integration 'ci' mapping: missing 'title' (a path such as $.incident.name)",
        ),
        (
            "{service: s, source: generic, token: x, mapping: {title: $..a}}",
            "2: integration 'ci' mapping title: '$..a' is not a path like $.incident.key",
        ),
        (
            "{service: s, source: generic, token: x, mapping: {title: $.a, colour: $.c}}",
            "2: unknown key 'colour' in integration 'ci' mapping (known: firing, id, labels, "
            "resolved, status, summary, title, url)",
        ),
        (
            "{service: s, source: generic, token: x, mapping: {title: $.a, firing: open}}",
            "2: integration 'ci' mapping firing: expected a list of states",
        ),
    ],
)
def test_it_reports_each_integration_mistake_with_its_line(tmp_path, entry, expected) -> None:
    assert problems(tmp_path, f"integrations:\n  ci: {entry}\n") == [expected]


def test_it_still_reads_the_original_three_keys(tmp_path: Path) -> None:
    text = "integrations:\n  am: {service: payments, source: alertmanager, token: t}\n"
    am = load_settings(write(tmp_path, text), {}).integrations["am"]
    assert (am.token, am.secret, am.branches, am.mapping) == ("t", None, (), None)

"""Jenkins' Notification plugin: finished failed or unstable builds fire; a success resolves."""

from __future__ import annotations

from typing import Any

import pytest

from pager.config import IntegrationSettings
from pager.sources.delivery import Delivery, Received
from pager.sources.errors import Ignored, SourceError
from pager.sources.jenkins import branch_name, read
from tests.helpers import payload

BILLING = IntegrationSettings("billing-jenkins", "payments", "jenkins", "jk-token")


def jenkins(body: Any, integration: IntegrationSettings = BILLING) -> Received:
    return read(body, Delivery.of(b"", {}), integration)


def ignored(body: Any, integration: IntegrationSettings = BILLING) -> str:
    with pytest.raises(Ignored) as caught:
        jenkins(body, integration)
    return str(caught.value)


def test_it_fires_for_a_failed_build() -> None:
    [event] = jenkins(payload("jenkins_failed.json")).events
    assert (event.status, event.name) == ("firing", "billing-nightly: build failed on main")
    assert event.summary == "billing-nightly #218 failure on main"
    assert event.generator_url == "https://jenkins.example.com/job/billing-nightly/218/"
    assert dict(event.labels) == {
        "job": "billing-nightly",
        "branch": "main",
        "build_status": "FAILURE",
        "commit": "e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a",
    }


def test_it_fires_for_an_unstable_build_and_resolves_on_success() -> None:
    body = payload("jenkins_failed.json")
    body["build"]["status"] = "UNSTABLE"
    [unstable] = jenkins(body).events
    assert (unstable.status, unstable.name) == ("firing", "billing-nightly: build unstable on main")
    [passed] = jenkins(payload("jenkins_succeeded.json")).events
    assert (passed.status, passed.fingerprint) == ("resolved", unstable.fingerprint)


def test_it_ignores_unfinished_phases_and_aborted_builds() -> None:
    assert ignored(payload("jenkins_started.json")) == (
        "build phase 'STARTED': only finished builds (COMPLETED, FINALIZED) count"
    )
    body = payload("jenkins_failed.json")
    body["build"]["status"] = "ABORTED"
    assert ignored(body) == "build.status 'ABORTED' neither fails nor fixes the build"


def test_it_watches_every_branch_unless_branches_are_configured() -> None:
    body = payload("jenkins_failed.json")
    body["build"]["scm"]["branch"] = "origin/feature/pdf"
    assert jenkins(body).events[0].labels["branch"] == "feature/pdf"
    main_only = IntegrationSettings("j", "payments", "jenkins", "t", branches=("main",))
    assert ignored(body, main_only) == "branch 'feature/pdf' is not watched (watched: main)"
    del body["build"]["scm"]
    assert ignored(body, main_only) == "branch (none) is not watched (watched: main)"
    assert jenkins(body).events[0].name == "billing-nightly: build failed"


@pytest.mark.parametrize(
    ("reported", "branch"),
    [("origin/main", "main"), ("refs/heads/main", "main"), ("main", "main"), (None, None)],
)
def test_it_strips_the_remote_from_branch_names(reported, branch) -> None:
    assert branch_name(reported) == branch


def test_it_names_a_missing_job_name() -> None:
    body = payload("jenkins_failed.json")
    del body["name"]
    with pytest.raises(SourceError) as caught:
        jenkins(body)
    assert caught.value.field == "name"

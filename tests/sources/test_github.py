"""GitHub: failed workflow runs and check suites on watched branches fire; a success resolves."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pager.config import IntegrationSettings
from pager.sources.delivery import Delivery, Received
from pager.sources.errors import Ignored, SourceError
from pager.sources.github import read
from tests.helpers import payload

CI = IntegrationSettings("checkout-ci", "payments", "github", None, secret="s3cret")


def github(event: str, body: Any, integration: IntegrationSettings = CI) -> Received:
    return read(body, Delivery.of(b"", {"X-GitHub-Event": event}), integration)


def ignored(event: str, body: Any, integration: IntegrationSettings = CI) -> str:
    with pytest.raises(Ignored) as caught:
        github(event, body, integration)
    return str(caught.value)


def test_it_fires_for_a_failed_run_on_the_default_branch() -> None:
    [event] = github("workflow_run", payload("github_workflow_run_failed.json")).events
    assert event.status == "firing"
    assert event.name == "checkout: CI failed on main"
    assert event.summary == (
        "acme-payments/checkout: CI run #412 failure on main: "
        "Retry card captures on gateway timeouts"
    )
    assert dict(event.labels) == {
        "repository": "acme-payments/checkout",
        "workflow": ".github/workflows/ci.yml",
        "branch": "main",
        "conclusion": "failure",
        "event": "push",
        "commit": "9f1c2ab07d54e3c8a11f0e7b2d6c4a93e58b1f20",
    }
    assert (
        event.generator_url == "https://github.com/acme-payments/checkout/actions/runs/11982034551"
    )
    assert event.starts_at == datetime(2026, 11, 25, 8, 40, 30, tzinfo=UTC)


def test_it_resolves_with_the_next_success_of_the_same_workflow_and_branch() -> None:
    [failed] = github("workflow_run", payload("github_workflow_run_failed.json")).events
    [passed] = github("workflow_run", payload("github_workflow_run_succeeded.json")).events
    assert (passed.status, passed.fingerprint) == ("resolved", failed.fingerprint)


@pytest.mark.parametrize("conclusion", ["timed_out", "startup_failure"])
def test_it_fires_for_runs_that_time_out_or_cannot_start(conclusion: str) -> None:
    body = payload("github_workflow_run_failed.json")
    body["workflow_run"]["conclusion"] = conclusion
    assert github("workflow_run", body).events[0].status == "firing"


@pytest.mark.parametrize("conclusion", ["cancelled", "skipped", "neutral", "action_required"])
def test_it_ignores_runs_that_neither_fail_nor_pass(conclusion: str) -> None:
    body = payload("github_workflow_run_failed.json")
    body["workflow_run"]["conclusion"] = conclusion
    assert ignored("workflow_run", body) == (
        f"conclusion '{conclusion}' neither fails nor fixes the build"
    )


def test_it_ignores_other_branches_unless_configured() -> None:
    body = payload("github_workflow_run_failed.json")
    body["workflow_run"]["head_branch"] = "feature/retry"
    assert ignored("workflow_run", body) == (
        "branch 'feature/retry' is not watched (watched: main)"
    )
    release = IntegrationSettings("ci", "payments", "github", None, "s", branches=("release",))
    assert ignored("workflow_run", payload("github_workflow_run_failed.json"), release) == (
        "branch 'main' is not watched (watched: release)"
    )
    body["workflow_run"]["head_branch"] = "release"
    assert github("workflow_run", body, release).events[0].labels["branch"] == "release"


def test_it_ignores_runs_that_have_not_completed() -> None:
    body = payload("github_workflow_run_failed.json")
    body["action"] = "in_progress"
    assert ignored("workflow_run", body) == "workflow_run in_progress: only completed ones count"


def test_it_fires_for_a_failed_check_suite_keyed_by_its_app() -> None:
    [event] = github("check_suite", payload("github_check_suite_failed.json")).events
    assert (event.status, event.name) == (
        "firing",
        "checkout: Buildkite Checks checks failed on main",
    )
    assert event.labels["checks"] == "buildkite-checks"
    assert event.generator_url == (
        "https://github.com/acme-payments/checkout/commit/"
        "9f1c2ab07d54e3c8a11f0e7b2d6c4a93e58b1f20/checks"
    )
    [run] = github("workflow_run", payload("github_workflow_run_failed.json")).events
    assert event.fingerprint != run.fingerprint


def test_it_answers_ping_and_unwatched_events_with_a_reason() -> None:
    assert ignored("ping", payload("github_ping.json")) == (
        "ping: the webhook reaches pager; failed runs will open incidents"
    )
    assert ignored("push", {"ref": "refs/heads/main"}) == (
        "event 'push' is not watched (watched: check_suite, workflow_run)"
    )


def test_it_names_the_missing_event_header_and_bad_fields() -> None:
    with pytest.raises(SourceError) as caught:
        read({}, Delivery.of(b"", {}), CI)
    assert caught.value.field == "X-GitHub-Event"
    body = payload("github_workflow_run_failed.json")
    del body["repository"]
    with pytest.raises(SourceError) as caught:
        github("workflow_run", body)
    assert (caught.value.field, caught.value.message) == (
        "repository",
        "expected a JSON object, got NoneType",
    )

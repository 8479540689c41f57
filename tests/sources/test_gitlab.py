"""GitLab: a failed pipeline on a watched branch fires; the next success resolves."""

from __future__ import annotations

from typing import Any

import pytest

from pager.config import IntegrationSettings
from pager.sources.delivery import Delivery, Received
from pager.sources.errors import Ignored, SourceError
from pager.sources.gitlab import read
from tests.helpers import payload

LEDGER = IntegrationSettings("ledger-ci", "payments", "gitlab", "gl-token")


def gitlab(
    body: Any, event: str = "Pipeline Hook", integration: IntegrationSettings = LEDGER
) -> Received:
    return read(body, Delivery.of(b"", {"X-Gitlab-Event": event}), integration)


def ignored(
    body: Any, event: str = "Pipeline Hook", integration: IntegrationSettings = LEDGER
) -> str:
    with pytest.raises(Ignored) as caught:
        gitlab(body, event, integration)
    return str(caught.value)


def test_it_fires_for_a_failed_pipeline_on_the_default_branch() -> None:
    [event] = gitlab(payload("gitlab_pipeline_failed.json")).events
    assert (event.status, event.name) == ("firing", "Ledger: pipeline failed on main")
    assert event.summary == (
        "finance/ledger: pipeline #3310 failed on main: Post settlement batches in one transaction"
    )
    assert dict(event.labels) == {
        "project": "finance/ledger",
        "branch": "main",
        "pipeline_status": "failed",
        "pipeline_source": "push",
        "commit": "5d2f8e1c0b9a7d6e4f3c2b1a0e9d8c7b6a5f4e3d",
    }
    assert event.generator_url == "https://gitlab.example.com/finance/ledger/-/pipelines/981204"


def test_it_resolves_with_the_next_successful_pipeline_on_the_branch() -> None:
    [failed] = gitlab(payload("gitlab_pipeline_failed.json")).events
    [passed] = gitlab(payload("gitlab_pipeline_succeeded.json")).events
    assert (passed.status, passed.fingerprint) == ("resolved", failed.fingerprint)


@pytest.mark.parametrize("status", ["running", "pending", "canceled", "skipped", "manual"])
def test_it_ignores_pipelines_that_neither_fail_nor_pass(status: str) -> None:
    body = payload("gitlab_pipeline_failed.json")
    body["object_attributes"]["status"] = status
    assert ignored(body) == f"object_attributes.status '{status}' neither fails nor fixes the build"


def test_it_watches_only_the_configured_branches_and_never_tags() -> None:
    body = payload("gitlab_pipeline_failed.json")
    body["object_attributes"]["ref"] = "hotfix/rounding"
    assert ignored(body) == "branch 'hotfix/rounding' is not watched (watched: main)"
    hotfix = IntegrationSettings("l", "payments", "gitlab", "t", branches=("hotfix/rounding",))
    assert gitlab(body, integration=hotfix).events[0].status == "firing"
    body["object_attributes"]["tag"] = True
    assert ignored(body, integration=hotfix) == (
        "pipeline for tag 'hotfix/rounding': only branches are watched"
    )


def test_it_ignores_other_gitlab_events() -> None:
    assert ignored({"object_kind": "push"}, "Push Hook") == (
        "event 'Push Hook' is not watched (watched: Pipeline Hook)"
    )


def test_it_names_a_missing_field() -> None:
    body = payload("gitlab_pipeline_failed.json")
    del body["object_attributes"]["ref"]
    with pytest.raises(SourceError) as caught:
        gitlab(body)
    assert caught.value.field == "object_attributes.ref"

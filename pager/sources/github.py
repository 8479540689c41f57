"""GitHub webhooks: a failed Actions run (`workflow_run`) or check suite (`check_suite`) pages.

Authenticated by `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` under the
integration's secret. `X-GitHub-Event` names the event: `ping` (sent when the webhook is made)
and events we don't watch are answered 200 and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pager.config import IntegrationSettings
from pager.domain.alerts import AlertStatus
from pager.sources import auth, ci, fields
from pager.sources.delivery import Delivery, Received
from pager.sources.errors import Ignored, SourceError

verify = auth.signature_in_header("X-Hub-Signature-256", "sha256=")

# `cancelled` is left out on purpose: a newer push cancelling an older run is routine.
FAILING = ("failure", "timed_out", "startup_failure")
PASSING = ("success",)


@dataclass(frozen=True)
class Repository:
    full_name: str  # octo-org/shop
    name: str  # shop
    default_branch: str | None
    html_url: str | None


@dataclass(frozen=True)
class Finished:
    """A completed run or check suite on a watched branch, and what it means for the branch."""

    repo: Repository
    branch: str
    conclusion: str
    status: AlertStatus


def read(payload: Any, delivery: Delivery, integration: IntegrationSettings) -> Received:
    event = delivery.header("X-GitHub-Event")
    if not event:
        raise SourceError("X-GitHub-Event", "missing header: GitHub names the event in it")
    if event == "ping":
        raise Ignored("ping: the webhook reaches pager; failed runs will open incidents")
    reader = _READERS.get(event)
    if reader is None:
        raise Ignored(f"event '{event}' is not watched (watched: {', '.join(_READERS)})")
    body = fields.mapping(payload, "")
    if body.get("action") != "completed":
        raise Ignored(f"{event} {body.get('action')}: only completed ones count")
    item = fields.mapping(body.get(event), event)  # body["workflow_run"], body["check_suite"]
    repo = _repository(body)
    head = fields.optional_text(item, "head_branch", f"{event}.head_branch")
    conclusion = item.get("conclusion")
    finished = Finished(
        repo=repo,
        branch=ci.watched_branch(head, integration.branches, repo.default_branch),
        conclusion=str(conclusion),
        status=ci.outcome(conclusion, FAILING, PASSING, "conclusion"),
    )
    return reader(item, finished, body)


def _workflow_name(run: dict[str, Any], body: dict[str, Any]) -> str:
    """The run's name; when GitHub sends it empty (a workflow file without `name:` run by some
    triggers), the workflow's name, then the workflow file's path."""
    workflow = fields.mapping(body.get("workflow") or {}, "workflow")
    for where, key, label in (
        (run, "name", "workflow_run.name"),
        (workflow, "name", "workflow.name"),
        (run, "path", "workflow_run.path"),
        (workflow, "path", "workflow.path"),
    ):
        if found := fields.optional_text(where, key, label):
            return found
    raise SourceError("workflow_run.name", "expected the workflow's name (or workflow.name)")


def _workflow_run(run: dict[str, Any], done: Finished, body: dict[str, Any]) -> Received:
    repo, branch = done.repo, done.branch
    workflow = _workflow_name(run, body)
    title = fields.optional_text(run, "display_title", "workflow_run.display_title")
    number = run.get("run_number")
    summary = f"{repo.full_name}: {workflow} run #{number} {done.conclusion} on {branch}"
    return ci.build_alert(
        identity={
            "repository": repo.full_name,
            "workflow": fields.optional_text(run, "path", "workflow_run.path") or workflow,
            "branch": branch,
        },
        status=done.status,
        title=f"{repo.name}: {workflow} failed on {branch}",
        summary=f"{summary}: {title}" if title else summary,
        details={
            "conclusion": done.conclusion,
            "event": fields.optional_text(run, "event", "workflow_run.event"),
            "commit": fields.optional_text(run, "head_sha", "workflow_run.head_sha"),
        },
        url=fields.optional_text(run, "html_url", "workflow_run.html_url"),
        started=fields.time(run.get("run_started_at"), "workflow_run.run_started_at"),
    )


def _check_suite(suite: dict[str, Any], done: Finished, _body: dict[str, Any]) -> Received:
    repo, branch = done.repo, done.branch
    app = fields.mapping(suite.get("app") or {}, "check_suite.app")
    app_name = fields.optional_text(app, "name", "check_suite.app.name") or "checks"
    sha = fields.optional_text(suite, "head_sha", "check_suite.head_sha")
    at = f" at {sha[:7]}" if sha else ""
    return ci.build_alert(
        identity={
            "repository": repo.full_name,
            "checks": fields.optional_text(app, "slug", "check_suite.app.slug") or app_name,
            "branch": branch,
        },
        status=done.status,
        title=f"{repo.name}: {app_name} checks failed on {branch}",
        summary=f"{repo.full_name}: {app_name} check suite {done.conclusion} on {branch}{at}",
        details={"conclusion": done.conclusion, "commit": sha},
        url=f"{repo.html_url}/commit/{sha}/checks" if repo.html_url and sha else repo.html_url,
    )


def _repository(body: dict[str, Any]) -> Repository:
    repo = fields.mapping(body.get("repository"), "repository")
    full_name = fields.required_text(repo, "full_name", "repository.full_name")
    return Repository(
        full_name=full_name,
        name=fields.optional_text(repo, "name", "repository.name") or full_name,
        default_branch=fields.optional_text(repo, "default_branch", "repository.default_branch"),
        html_url=fields.optional_text(repo, "html_url", "repository.html_url"),
    )


_READERS: dict[str, Callable[[dict[str, Any], Finished, dict[str, Any]], Received]] = {
    "check_suite": _check_suite,
    "workflow_run": _workflow_run,
}

"""GitLab pipeline events: a failed pipeline on a watched branch pages; the next success resolves.

Authenticated by `X-Gitlab-Token`, which GitLab sends as is: it must equal the integration's
token. `X-Gitlab-Event: Pipeline Hook` names the event; others are answered 200 and ignored.
"""

from __future__ import annotations

from typing import Any

from pager.config import IntegrationSettings
from pager.sources import auth, ci, fields
from pager.sources.delivery import Delivery, Received
from pager.sources.errors import Ignored

verify = auth.token_in_header("X-Gitlab-Token")

PIPELINE_EVENT = "Pipeline Hook"
FAILING = ("failed",)
PASSING = ("success",)  # canceled, skipped, running... neither fail nor fix a branch


def read(payload: Any, delivery: Delivery, integration: IntegrationSettings) -> Received:
    event = delivery.header("X-Gitlab-Event")
    if event != PIPELINE_EVENT:
        raise Ignored(f"event '{event}' is not watched (watched: {PIPELINE_EVENT})")
    body = fields.mapping(payload, "")
    pipeline = fields.mapping(body.get("object_attributes"), "object_attributes")
    project = fields.mapping(body.get("project"), "project")
    path = fields.required_text(project, "path_with_namespace", "project.path_with_namespace")
    ref = fields.required_text(pipeline, "ref", "object_attributes.ref")
    if pipeline.get("tag") is True:
        raise Ignored(f"pipeline for tag '{ref}': only branches are watched")
    default = fields.optional_text(project, "default_branch", "project.default_branch")
    branch = ci.watched_branch(ref, integration.branches, default)
    result = pipeline.get("status")
    status = ci.outcome(result, FAILING, PASSING, "object_attributes.status")
    commit = fields.mapping(body.get("commit") or {}, "commit")
    commit_title = fields.optional_text(commit, "title", "commit.title")
    summary = f"{path}: pipeline #{pipeline.get('iid') or pipeline.get('id')} {result} on {branch}"
    return ci.build_alert(
        identity={"project": path, "branch": branch},
        status=status,
        title=f"{fields.optional_text(project, 'name', 'project.name') or path}: "
        f"pipeline failed on {branch}",
        summary=f"{summary}: {commit_title}" if commit_title else summary,
        details={
            "pipeline_status": str(result),
            "pipeline_source": fields.optional_text(pipeline, "source", "object_attributes.source"),
            "commit": fields.optional_text(pipeline, "sha", "object_attributes.sha"),
        },
        url=fields.optional_text(pipeline, "url", "object_attributes.url")
        or _pipeline_url(project, pipeline),
    )


def _pipeline_url(project: dict[str, Any], pipeline: dict[str, Any]) -> str | None:
    web_url = fields.optional_text(project, "web_url", "project.web_url")
    return f"{web_url}/-/pipelines/{pipeline.get('id')}" if web_url else None

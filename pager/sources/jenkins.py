"""Jenkins' Notification plugin: a failed or unstable build pages; the next success resolves.

Authenticated by the integration's token (the plugin can't set headers: put `?token=` in the
URL). The plugin posts every phase (QUEUED, STARTED, COMPLETED, FINALIZED); finished ones count.
"""

from __future__ import annotations

from typing import Any

from pager.config import IntegrationSettings
from pager.sources import auth, ci, fields
from pager.sources.delivery import Delivery, Received
from pager.sources.errors import Ignored

verify = auth.by_token

FINISHED = ("COMPLETED", "FINALIZED")
FAILING = ("FAILURE", "UNSTABLE")
PASSING = ("SUCCESS",)  # ABORTED and NOT_BUILT neither fail nor fix a branch
_SAID = {"FAILURE": "failed", "UNSTABLE": "unstable", "SUCCESS": "passed"}


def read(payload: Any, delivery: Delivery, integration: IntegrationSettings) -> Received:
    body = fields.mapping(payload, "")
    job = fields.required_text(body, "name", "name")
    build = fields.mapping(body.get("build"), "build")
    phase = build.get("phase")
    if phase not in FINISHED:
        raise Ignored(f"build phase '{phase}': only finished builds ({', '.join(FINISHED)}) count")
    scm = fields.mapping(build.get("scm") or {}, "build.scm")
    branch = branch_name(fields.optional_text(scm, "branch", "build.scm.branch"))
    if integration.branches:
        # Jenkins says nothing of a default branch: without `branches`, every build counts.
        ci.watched_branch(branch, integration.branches, None)
    result = build.get("status")
    status = ci.outcome(result, FAILING, PASSING, "build.status")
    shown = fields.optional_text(body, "display_name", "display_name") or job
    on = f" on {branch}" if branch else ""
    return ci.build_alert(
        identity={"job": job, "branch": branch or ""},
        status=status,
        title=f"{shown}: build {_SAID[str(result)]}{on}",
        summary=f"{job} #{build.get('number')} {str(result).lower()}{on}",
        details={
            "build_status": str(result),
            "commit": fields.optional_text(scm, "commit", "build.scm.commit"),
        },
        url=fields.optional_text(build, "full_url", "build.full_url"),
    )


def branch_name(reported: str | None) -> str | None:
    """The branch as Git names it: Jenkins often reports `origin/main` or `refs/heads/main`."""
    if reported is None:
        return None
    for prefix in ("refs/heads/", "refs/remotes/origin/", "origin/"):
        if reported.startswith(prefix):
            return reported[len(prefix) :]
    return reported

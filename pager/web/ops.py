"""`/healthz` (the process answers), `/readyz` (it can page), `/metrics` (Prometheus)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError

from pager.domain.phones import mask_numbers_in
from pager.flows.backlog import measure_backlog
from pager.flows.context import utcnow
from pager.flows.rotations_git import Unreachable
from pager.metrics import exposition
from pager.web.auth import presented_token, token_matches
from pager.web.errors import pager

blueprint = Blueprint("ops", __name__)


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Whether this instance can page: 200 ok or degraded, 503 unavailable. With an API token
    (`Authorization: Bearer`), each check and the rotation problems too."""
    checks: dict[str, object] = {}
    ready = True
    try:
        pager().db.ping()
        problem = pager().db.storage_problem()
        checks["database"] = "ok" if problem is None else f"unavailable: {problem}"
        ready = problem is None
    except SQLAlchemyError as exc:
        ready = False
        checks["database"] = f"unavailable: {type(exc).__name__}"
    rotations = pager().rotations
    if rotations.schedule is None:
        ready = False
        checks["rotations"] = "no valid rotation set: nobody can be paged"
    elif any(not isinstance(p, Unreachable) for p in rotations.problems):
        files = "the head commit is" if pager().settings.rotations_git else "the files on disk are"
        checks["rotations"] = f"degraded: {files} invalid; the last good set is in force"
    elif rotations.problems:
        checks["rotations"] = "degraded: cannot fetch the repository; the set in force stays"
    else:
        checks["rotations"] = "ok"
    if rotations.problems:
        checks["rotation_problems"] = [mask_numbers_in(str(p)) for p in rotations.problems[:50]]
    status = "ok" if ready and not rotations.problems else ("degraded" if ready else "unavailable")
    if not token_matches(presented_token(), pager().settings.api_tokens):
        # Unauthenticated (load balancers, probes): the verdict only; the details name files,
        # people and the database's error, which are no stranger's business.
        return jsonify(status=status), 200 if ready else 503
    return jsonify(status=status, checks=checks), 200 if ready else 503


@blueprint.get("/metrics")
def metrics() -> ResponseReturnValue:
    measure_backlog(pager(), utcnow())
    return Response(exposition(), content_type=CONTENT_TYPE_LATEST)

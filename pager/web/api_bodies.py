"""The bodies `/api/v1` reads, each declared once (`domain.body_schema`), and the one reader
that turns a request into one of them or a JSON 400 naming the field.

docs/openapi.yaml publishes the same schemas; tests/test_api_bodies.py holds each declaration
against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from flask import request

from pager.domain.body_schema import BodyRefused, BodySchema, Field
from pager.domain.jsonbody import JsonRefused, read_json_object
from pager.flows.incidents import MAX_NOTE
from pager.web.errors import ApiError

MAX_BY = 100
MAX_SERVICE = 200  # the width of silences.service
Body = TypeVar("Body")

BY = Field("by", "text", f"a name of 1 to {MAX_BY} characters", min_length=1, max_length=MAX_BY)


@dataclass(frozen=True)
class ActorBody:
    """Who acts, as a note beside the token's name: ack, unack, resolve, escalate."""

    by: str | None


@dataclass(frozen=True)
class NoteBody:
    text: str
    by: str | None


@dataclass(frozen=True)
class SilenceBody:
    """A new maintenance window: it ends at `ends_at`, or `duration_minutes` after its start."""

    service: str
    starts_at: datetime | None  # None: now
    duration_minutes: int | None
    ends_at: datetime | None  # None when `duration_minutes` says when it ends
    reason: str
    by: str | None


ACTOR = BodySchema(ActorBody, (BY,))
NOTE = BodySchema(
    NoteBody,
    (
        Field(
            "text",
            "text",
            f"a note of 1 to {MAX_NOTE} characters",
            required=True,
            min_length=1,
            max_length=MAX_NOTE,
            not_blank=True,
        ),
        BY,
    ),
)
SILENCE = BodySchema(
    SilenceBody,
    (
        Field(
            "service",
            "text",
            f"a service name of 1 to {MAX_SERVICE} characters",
            required=True,
            min_length=1,
            max_length=MAX_SERVICE,
        ),
        Field("starts_at", "time", "an ISO 8601 time"),
        Field("duration_minutes", "integer", "a positive whole number", minimum=1),
        Field("ends_at", "time", "an ISO 8601 time", unless="duration_minutes"),
        Field("reason", "text", "text", default=""),
        BY,
    ),
)


def read_body(schema: BodySchema[Body], *, required: bool) -> Body:
    """The request's body as `schema` declares it; without a body, the schema's defaults unless
    one is `required`.

    Any body sent must be a JSON object we can store, whatever its Content-Type: an ack whose
    body we can't read must not pass as an ack "by api".
    """
    raw = request.get_data(cache=False)
    try:
        document = {} if not required and not raw.strip() else read_json_object(raw)
    except JsonRefused as exc:
        raise ApiError(400, "invalid_json", exc.message, exc.field or None) from exc
    try:
        return schema.read(document)
    except BodyRefused as exc:
        raise ApiError(400, "invalid_field", exc.message, exc.field) from exc

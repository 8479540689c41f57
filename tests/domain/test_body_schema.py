"""Declared request bodies (`domain.body_schema`): what a schema reads, and the field and words
of what it refuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from pager.domain.body_schema import BodyRefused, BodySchema, Field


@dataclass(frozen=True)
class Window:
    name: str
    size: int | None
    until: datetime | None
    colour: str


WINDOW = BodySchema(
    Window,
    (
        Field(
            "name",
            "text",
            "a name of 1 to 5 characters",
            required=True,
            min_length=1,
            max_length=5,
            not_blank=True,
        ),
        Field("size", "integer", "a positive whole number", minimum=1),
        Field("until", "time", "an ISO 8601 time", unless="size"),
        Field(
            "colour",
            "text",
            "red or blue",
            allowed=("red", "blue"),
            default="red",
            check=lambda value: "'colour' must not be blue" if value == "blue" else None,
        ),
    ),
)


def refusal(document: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(BodyRefused) as caught:
        WINDOW.read(document)
    return caught.value.field, caught.value.message


def test_it_reads_a_body_into_its_dataclass_with_defaults_and_times_in_utc() -> None:
    read = WINDOW.read({"name": "db", "until": "2026-11-25T03:00:00+01:00", "extra": [1]})
    assert read == Window("db", None, datetime(2026, 11, 25, 2, tzinfo=UTC), "red")


def test_it_skips_a_field_whose_alternative_is_given() -> None:
    assert WINDOW.read({"name": "db", "size": 3, "until": "garbage"}).until is None


@pytest.mark.parametrize(
    ("document", "field", "message"),
    [
        ({}, "name", "'name' is required"),
        ({"name": None, "size": 1}, "name", "'name' is required"),
        ({"name": 7, "size": 1}, "name", "'name' must be a name of 1 to 5 characters"),
        ({"name": "", "size": 1}, "name", "'name' must be a name of 1 to 5 characters"),
        ({"name": "   ", "size": 1}, "name", "'name' must be a name of 1 to 5 characters"),
        ({"name": "toolong", "size": 1}, "name", "'name' must be a name of 1 to 5 characters"),
        ({"name": "db", "size": 0}, "size", "'size' must be a positive whole number"),
        ({"name": "db", "size": True}, "size", "'size' must be a positive whole number"),
        ({"name": "db", "size": 1.5}, "size", "'size' must be a positive whole number"),
        ({"name": "db"}, "until", "'until' is required (or 'size')"),
        ({"name": "db", "until": 5}, "until", "'until' must be an ISO 8601 time"),
        ({"name": "db", "until": "soon"}, "until", "'until' is not an ISO 8601 time"),
        ({"name": "db", "until": "2026-11-25T03:00"}, "until", "'until' needs a UTC offset (or Z)"),
        (
            {"name": "db", "until": "0001-01-01T00:00:00+01:00"},
            "until",
            "'until' is out of range in UTC",
        ),
        ({"name": "db", "size": 1, "colour": "green"}, "colour", "'colour' must be red or blue"),
        ({"name": "db", "size": 1, "colour": "blue"}, "colour", "'colour' must not be blue"),
    ],
)
def test_it_refuses_the_first_broken_rule_naming_the_field(
    document: dict[str, Any], field: str, message: str
) -> None:
    assert refusal(document) == (field, message)


def test_it_checks_fields_in_the_order_they_are_declared() -> None:
    assert refusal({"name": "", "size": 0, "colour": 1})[0] == "name"
    assert refusal({"name": "db", "size": 0, "colour": 1})[0] == "size"


def test_it_writes_itself_as_an_openapi_schema() -> None:
    assert WINDOW.openapi() == {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 5},
            "size": {"type": "integer", "minimum": 1},
            "until": {"type": "string", "format": "date-time"},
            "colour": {"type": "string", "enum": ["red", "blue"]},
        },
    }

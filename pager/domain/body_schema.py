"""Request bodies declared once: which fields, of what kind, within what bounds.

A `BodySchema` reads a JSON object (already through `jsonbody.read_json_object`) into a frozen
dataclass, or raises `BodyRefused` naming the first field that breaks a rule, in the order the
fields are declared. Fields the schema does not name are ignored; `null` counts as absent.

Messages: an absent required field "is required"; any other broken rule says what the field
"must be" (`Field.says`), except the rules of times, which say what is wrong with the time.
The schema also writes itself as the OpenAPI schema of the body (`openapi`), so a test can hold
it against the published document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

Kind = Literal["text", "integer", "time"]
Body = TypeVar("Body")


class BodyRefused(ValueError):
    """A body field that breaks its rule; `field` names it as the body does, `absent` says
    whether the rule broken is that it must be there."""

    def __init__(self, field: str, message: str, *, absent: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.absent = absent


@dataclass(frozen=True)
class Field:
    """One field of a body: its kind and rules. `says` completes "'name' must be ..."."""

    name: str
    kind: Kind
    says: str
    required: bool = False
    min_length: int | None = None
    not_blank: bool = False  # text of blanks only breaks the rule too
    max_length: int | None = None
    minimum: int | None = None
    allowed: tuple[str, ...] = ()
    # Required, and read, only when that other field is absent: one of two ways to say a thing.
    unless: str | None = None
    default: Any = None
    check: Callable[[Any], str | None] | None = None  # a further rule: what is wrong, or None
    attribute: str | None = None  # its name in the dataclass, when not `name` (`To`: `to`)

    def openapi(self) -> dict[str, Any]:
        """This field's schema as the OpenAPI document writes it."""
        schema: dict[str, Any] = {"type": "integer" if self.kind == "integer" else "string"}
        if self.kind == "time":
            schema["format"] = "date-time"
        bounds = {
            "minLength": self.min_length,
            "maxLength": self.max_length,
            "minimum": self.minimum,
        }
        schema.update({key: value for key, value in bounds.items() if value is not None})
        if self.allowed:
            schema["enum"] = list(self.allowed)
        return schema


@dataclass(frozen=True)
class BodySchema(Generic[Body]):
    """A body's fields, read into `into` (a dataclass whose fields bear the same names)."""

    into: Callable[..., Body]
    fields: tuple[Field, ...]

    def read(self, document: Mapping[str, Any]) -> Body:
        """The body as `into`; BodyRefused for the first field that breaks its rule."""
        values: dict[str, Any] = {}
        for field in self.fields:
            attribute = field.attribute or field.name
            if field.unless is not None and document.get(field.unless) is not None:
                values[attribute] = field.default
                continue
            values[attribute] = _value_of(field, document.get(field.name))
        return self.into(**values)

    def openapi(self) -> dict[str, Any]:
        """The body's schema as the OpenAPI document writes it (`unless` fields not required:
        the document says in words which of the two to give)."""
        schema: dict[str, Any] = {"type": "object"}
        required = [field.name for field in self.fields if field.required and not field.unless]
        if required:
            schema["required"] = required
        schema["properties"] = {field.name: field.openapi() for field in self.fields}
        return schema


def _value_of(field: Field, given: Any) -> Any:
    """`given` as `field` holds it: its default when absent, else checked (and a time read)."""
    if given is None:
        if field.unless is not None:
            message = f"'{field.name}' is required (or '{field.unless}')"
            raise BodyRefused(field.name, message, absent=True)
        if field.required:
            raise BodyRefused(field.name, f"'{field.name}' is required", absent=True)
        return field.default
    value = _of_kind(field, given)
    problem = _broken_rule(field, value)
    if problem is None and field.check is not None:
        problem = field.check(value)
    if problem is not None:
        raise BodyRefused(field.name, problem)
    return value


def _of_kind(field: Field, given: Any) -> Any:
    wrong = BodyRefused(field.name, f"'{field.name}' must be {field.says}")
    if field.kind == "integer":
        if isinstance(given, bool) or not isinstance(given, int):
            raise wrong
        return given
    if not isinstance(given, str):
        raise wrong
    return instant(given, field.name) if field.kind == "time" else given


def _broken_rule(field: Field, value: Any) -> str | None:
    """What `value` does wrong by the field's bounds, or None."""
    must = f"'{field.name}' must be {field.says}"
    if isinstance(value, str):
        if field.min_length is not None and len(value) < field.min_length:
            return must
        if field.not_blank and not value.strip():
            return must
        if field.max_length is not None and len(value) > field.max_length:
            return must
        if field.allowed and value not in field.allowed:
            return must
    if isinstance(value, int) and field.minimum is not None and value < field.minimum:
        return must
    return None


def instant(value: str, key: str) -> datetime:
    """An ISO 8601 time with an offset (or Z), in UTC; BodyRefused naming `key` otherwise."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BodyRefused(key, f"'{key}' is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        raise BodyRefused(key, f"'{key}' needs a UTC offset (or Z)")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise BodyRefused(key, f"'{key}' is out of range in UTC") from exc

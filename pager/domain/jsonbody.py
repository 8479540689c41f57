"""JSON bodies from strangers, read so that nothing in them can reach a 500.

`read_json` is the one reader every webhook and API body goes through. It refuses, with a
`JsonRefused` naming the field, what the store could never hold or `json.loads` cannot survive:
- bytes that are not UTF-8 (RFC 8259 says JSON on the wire is UTF-8);
- nesting deeper than MAX_DEPTH levels (json.loads itself raises RecursionError near 1,000,
  and json.dumps of a part nested a little less fails further on);
- a lone surrogate (`"\\ud800"`): valid JSON, but not Unicode; the database driver fails on it;
- a NUL character (`"\\u0000"`), which PostgreSQL text cannot hold, unless the caller asks to
  have it dropped instead: an alert is better stored without its NULs than lost (a 4xx is
  final for Alertmanager).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal, NoReturn

# Only a \u escape can bring a surrogate or a NUL into a string decoded from valid UTF-8.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")
# Far more than any sender nests (Alertmanager 4 levels, GitHub about 6), and far enough below
# the recursion limit that json.dumps of a part (custom details, mapped labels) cannot fail.
MAX_DEPTH = 100
NulHandling = Literal["refuse", "drop"]


class JsonRefused(ValueError):
    """A body we cannot read; `field` is the JSON path of the bad part ("" for the whole body)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def read_json(raw: bytes, *, nul: NulHandling = "refuse") -> Any:
    """The document in `raw`; JsonRefused when it is not UTF-8 JSON we can store."""
    if not raw.strip():
        raise JsonRefused("", "empty body: expected a JSON object")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonRefused("", f"body is not UTF-8: byte {exc.start} is invalid") from None
    try:
        document = json.loads(text)
    except RecursionError:
        raise JsonRefused("", "body is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError, or an integer of too many digits
        raise JsonRefused("", f"body is not valid JSON: {exc}") from None
    return _checked(document, nul, texts=_SUSPECT_ESCAPE.search(text) is not None)


def read_json_object(raw: bytes, *, nul: NulHandling = "refuse") -> dict[str, Any]:
    """As read_json, for a body that must be a JSON object."""
    document = read_json(raw, nul=nul)
    if not isinstance(document, dict):
        raise JsonRefused("", f"expected a JSON object, got {type(document).__name__}")
    return document


# Where a value sits: None for the body itself, else (where its container sits, key or index).
Trail = tuple["Trail", str | int] | None


def _checked(document: Any, nul: NulHandling, *, texts: bool) -> Any:
    """`document`, its nesting checked and, with `texts`, every string and key too; without
    recursion, since the document may be deep."""
    root = [document]
    pending: list[tuple[Any, int, Trail]] = [(root, 0, None)]  # (a dict or list, depth, trail)
    while pending:
        container, depth, trail = pending.pop()
        if depth > MAX_DEPTH:
            raise JsonRefused(_shown(trail), f"nested deeper than {MAX_DEPTH} levels")
        if texts and isinstance(container, dict):
            _check_keys(container, trail, nul)
        pairs = container.items() if isinstance(container, dict) else enumerate(container)
        for key, value in pairs:
            at = None if container is root else (trail, key)
            if isinstance(value, dict | list):
                pending.append((value, depth + 1, at))
            elif texts and isinstance(value, str):
                checked = _text(value, nul)
                if checked is None:
                    _refuse(value, _shown(at))
                if checked is not value:
                    container[key] = checked  # same key, new value: safe while iterating
    return root[0]


def _check_keys(container: dict[str, Any], trail: Trail, nul: NulHandling) -> None:
    renamed = {}
    for key in container:
        new = _text(key, nul)
        if new is None:
            _refuse(key, _shown((trail, key)))
        if new is not key:
            renamed[key] = new
    if renamed:  # keys that lost their NULs: rebuild, in order
        items = [(renamed.get(key, key), value) for key, value in container.items()]
        container.clear()
        container.update(items)


def _shown(trail: Trail) -> str:
    """The JSON path of `trail`, as sources name fields: `alerts[0].labels.alertname`."""
    parts: list[str] = []
    while trail is not None:
        trail, key = trail
        if isinstance(key, int):
            parts.append(f"[{key}]")
        else:  # a bad key is named escaped
            parts.append("." + key.encode("utf-8", "backslashreplace").decode())
    return "".join(reversed(parts)).removeprefix(".")


def _text(value: str, nul: NulHandling) -> str | None:
    """`value` as it may be stored (itself when unchanged), or None when it must be refused."""
    if "\x00" in value:
        if nul == "refuse":
            return None
        value = value.replace("\x00", "")
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def _refuse(value: str, path: str) -> NoReturn:
    """Raise JsonRefused for `value`, which _text refused, saying why."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        surrogate = f"\\u{ord(value[exc.start]):04x}"
        raise JsonRefused(path, f"not Unicode text: a lone surrogate {surrogate}") from None
    raise JsonRefused(path, "contains a NUL character (\\u0000), which cannot be stored")

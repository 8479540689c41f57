"""The one reader of JSON bodies from strangers: what it takes, drops and refuses, and where."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pager.domain.jsonbody import MAX_DEPTH, JsonRefused, read_json, read_json_object


def refusal(raw: bytes, nul: Any = "refuse") -> tuple[str, str]:
    with pytest.raises(JsonRefused) as caught:
        read_json(raw, nul=nul)
    return caught.value.field, caught.value.message


def test_it_reads_json_as_json_loads_does() -> None:
    raw = b'{"alerts": [{"labels": {"a": "\\u00e9\\ud83d\\udea8"}}], "n": 1.5, "ok": true}'
    assert read_json(raw) == json.loads(raw)
    assert read_json(b"\xef\xbb\xbf[1]") == [1]  # a UTF-8 byte order mark is tolerated


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty body: expected a JSON object"),
        (b" \n", "empty body: expected a JSON object"),
        (b"[" * 100_000, "body is not valid JSON: nested too deeply"),
        (b'{"a": 1', "body is not valid JSON: Expecting ',' delimiter: line 1 column 8 (char 7)"),
        (b'{"a": "\xff"}', "body is not UTF-8: byte 7 is invalid"),
        (b'"\xed\xa0\x80"', "body is not UTF-8: byte 1 is invalid"),  # an encoded surrogate
    ],
    ids=["empty", "blank", "deep", "cut-short", "not-utf8", "utf8-surrogate"],
)
def test_it_refuses_what_is_not_json_for_the_whole_body(raw: bytes, message: str) -> None:
    assert refusal(raw) == ("", message)


def test_it_reads_an_object_or_says_what_came_instead() -> None:
    assert read_json_object(b'{"by": "alice"}') == {"by": "alice"}
    for raw, got in ((b"[]", "list"), (b'"x"', "str"), (b"null", "NoneType"), (b"1e400", "float")):
        with pytest.raises(JsonRefused) as caught:
            read_json_object(raw)
        assert (caught.value.field, caught.value.message) == (
            "",
            f"expected a JSON object, got {got}",
        )


def test_it_refuses_an_integer_too_long_to_convert() -> None:
    field, message = refusal(b"[" + b"9" * 5_000 + b"]")
    assert field == "" and "limit (4300 digits)" in message


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'"\\ud800"', ""),
        (b'{"alerts": [{"labels": {"alertname": "x\\udfffy"}}]}', "alerts[0].labels.alertname"),
        (b'{"a": [1, 2, ["\\ud800\\ud800"]]}', "a[2][0]"),  # two highs: not a pair
        (b'{"\\udc00": 1}', "\\udc00"),  # a key, shown escaped
        (b'{"a": {"\\ud800b": 1}}', "a.\\ud800b"),
    ],
)
def test_it_refuses_a_lone_surrogate_naming_where_it_is(raw: bytes, field: str) -> None:
    for nul in ("refuse", "drop"):
        found, message = refusal(raw, nul)
        assert found == field
        assert message.startswith("not Unicode text: a lone surrogate \\u")


def test_it_refuses_a_nul_naming_where_it_is() -> None:
    raw = b'{"service": "pay", "by": ["ok", "a\\u0000b"]}'
    assert refusal(raw) == ("by[1]", "contains a NUL character (\\u0000), which cannot be stored")
    assert refusal(b'{"a\\u0000": 1}')[0] == "a\x00"


def test_it_drops_nuls_when_asked_keeping_the_order_of_keys() -> None:
    raw = b'{"z": 1, "a\\u0000b": "c\\u0000\\u0000d", "list": ["\\u0000", {"k": "\\u0000v"}]}'
    read = read_json(raw, nul="drop")
    assert read == {"z": 1, "ab": "cd", "list": ["", {"k": "v"}]}
    assert list(read) == ["z", "ab", "list"]


def test_it_leaves_an_escaped_backslash_before_u_alone() -> None:
    raw = b'{"path": "C:\\\\ud800\\\\u0000"}'  # the text C:\ud800\u0000, no escapes
    assert read_json(raw) == {"path": "C:\\ud800\\u0000"}


def test_it_refuses_nesting_deeper_than_the_limit_naming_where() -> None:
    assert read_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    field, message = refusal(b'{"a": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}")
    assert field == "a" + "[0]" * (MAX_DEPTH - 1)
    assert message == f"nested deeper than {MAX_DEPTH} levels"
    # Deep enough for json.loads to take, too deep for json.dumps a few frames further down.
    assert refusal(b"[" * 950 + b"]" * 950)[1] == f"nested deeper than {MAX_DEPTH} levels"


def test_it_names_a_lone_surrogate_at_the_deepest_level_allowed() -> None:
    raw = b'{"a":' * MAX_DEPTH + b'"\\ud800"' + b"}" * MAX_DEPTH
    assert refusal(raw)[0] == ".".join(["a"] * MAX_DEPTH)


def without_nuls(value: Any) -> Any:
    if isinstance(value, dict):
        return {without_nuls(k): without_nuls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nuls(v) for v in value]
    return value.replace("\x00", "") if isinstance(value, str) else value


documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
)


@settings(max_examples=100, deadline=None, database=None)
@given(document=documents, ensure_ascii=st.booleans())
def test_it_reads_back_any_document_of_unicode_text(document: Any, ensure_ascii: bool) -> None:
    """Any document of Unicode text reads back as sent (escaped or not), less its NULs when
    asked to drop them; with NULs it is refused."""
    raw = json.dumps(document, ensure_ascii=ensure_ascii).encode()
    assert read_json(raw, nul="drop") == without_nuls(document)
    if without_nuls(document) == document:
        assert read_json(raw) == document
    else:
        assert "NUL" in refusal(raw)[1]

"""HMAC and token checks: the pure functions every source shares."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from pager.config import IntegrationSettings
from pager.sources.auth import by_token, signature_in_header, token_in_header
from pager.sources.delivery import Delivery, bounded_fingerprint, bounded_group_key, bounded_key
from pager.sources.errors import NotAuthenticated
from pager.sources.signatures import hmac_sha256_hex, is_fresh, matches_any, signed_by

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BODY = b'{"alerts": []}'


def test_it_computes_the_hex_hmac_sha256_of_the_body() -> None:
    expected = hmac.new(b"s3cret", BODY, hashlib.sha256).hexdigest()
    assert hmac_sha256_hex("s3cret", BODY) == expected


def test_it_accepts_the_current_and_the_previous_secret_during_a_rotation() -> None:
    old, new = hmac_sha256_hex("old", BODY), hmac_sha256_hex("new", BODY)
    assert signed_by(new, BODY, ["new", "old"])
    assert signed_by(old, BODY, ["new", "old"])
    assert signed_by(old.upper(), BODY, ["new", "old"])
    assert not signed_by(old, BODY, ["new", None])
    assert not signed_by(new, BODY + b" ", ["new"])
    assert not signed_by("", BODY, ["new"])
    assert not signed_by(new, BODY, [None, ""])


def test_it_never_matches_an_empty_token() -> None:
    assert matches_any("t", ["x", "t"])
    assert not matches_any("", ["", None])
    assert not matches_any("t", [])


def test_it_takes_timestamps_within_five_minutes_either_way() -> None:
    now = NOW.timestamp()
    assert is_fresh(str(int(now)), NOW)
    assert is_fresh(str(int(now - 299)), NOW)
    assert is_fresh(str(int(now + 299)), NOW)
    assert not is_fresh(str(int(now - 301)), NOW)
    assert not is_fresh(str(int(now + 301)), NOW)
    assert not is_fresh("yesterday", NOW)
    assert not is_fresh(str(int(now)), NOW + timedelta(minutes=6))


INTEGRATION = IntegrationSettings(
    "ci", "payments", "github", "tok", secret="new", previous_secret="old"
)


def test_it_reads_the_bearer_token_then_the_query_token() -> None:
    by_token(Delivery.of(b"", {"authorization": "Bearer tok"}), INTEGRATION, NOW)
    by_token(Delivery.of(b"", {}, {"token": "tok"}), INTEGRATION, NOW)
    for headers, query in [({}, {}), ({"Authorization": "Basic tok"}, {}), ({}, {"token": "x"})]:
        try:
            by_token(Delivery.of(b"", headers, query), INTEGRATION, NOW)
        except NotAuthenticated as exc:
            assert "token" in str(exc)
        else:
            raise AssertionError(f"accepted {headers} {query}")


def refusal(check, delivery: Delivery) -> str:
    try:
        check(delivery, INTEGRATION, NOW)
    except NotAuthenticated as exc:
        return str(exc)
    return "accepted"


def test_it_says_why_a_signature_is_refused() -> None:
    check = signature_in_header("X-Hub-Signature-256", "sha256=")
    good = "sha256=" + hmac_sha256_hex("old", BODY)
    assert refusal(check, Delivery.of(BODY, {"X-Hub-Signature-256": good})) == "accepted"
    assert refusal(check, Delivery.of(BODY, {})) == (
        "missing X-Hub-Signature-256 header (HMAC-SHA256 of the body)"
    )
    assert refusal(check, Delivery.of(BODY, {"X-Hub-Signature-256": good[7:]})) == (
        "X-Hub-Signature-256 must look like 'sha256=<hex HMAC-SHA256>'"
    )
    assert refusal(check, Delivery.of(BODY + b"\n", {"X-Hub-Signature-256": good})) == (
        "X-Hub-Signature-256 does not match: body not signed with this secret"
    )


def test_it_compares_a_token_header() -> None:
    check = token_in_header("X-Gitlab-Token")
    assert refusal(check, Delivery.of(b"", {"x-gitlab-token": "tok"})) == "accepted"
    assert refusal(check, Delivery.of(b"", {})) == "missing X-Gitlab-Token header"
    assert refusal(check, Delivery.of(b"", {"X-Gitlab-Token": "new"})).startswith("wrong")


def test_it_keeps_long_sender_keys_within_the_fingerprint_column() -> None:
    assert bounded_fingerprint("queue/settlements") == "queue/settlements"
    assert bounded_fingerprint("k" * 200) == "k" * 200  # fits: unchanged, as stored before
    long_key = "k" * 255
    bounded = bounded_fingerprint(long_key)
    digest = hashlib.sha256(long_key.encode()).hexdigest()
    assert bounded == "k" * (200 - 72) + "~sha256:" + digest
    assert len(bounded) == 200
    assert bounded_fingerprint("k" * 256) != bounded  # the same head, another key


def test_it_keeps_long_group_keys_within_the_group_key_column() -> None:
    assert bounded_group_key(None) is None
    assert bounded_group_key('{}:{alertname="DiskFull"}') == '{}:{alertname="DiskFull"}'
    long_key = '{}:{job="' + "j" * 5_000 + '"}'
    assert len(bounded_group_key(long_key) or "") == 1000
    assert bounded_group_key(long_key) == bounded_key(long_key, 1000)
    assert (bounded_group_key(long_key) or "").startswith('{}:{job="jjj')

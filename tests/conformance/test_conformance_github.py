"""GitHub's own webhook examples (octokit/webhooks, see README.md here), delivered as GitHub
delivers them: JSON or its default form encoding, signed with X-Hub-Signature-256."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from pager.sources.signatures import hmac_sha256_hex
from tests.test_integrations_web import states, web  # noqa: F401 (the fixture)

HERE = Path(__file__).parent / "github"


def completed_run(conclusion: str) -> dict:
    """octokit's completed workflow_run, whose `workflow_run.name` is "" as GitHub sends it for
    some triggers; `conclusion` is the one field changed ("success" in the example)."""
    body = json.loads((HERE / "workflow_run.completed.payload.json").read_text())
    body["workflow_run"]["conclusion"] = conclusion
    return body


def deliver(client, body: dict, form: bool = False):
    raw = json.dumps(body).encode()
    content_type = "application/json"
    if form:  # GitHub's default content type: the JSON in a `payload` field
        raw, content_type = (
            urlencode({"payload": raw}).encode(),
            "application/x-www-form-urlencoded",
        )
    headers = {
        "X-GitHub-Event": "workflow_run",
        "X-Hub-Signature-256": "sha256=" + hmac_sha256_hex("gh-secret", raw),
        "Content-Type": content_type,
    }
    return client.post("/integrations/checkout-ci", data=raw, headers=headers)


def test_it_names_a_run_with_an_empty_name_after_its_workflow(web) -> None:  # noqa: F811
    pager, client = web
    answer = deliver(client, completed_run("failure"))
    assert answer.status_code == 200, answer.json
    assert states(pager) == [(1, "triggered", "octo-repo: test failed on master", 1)]
    assert deliver(client, completed_run("success")).json["resolved"] == [1]


def test_it_reads_githubs_default_form_encoded_delivery(web) -> None:  # noqa: F811
    pager, client = web
    answer = deliver(client, completed_run("failure"), form=True)
    assert answer.status_code == 200, answer.json
    assert answer.json["opened"] == [1]
    assert states(pager) == [(1, "triggered", "octo-repo: test failed on master", 1)]


def test_it_refuses_a_form_delivery_signed_over_something_else(web) -> None:  # noqa: F811
    _, client = web
    raw = urlencode({"payload": json.dumps(completed_run("failure"))}).encode()
    headers = {
        "X-GitHub-Event": "workflow_run",
        "X-Hub-Signature-256": "sha256=" + hmac_sha256_hex("gh-secret", raw + b"&x=1"),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert client.post("/integrations/checkout-ci", data=raw, headers=headers).status_code == 401
    headers["X-Hub-Signature-256"] = "sha256=" + hmac_sha256_hex("gh-secret", b"payload=%7B")
    answer = client.post("/integrations/checkout-ci", data=b"payload=%7B", headers=headers)
    assert (answer.status_code, answer.json["error"]) == (400, "invalid_json")

"""The OpenAPI document: one source packaged with pager, served at /api/v1/openapi.json, the
same as docs/openapi.yaml, valid OpenAPI 3.1, and every API answer of the tests checked
against it (tests/openapi_check.py)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest
import yaml
from flask import Flask, jsonify
from openapi_spec_validator import validate

from pager.app import build_pager
from pager.web import create_app
from pager.web.openapi import document
from tests.conftest import make_settings
from tests.openapi_check import CheckedClient

ROOT = Path(__file__).parents[1]
PACKAGED = ROOT / "pager" / "web" / "openapi.yaml"
DOCS = ROOT / "docs" / "openapi.yaml"


def test_it_keeps_docs_openapi_identical_to_the_packaged_source() -> None:
    assert DOCS.read_bytes() == PACKAGED.read_bytes(), (
        "docs/openapi.yaml differs from pager/web/openapi.yaml, the source: "
        "cp pager/web/openapi.yaml docs/openapi.yaml"
    )


def test_it_ships_the_document_in_the_wheel() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = project["tool"]["setuptools"]["package-data"]["pager"]
    assert any(fnmatch.fnmatch("web/openapi.yaml", glob) for glob in globs), globs


def test_it_is_a_valid_openapi_3_1_document() -> None:
    loaded = yaml.safe_load(PACKAGED.read_text())
    assert loaded["openapi"].startswith("3.1.")
    validate(loaded)  # openapi-spec-validator: raises naming the first problem


def test_it_serves_the_document_without_a_token(web) -> None:
    _, client = web
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json == document() == yaml.safe_load(PACKAGED.read_text())
    assert "/api/v1/incidents" in response.json["paths"]
    # The rest of the API still wants its token.
    assert client.get("/api/v1/incidents").status_code == 401


def test_it_documents_the_paging_of_every_list() -> None:
    paths = document()["paths"]
    for path in ("incidents", "people", "rotations", "silences", "audit"):
        operation = paths[f"/api/v1/{path}"]["get"]
        names = {p.get("$ref", "").rsplit("/", 1)[-1] for p in operation["parameters"]}
        assert {"Limit", "Cursor"} <= names, path
        assert "Link" in operation["responses"]["200"]["headers"], path


def test_its_check_fails_a_test_whose_answer_is_not_as_documented() -> None:
    app = Flask(__name__)
    app.test_client_class = CheckedClient

    @app.get("/api/v1/incidents")
    def wrong() -> object:
        return jsonify(incidents="not a list", next=None)

    @app.get("/api/v1/people")
    def teapot() -> object:
        return jsonify(error="teapot", message="I'm a teapot"), 418

    with pytest.raises(AssertionError, match="not as docs/openapi.yaml says"):
        app.test_client().get("/api/v1/incidents")
    with pytest.raises(AssertionError, match="answered 418"):
        app.test_client().get("/api/v1/people")


@pytest.fixture
def web(sqlite_url: str):
    pager = build_pager(make_settings(sqlite_url))
    yield pager, create_app(pager).test_client()
    pager.db.dispose()

"""`GET /api/v1/openapi.json`: the OpenAPI document, from the copy packaged with pager.

`pager/web/openapi.yaml` is the source; docs/openapi.yaml is the same file for readers of the
repository (tests/test_openapi_served.py keeps the two identical)."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

import yaml
from flask import Response

from pager.web.api import blueprint, open_to_all

SOURCE = "openapi.yaml"


@cache
def document() -> dict[str, object]:
    """The document as loaded from the package (read once)."""
    loaded: dict[str, object] = yaml.safe_load(files("pager.web").joinpath(SOURCE).read_text())
    return loaded


@cache
def _as_json() -> bytes:
    return json.dumps(document(), separators=(",", ":")).encode()


@blueprint.get("/openapi.json")
@open_to_all
def openapi_document() -> Response:
    return Response(_as_json(), mimetype="application/json")

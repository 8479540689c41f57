"""Every `/api/v1` answer a test receives is checked against the packaged OpenAPI document.

tests/conftest.py makes this the test client of every Flask app the tests build, so each
response of the API (status, body, documented headers) must be one the document describes;
a test that gets an undocumented answer fails, naming what does not match.
`checked_response` does the same for answers of a running daemon (`requests`)."""

from __future__ import annotations

from functools import cache
from typing import Any

import requests
from flask.testing import FlaskClient
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import PathNotFound
from werkzeug.test import TestResponse

from pager.web.openapi import document

API = "/api/v1"


@cache
def spec() -> OpenAPI:
    return OpenAPI.from_dict(document())  # type: ignore[arg-type]


def _check(request: Any, response: Any, status: int, path: str) -> None:
    try:
        spec().validate_response(request, response)
    except PathNotFound:
        # A path the API does not have: only its JSON 404 is documented (for every path).
        if status != 404:
            raise
    except Exception as exc:
        detail = getattr(exc, "__cause__", None) or exc
        raise AssertionError(
            f"{request.method} {path} answered {status}, not as docs/openapi.yaml says: "
            f"{exc!r} ({detail!r})"
        ) from exc


class _Answered(WerkzeugOpenAPIRequest):
    """The request an answer was for; its body was read by the app already, and only its
    method and path choose the operation whose answers are checked."""

    @property
    def body(self) -> bytes | None:
        return None


class CheckedClient(FlaskClient):
    """Flask's test client, checking each `/api/v1` answer against the document."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        request = response.request
        if request.path.startswith(API):
            _check(
                _Answered(request),
                WerkzeugOpenAPIResponse(response),
                response.status_code,
                request.path,
            )
        return response


def checked_response(response: requests.Response) -> requests.Response:
    """A running daemon's `/api/v1` answer, once checked against the document."""
    if API in (response.request.path_url or ""):
        _check(
            RequestsOpenAPIRequest(response.request),
            RequestsOpenAPIResponse(response),
            response.status_code,
            response.request.path_url,
        )
    return response

"""A fake vendor API on 127.0.0.1 that answers from a directory of saved answers, as the
vendor would: `GET /users?offset=4` answers `users.2.json` when pages are 4 long, a wrong key
gets the vendor's 401. For the importer tests (`pager import ... --api-url`).

`page_of(query, first_page)` says which saved page a request asks for (1 for the first), from
its query and the first page's answer; each vendor paginates its own way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.twilio import _LocalServer

PageOf = Callable[[Mapping[str, str], Any], int]


@dataclass(frozen=True)
class Asked:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class FakeVendorApi(_LocalServer):
    def __init__(
        self,
        directory: Path,
        auth: tuple[str, str],
        page_of: PageOf,
        refused: tuple[int, Any] = (401, {"error": {"message": "Unauthorized", "code": 2006}}),
        prefix: str = "",
        public_url: str = "",
        graphql: str = "",
    ) -> None:
        super().__init__()
        self.directory = directory
        self.auth = auth  # (header, the value it must have)
        self.page_of = page_of
        self.refused = refused  # the status and body the vendor gives a wrong key
        self.prefix = prefix  # the API's path before the saved answers' paths ("/v2")
        # The vendor's own address in saved answers (`paging.next` links): served as ours.
        self.public_url = public_url
        self.graphql = graphql  # the path of a GraphQL API answering from saved answers
        self.asked: list[Asked] = []
        self.bodies: list[Any] = []  # the JSON body of each POST

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        query = {key: request.args.getlist(key) for key in request.args}
        self._append(self.asked, Asked(request.path, query, dict(request.headers)))
        header, value = self.auth
        if request.headers.get(header) != value:
            status, body = self.refused
            return _json(status, body)
        if request.method == "POST" and request.path == self.graphql:
            return self._graphql(request.get_json(silent=True))
        if request.method != "GET" or not request.path.startswith(self.prefix):
            return _json(404, {"error": {"message": "Not Found"}})
        name = request.path.removeprefix(self.prefix).strip("/")
        first = self.directory / f"{name}.json"
        if ".." in name or not first.is_file():
            return _json(404, {"error": {"message": "Not Found", "code": 2100}})
        number = self.page_of(request.args, json.loads(first.read_text()))
        chosen = first if number == 1 else self.directory / f"{name}.{number}.json"
        if not chosen.is_file():
            return _json(404, {"error": {"message": f"no page {number}"}})
        body = chosen.read_text()
        if self.public_url:
            body = body.replace(self.public_url, self.base_url)
        return Response(body, 200, content_type="application/json")

    def _graphql(self, body: Any) -> Response:
        """A saved answer to the named query (`operationName`): the page after the one whose
        `endCursor` the request gives as `after`."""
        self._append(self.bodies, body)
        name = body.get("operationName", "") if isinstance(body, dict) else ""
        after = (body.get("variables") or {}).get("after") if isinstance(body, dict) else None
        number, page = 1, self.directory / f"{name}.json"
        while after and page.is_file():
            info = json.loads(page.read_text())["data"][name]["pageInfo"]
            number += 1
            page = self.directory / f"{name}.{number}.json"
            if info["endCursor"] == after:
                break
        if not name or not page.is_file():
            return _json(200, {"errors": [{"message": f"no saved answer for {name!r}"}]})
        return Response(page.read_bytes(), 200, content_type="application/json")


def offset_page(query: Mapping[str, str], first: Any) -> int:
    """The saved page an `offset` and `limit` pagination asks for; pages are as long as the
    saved first page's `limit` (PagerDuty) or the request's own `limit` (Opsgenie's links)."""
    saved = first.get("limit") if isinstance(first, dict) else None
    limit = saved if isinstance(saved, int) else int(query.get("limit", 0) or 0)
    offset = int(query.get("offset", 0) or 0)
    return offset // limit + 1 if limit else 1


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")

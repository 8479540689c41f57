"""The command line as a client of a running daemon's API: `PAGER_URL` and `PAGER_TOKEN`
(or `--url` and `--token`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import click

if TYPE_CHECKING:
    import requests

TIMEOUT = 30  # seconds for one answer: a busy daemon during a storm is still quick
F = TypeVar("F", bound=Callable[..., Any])


def url_option(required: bool) -> Callable[[F], F]:
    return click.option(
        "--url",
        "api_url",
        envvar="PAGER_URL",
        required=required,
        help="The daemon's URL, like https://pager.example.com (env PAGER_URL)"
        + ("." if required else "; without it, the local database of --config."),
    )


token_option = click.option(
    "--token",
    "api_token",
    envvar="PAGER_TOKEN",
    help="An API token (api_tokens in pager.yaml, or a personal token) (env PAGER_TOKEN).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")


class ApiRefused(click.ClickException):
    """A 4xx or 5xx of the API: its JSON message is what the user reads; exit status 1."""

    def __init__(self, status: int, body: dict[str, Any], as_json: bool) -> None:
        self.status, self.body, self.as_json = status, body, as_json
        field = f" ({body['field']})" if body.get("field") else ""
        error = body.get("error", "error")
        super().__init__(f"{status} {error}: {body.get('message', '')}{field}")

    def show(self, file: Any = None) -> None:
        if self.as_json:
            click.echo(json.dumps(self.body), err=True)
        else:
            super().show(file)


@dataclass(frozen=True)
class Api:
    """One daemon's `/api/v1`, with a token; each call answers the JSON or raises."""

    url: str
    token: str
    as_json: bool = False

    @classmethod
    def of(cls, url: str, token: str | None, as_json: bool) -> Api:
        if not token:
            raise click.UsageError("give an API token: --token or PAGER_TOKEN")
        if urlsplit(url).scheme not in ("http", "https"):
            raise click.BadParameter(f"not an http(s) URL: {url!r}", param_hint="--url")
        return cls(url.rstrip("/"), token, as_json)

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, **query: Any
    ) -> dict[str, Any]:
        import requests  # here: the daemons import this module but never call out with it

        where = f"{self.url}/api/v1{path}"
        try:
            response = requests.request(
                method,
                where,
                params={k: v for k, v in query.items() if v is not None},
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=TIMEOUT,
            )
        except requests.ConnectionError as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else "no connection"
            raise click.ClickException(
                f"cannot reach {self.url}: {reason} (is the daemon running there? PAGER_URL)"
            ) from exc
        except requests.Timeout as exc:
            raise click.ClickException(f"{self.url} did not answer in {TIMEOUT} s") from exc
        return self._answer(response)

    def _answer(self, response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise click.ClickException(
                f"{response.url} answered {response.status_code} without JSON: is PAGER_URL "
                "the daemon's address?"
            )
        if response.status_code >= 400:
            raise ApiRefused(response.status_code, body, self.as_json)
        return body

    def walk(self, path: str, key: str, most: int, **query: Any) -> Iterator[dict[str, Any]]:
        """Up to `most` items of a list, following each page's `next`: its cursor, asked of
        our own URL (a daemon behind a proxy may not know the address we reach it by)."""
        left = most
        while left > 0:
            page = self.call("GET", path, limit=min(left, 500), **query)
            items = page[key][:left]
            yield from items
            left -= len(items)
            following = page.get("next")
            if not following or not items:
                return
            query = {**query, **dict(parse_qsl(urlsplit(following).query))}
            query.pop("limit", None)

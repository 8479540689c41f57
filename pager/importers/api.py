"""Where an importer reads the vendor's answers: files saved from its API (`--from DIR`) or the
API itself, with the user's key (`--api-key`), through `requests`.

A saved answer to `GET /users` is `DIR/users.json`; to `GET /schedules/P1/overrides`,
`DIR/schedules/P1/overrides.json`. An answer that comes in pages is saved as one file per page:
`users.json`, then `users.2.json`, `users.3.json`... A `POST` (a GraphQL query) is saved under
the name the importer gives it (`users.json` for GoAlert's `users` query).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin

import requests

Params = Mapping[str, Any]
# From one page's answer, what to ask for the next: a path (or full URL) and its query; None
# when it was the last page.
NextPage = Callable[[Any, str, Params], tuple[str, Params] | None]

TIMEOUT_SECONDS = 30


def instant(text: str) -> datetime:
    """An ISO 8601 time with an offset, as the APIs write them; ValueError without one."""
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(f"time without an offset: {text}")
    return at


class ImportFailed(Exception):
    """The answers cannot be read at all: a missing file, a refused key, a network error."""


def listed(
    answers: Answers, path: str, params: Params, key: str, next_page: NextPage
) -> list[dict[str, Any]]:
    """Every item of a paginated list: the `key` list of each page of `GET path?params`."""
    found: list[dict[str, Any]] = []
    for page in answers.pages(path, params, next_page):
        items = page.get(key) if isinstance(page, dict) else None
        if not isinstance(items, list):
            raise ImportFailed(f"the answer to GET /{path} has no '{key}' list")
        found.extend(items)
    return found


def next_link(*keys: str) -> NextPage:
    """Pages that give the next page's URL at `keys` (`"paging", "next"`: `paging.next`)."""

    def following(page: Any, path: str, params: Params) -> tuple[str, Params] | None:
        value = page if isinstance(page, dict) else {}
        for key in keys[:-1]:
            value = value.get(key) or {}
        url = value.get(keys[-1])
        return (url, {}) if url else None

    return following


class Answers(Protocol):
    def get(self, path: str, params: Params | None = None) -> Any:
        """The answer to `GET path?params`, parsed from JSON."""

    def pages(self, path: str, params: Params, next_page: NextPage) -> Iterator[Any]:
        """Every page of the answer to `GET path?params`, following `next_page`."""

    def post(self, path: str, body: Mapping[str, Any], saved_as: str) -> Any:
        """The answer to `POST path` with the JSON `body`; saved, the file `saved_as`."""


@dataclass(frozen=True)
class SavedAnswers:
    directory: Path

    def get(self, path: str, params: Params | None = None) -> Any:
        return self._read(self.file(path, 1))

    def pages(self, path: str, params: Params, next_page: NextPage) -> Iterator[Any]:
        number, asked = 1, (path, params)
        while True:
            page = self._read(self.file(path, number))
            yield page
            following = next_page(page, *asked)
            if following is None:
                return
            number, asked = number + 1, following

    def post(self, path: str, body: Mapping[str, Any], saved_as: str) -> Any:
        return self._read(self.directory / f"{saved_as}.json")

    def file(self, path: str, page: int) -> Path:
        """Where page `page` of the answer to `GET path` is saved."""
        name = path.strip("/")
        return self.directory / (f"{name}.json" if page == 1 else f"{name}.{page}.json")

    def _read(self, file: Path) -> Any:
        try:
            return json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ImportFailed(f"no such file: {file} (save that API answer there)") from None
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise ImportFailed(f"cannot read {file}: {error}") from None


@dataclass(frozen=True)
class LiveAnswers:
    """The vendor's API at `base_url`, each request with `headers` (the key in them)."""

    base_url: str
    headers: Mapping[str, str]
    session: requests.Session

    def get(self, path: str, params: Params | None = None) -> Any:
        return self._ask("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any], saved_as: str) -> Any:
        return self._ask("POST", path, json=dict(body))

    def _ask(self, method: str, path: str, **request: Any) -> Any:
        url = path if "://" in path else urljoin(self.base_url.rstrip("/") + "/", path.lstrip("/"))
        try:
            answer = self.session.request(
                method, url, headers=dict(self.headers), timeout=TIMEOUT_SECONDS, **request
            )
        except requests.RequestException as error:
            raise ImportFailed(f"{method} {url}: {type(error).__name__}") from None
        if answer.status_code in (401, 403):
            raise ImportFailed(f"{method} {url}: {answer.status_code}: the API refused the key")
        if not answer.ok:
            raise ImportFailed(f"{method} {url}: {answer.status_code}: {answer.text[:200]}")
        try:
            return answer.json()
        except ValueError:
            raise ImportFailed(f"{method} {url}: the answer is not JSON") from None

    def pages(self, path: str, params: Params, next_page: NextPage) -> Iterator[Any]:
        asked: tuple[str, Params] | None = (path, params)
        while asked is not None:
            page = self.get(*asked)
            yield page
            asked = next_page(page, *asked)


@dataclass(frozen=True)
class SavingAnswers:
    """`answers` (the live API), each answer also written where `SavedAnswers` reads it, so
    that `--from` can import the same again (to review it, or after fixing something)."""

    answers: Answers
    directory: Path

    def get(self, path: str, params: Params | None = None) -> Any:
        return self._save(
            SavedAnswers(self.directory).file(path, 1), self.answers.get(path, params)
        )

    def pages(self, path: str, params: Params, next_page: NextPage) -> Iterator[Any]:
        for number, page in enumerate(self.answers.pages(path, params, next_page), start=1):
            yield self._save(SavedAnswers(self.directory).file(path, number), page)

    def post(self, path: str, body: Mapping[str, Any], saved_as: str) -> Any:
        return self._save(
            self.directory / f"{saved_as}.json", self.answers.post(path, body, saved_as)
        )

    def _save(self, file: Path, answer: Any) -> Any:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(json.dumps(answer, indent=2) + "\n", encoding="utf-8")
        except OSError as error:
            raise ImportFailed(f"cannot save {file}: {error.strerror}") from None
        return answer

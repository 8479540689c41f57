"""The command line's API client against servers that are not a pager daemon (werkzeug's
server on 127.0.0.1, cheaper than the daemon): it says what it met, and exits non-zero."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from pager.cli import main
from tests.e2e.daemon import free_port


@pytest.fixture
def not_pager() -> Iterator[str]:
    """A web server answering every request with an HTML 404, as a wrong PAGER_URL does."""

    @Request.application
    def app(_request: Request) -> Response:
        return Response("<h1>Not Found</h1>", status=404, mimetype="text/html")

    server = make_server("127.0.0.1", free_port(), app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join()


def test_it_says_the_url_answers_without_json(not_pager: str) -> None:
    result = CliRunner().invoke(main, ["show", "12", "--url", not_pager, "--token", "t"])
    assert result.exit_code == 1
    assert "answered 404 without JSON: is PAGER_URL the daemon's address?" in result.stderr


def test_it_refuses_a_url_that_is_not_http() -> None:
    result = CliRunner().invoke(main, ["incidents", "--url", "ftp://pager", "--token", "t"])
    assert result.exit_code == 2 and "not an http(s) URL" in result.stderr

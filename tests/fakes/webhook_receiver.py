"""A receiver of pager's outgoing webhooks on 127.0.0.1 that checks each delivery the way
receivers do, with the Standard Webhooks project's own `standardwebhooks` library, and can be
told to fail (answer 500) for a number of requests. Records what it accepted, in order."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Self

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.twilio import _QuietHandler, bind_local_port, stop_server


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    event: dict[str, Any]  # the JSON body, as verified

    @property
    def type(self) -> str:
        return str(self.event.get("type"))


class WebhookReceiver:
    """`secret` set: only deliveries that verify are accepted (others get 400, and are counted
    in `refused`); None: any JSON is (Slack's incoming webhooks sign nothing)."""

    def __init__(self, secret: str | None, port: int | None = None) -> None:
        self.secret = secret
        self.port = port
        self.fail_next = 0  # answer 500 to this many requests
        self.accepted: list[Received] = []
        self.refused: list[str] = []
        self.requests = 0
        self._changed = threading.Condition()
        self._server: BaseWSGIServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data()
        headers = dict(request.headers)
        with self._changed:
            self.requests += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                self._changed.notify_all()
                return Response("down for maintenance", status=500)(environ, start_response)
        try:
            if self.secret is not None:
                event = Webhook(self.secret).verify(body, headers)
            else:
                event = json.loads(body)
        except (WebhookVerificationError, ValueError) as exc:
            with self._changed:
                self.refused.append(str(exc))
                self._changed.notify_all()
            return Response(str(exc), status=400)(environ, start_response)
        with self._changed:
            self.accepted.append(Received(headers, body, event))
            self._changed.notify_all()
        return Response("", status=204)(environ, start_response)

    def start(self) -> Self:
        if self.port is None:
            sock = bind_local_port()
            self.port = sock.getsockname()[1]
            sock.close()
        self._server = make_server(
            "127.0.0.1", self.port, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        threading.Thread(
            target=self._server.serve_forever, args=(0.01,), name="webhook-receiver", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            stop_server(self._server)
            self._server = None

    def wait_for(self, n: int, timeout: float = 15) -> list[Received]:
        """The first `n` accepted deliveries, waiting up to `timeout` seconds for them."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.accepted) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self.accepted)} of {n} webhooks arrived "
                        f"({self.requests} requests, refused: {self.refused})"
                    )
                self._changed.wait(left)
            return list(self.accepted[:n])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

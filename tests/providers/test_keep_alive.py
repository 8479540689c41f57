"""Provider calls keep their connections: with a runner's many calls in flight, a connection
dropped after use costs the next call a new TCP and TLS handshake."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pager.providers.base import KEEP_CONNECTIONS, keep_alive_session


class _Counting(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # every call of a round connects at once
    connections = 0
    lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps the connection open, as the providers' APIs do

    def setup(self) -> None:
        super().setup()
        with _Counting.lock:
            _Counting.connections += 1

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(201)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def test_it_keeps_a_connection_for_each_call_in_flight_and_reuses_them() -> None:
    server = _Counting(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/Messages.json"
    session = keep_alive_session()
    in_flight = 40  # more than requests' 10 and the Twilio SDK's own pool
    assert in_flight < KEEP_CONNECTIONS
    try:
        with ThreadPoolExecutor(in_flight) as pool:
            for _ in range(3):  # three rounds of calls side by side
                answers = list(pool.map(lambda _: session.post(url, data={"To": "x"}), range(40)))
                assert {a.status_code for a in answers} == {201}
    finally:
        server.shutdown()
        server.server_close()
    # The first round opened what it needed; the later rounds reused them.
    assert _Counting.connections <= in_flight, _Counting.connections

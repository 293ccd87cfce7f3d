"""A webhook receiver for tests: a threaded HTTP server on 127.0.0.1 that records every request
and answers what the test tells it to (a status per request, or hanging). Reusable by any test
that needs to see what pulse-etl sends out:

    with Receiver(statuses=[500, 200]) as hook:
        ...  # point a webhook at hook.url
        first, second = hook.wait_for(2)
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)

    def json(self):
        return orjson.loads(self.body)


class Receiver:
    """`statuses`: the answers to the first requests, in order; then `default`. `hang`: hold every
    request unanswered until the receiver stops (a receiver that never answers). `path`: the URL's
    path (a Slack-like /services/T.../B.../token, to see that a secret path arrives whole)."""

    def __init__(self, statuses: list[int] | None = None, default: int = 200, hang: bool = False,
                 path: str = "/hook"):
        self.path = path
        self.statuses = list(statuses or [])
        self.default = default
        self.hang = hang
        self.received: list[Received] = []
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._record(Received("POST", self.path, dict(self.headers.items()), body))
                if receiver.hang:
                    receiver._stopping.wait()
                    return
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # quiet
                pass

        return Handler

    def _record(self, request: Received) -> int:
        with self._changed:
            self.received.append(request)
            self._changed.notify_all()
            return self.statuses.pop(0) if self.statuses else self.default

    def wait_for(self, count: int, timeout: float = 60) -> list[Received]:
        """The first `count` requests, once they have arrived (AssertionError after `timeout`)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"the receiver got {len(self.received)} request(s) in {timeout}s, "
                                     f"expected {count}")
            return list(self.received[:count])

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

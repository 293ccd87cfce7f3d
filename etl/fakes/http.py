"""What the bundled fake sources (jira/fake.py, github/fake.py) share: switchable faults, a
threaded HTTP server that can be stopped like an outage, and a quiet keep-alive request handler.
Test doubles only; nothing in the pipeline imports this."""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Fault:
    __slots__ = ("kind", "path_contains", "times", "every", "retry_after", "delay", "seen", "fired")

    def __init__(self, kind, path_contains, times, every, retry_after, delay):
        self.kind, self.path_contains, self.times, self.every = kind, path_contains, times, every
        self.retry_after, self.delay = retry_after, delay
        self.seen = 0
        self.fired = 0

    def __repr__(self) -> str:
        return (f"Fault({self.kind!r}, path_contains={self.path_contains!r}, times={self.times}, "
                f"every={self.every}, seen={self.seen}, fired={self.fired})")


class Faults:
    """Injected failures: ``add(kind, path_contains, times, every, retry_after, delay)``. A fault
    applies to requests whose path contains `path_contains`; it fires on every `every`-th matching
    request, `times` times in total (None = forever). Each fake lists its KINDS, and which of them
    only alter an answer (PASSIVE, e.g. "slow") rather than decide it."""

    KINDS: frozenset[str] = frozenset()
    PASSIVE: frozenset[str] = frozenset({"slow"})

    def __init__(self):
        self._lock = threading.Lock()
        self.items: list[Fault] = []

    def add(self, kind: str, path_contains: str = "", times: int | None = 1, every: int = 1,
            retry_after: int | float = 1, delay: float = 0.0) -> Fault:
        kind = str(kind)
        if kind not in self.KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(self.KINDS)}")
        if every < 1:
            raise ValueError("every must be >= 1")
        f = Fault(kind, path_contains, times, every, retry_after, delay)
        with self._lock:
            self.items.append(f)
        return f

    def clear(self) -> None:
        with self._lock:
            self.items.clear()

    def _fire(self, path: str, applies=None) -> list[Fault]:
        """Faults that fire for this request, in the order they were added. A fault that decides
        the answer ends the list: faults added after it do not see the request. `applies(fault)`
        lets a fake skip, without counting, a fault that cannot bite this request (e.g. a fault
        on a follow-up page's token when the request has no token)."""
        fired = []
        with self._lock:
            for f in self.items:
                if f.path_contains and f.path_contains not in path:
                    continue
                if applies is not None and not applies(f):
                    continue
                if f.times is not None and f.fired >= f.times:
                    continue
                f.seen += 1
                if f.seen % f.every == 0:
                    f.fired += 1
                    fired.append(f)
                    if f.kind not in self.PASSIVE:
                        break
            self.items = [f for f in self.items if f.times is None or f.fired < f.times]
        return fired


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    url: str
    _thread: threading.Thread | None = None

    def __init__(self, *args, **kwargs):
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def stop(self) -> None:
        """Stop serving, close the listening socket and drop open keep-alive connections
        (clients see the server go away, as with a real outage)."""
        try:
            self.shutdown()
        finally:
            self.server_close()
            with self._conns_lock:
                conns = list(self._conns)
            for c in conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            if self._thread is not None:
                self._thread.join(5)


class FakeHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1, no Nagle delay, no access log; every method goes to `_handle`."""

    protocol_version = "HTTP/1.1"
    sys_version = ""
    timeout = 300

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        with self.server._conns_lock:
            self.server._conns.add(self.connection)

    def finish(self):
        with self.server._conns_lock:
            self.server._conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def do_GET(self):
        self._handle("GET")

    def do_HEAD(self):
        self._handle("HEAD")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        raise NotImplementedError

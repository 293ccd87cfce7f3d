"""A source's answer is read whole only up to ETL_MAX_RESPONSE_BYTES and within the request's
timeout (etl/sources/http.py read_body): a tenant's base URL may point at a server that sends
without end, compresses a bomb or drips a byte at a time, and the worker must neither run out of
memory nor be held. Against a raw local socket server that misbehaves on purpose."""
from __future__ import annotations

import gzip
import socket
import threading
import time

import pytest

from etl.sources.http import BodyTooLarge, FatalError, HttpClient, RetriableError, SameOriginSession

MIB = 1024 * 1024


class Misbehaving:
    """A one-answer-per-connection HTTP server whose answer is written by `send(conn)`."""

    def __init__(self, send):
        self.send = send
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.sent = 0  # body bytes written before the client hung up
        self.answered = 0  # connections served: `send` may answer the first differently
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                try:
                    self.send(self, conn)
                except OSError:  # the client stopped reading and closed
                    pass
                self.answered += 1

    def close(self):
        self.sock.close()


def head(conn, headers: str) -> None:
    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{headers}\r\n".encode())


def endless(server, conn):
    head(conn, "Connection: close\r\n")  # no length: the body runs until the server closes
    conn.sendall(b"[")
    chunk = b'"' + b"x" * 65536 + b'",'
    while server.sent < 50 * MIB:
        conn.sendall(chunk)
        server.sent += len(chunk)


def declared_huge(server, conn):
    head(conn, f"Content-Length: {10 * 1024 * MIB}\r\n")
    conn.sendall(b"[1")


def gzip_bomb(server, conn):
    body = gzip.compress(b" " * (40 * MIB))  # 40 KB on the wire
    head(conn, f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\n")
    conn.sendall(body)


def dripping(server, conn):
    head(conn, "Content-Length: 1000\r\n")
    for _ in range(1000):
        conn.sendall(b" ")
        server.sent += 1
        time.sleep(0.05)


def redirect_endless(server, conn):
    conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /moved\r\nConnection: close\r\n\r\n")
    chunk = b"x" * 65536
    while server.sent < 50 * MIB:  # a redirect's body, which nobody reads: no reason to send it whole
        conn.sendall(chunk)
        server.sent += len(chunk)


def redirect_once(server, conn):
    if server.answered:
        return small(server, conn)
    body = b"<html>moved</html>"
    conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /moved\r\nConnection: close\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


def redirect_to_itself(server, conn):
    conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def redirect_slowly(server, conn):
    """Every answer a redirect to itself whose headers take 0.6 s: each within a 1 s timeout."""
    time.sleep(0.6)
    redirect_to_itself(server, conn)


def dripping_headers(server, conn):
    """One header byte every 0.3 s: each read is well within a 1 s timeout, the headers never end
    (12 s here; http.client would take up to 100 headers of 64 KiB)."""
    if server.answered:
        return small(server, conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for byte in b"X-Slow: " + b"x" * 32:
        conn.sendall(bytes([byte]))
        server.sent += 1
        time.sleep(0.3)


def small(server, conn):
    head(conn, 'Content-Length: 2\r\nConnection: close\r\n')
    conn.sendall(b"[]")


def cut_short(server, conn):
    head(conn, "Content-Length: 1000\r\n")
    conn.sendall(b'{"issues": [')


def fine(server, conn):
    body = gzip.compress(b'{"issues": [' + b",".join([b'{"id": "1"}'] * 50_000) + b"]}")
    head(conn, f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\n")
    conn.sendall(body)


@pytest.fixture
def serve(settings_env):
    settings_env(ETL_MAX_RESPONSE_BYTES=str(2 * MIB))
    servers = []

    def start(send):
        servers.append(Misbehaving(send))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def ask(server, timeout: float = 5.0):
    client = HttpClient(server.url, {}, timeout=timeout)
    try:
        return client.request("GET", "/rest/api/3/search/jql")
    finally:
        client.close()


@pytest.mark.parametrize("send", [endless, declared_huge, gzip_bomb], ids=["endless", "declared", "gzip-bomb"])
def test_an_answer_past_the_limit_fails_in_words_without_being_held(serve, send):
    server = serve(send)
    with pytest.raises(BodyTooLarge) as caught:
        ask(server)
    assert isinstance(caught.value, FatalError)  # asking again would get the same answer
    assert "more than 2 MiB (ETL_MAX_RESPONSE_BYTES)" in str(caught.value)
    assert server.sent < 8 * MIB  # the client stopped reading near the limit, not at the end


def test_a_dripping_answer_ends_at_the_timeout_and_is_retried(serve):
    server = serve(dripping)
    started = time.monotonic()
    with pytest.raises(RetriableError) as caught:
        ask(server, timeout=1.0)  # each byte comes well within the timeout; the answer does not
    assert time.monotonic() - started < 4
    assert "took longer than 1 s to send its answer" in str(caught.value)
    assert server.sent < 100


def test_an_answer_cut_short_is_retried(serve):
    with pytest.raises(RetriableError) as caught:
        ask(serve(cut_short))
    assert "cut short on the way" in str(caught.value)


def test_a_compressed_answer_within_the_limit_is_read_whole(serve):
    body = ask(serve(fine)).body
    assert len(body["issues"]) == 50_000


def test_a_redirect_past_the_limit_fails_in_words_without_being_held(serve):
    """requests reads a followed redirect's body whole, whatever its size: here it is read as any
    answer is."""
    server = serve(redirect_endless)
    with pytest.raises(BodyTooLarge) as caught:
        ask(server)
    assert "more than 2 MiB (ETL_MAX_RESPONSE_BYTES)" in str(caught.value)
    assert server.sent < 8 * MIB


def test_a_redirect_on_the_same_host_is_followed(serve):
    server = serve(redirect_once)
    answer = ask(server)
    assert (answer.status, answer.body, answer.url) == (200, [], f"{server.url}/moved")


def test_redirects_share_the_request_timeout(serve):
    server = serve(redirect_slowly)
    started = time.monotonic()
    with pytest.raises(RetriableError) as caught:
        ask(server, timeout=1.0)  # each answer within it; five redirects of them not
    assert time.monotonic() - started < 2.5
    assert "took longer than 1 s" in str(caught.value)


def test_headers_dripping_end_at_the_timeout_and_the_client_still_works(serve):
    server = serve(dripping_headers)
    client = HttpClient(server.url, {}, timeout=1.0)
    try:
        started = time.monotonic()
        with pytest.raises(RetriableError) as caught:
            client.request("GET", "/rest/api/3/search/jql")  # each byte well within the timeout
        assert time.monotonic() - started < 5
        assert "took longer than 1 s to send its answer's headers" in str(caught.value)
        assert client.request("GET", "/rest/api/3/search/jql").body == []  # not a broken pooled connection
    finally:
        client.close()


def test_a_session_without_bounds_drops_a_redirects_body_unread(serve):
    """The webhook sender's session (etl/notify/sending.py): no redirect followed, yet requests
    would read a same-host redirect's body whole (Response.next)."""
    server = serve(redirect_endless)
    session = SameOriginSession()
    try:
        with session.get(server.url, timeout=5, allow_redirects=False, stream=True) as resp:
            assert resp.status_code == 302
    finally:
        session.close()
    assert server.sent < 8 * MIB


def test_redirects_stop_after_five(serve):
    server = serve(redirect_to_itself)
    with pytest.raises(FatalError) as caught:
        ask(server)
    assert "TooManyRedirects" in str(caught.value)
    assert server.answered == 6  # the request and five redirects (requests' own default is 30)

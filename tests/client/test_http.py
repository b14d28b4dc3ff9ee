"""The server connection retries only what is safe to repeat, and names every failure."""
from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from sitesync_addon.client.http import Http
from sitesync_addon.errors import ServerError, ServerNotFound, ServerUnreachable


class Counting(http.server.BaseHTTPRequestHandler):
    status = 503
    seen: list[str] = []

    def _answer(self) -> None:
        Counting.seen.append(self.command)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b'{"detail": "busy [try later]"}'
        self.send_response(Counting.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Counting.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_post_is_never_repeated_but_a_get_is(server: str) -> None:
    http_ = Http(server, "key")
    with pytest.raises(ServerUnreachable, match=r"POST /x failed \(503\): busy \[try later\]"):
        http_.post("/x", json={"a": 1})
    assert Counting.seen == ["POST"]
    Counting.seen.clear()
    with pytest.raises(ServerUnreachable):
        http_.get("/x")
    assert Counting.seen == ["GET"] * 3  # idempotent: two more tries


def test_a_404_names_the_call_and_is_not_retried(server: str) -> None:
    Counting.status = 404
    try:
        with pytest.raises(ServerNotFound, match="GET /thing failed"):
            Http(server, "key").get("/thing")
        assert Counting.seen == ["GET"]
    finally:
        Counting.status = 503


def test_a_closed_port_is_unreachable_with_a_hint() -> None:
    with pytest.raises(ServerUnreachable, match="start it with `sitesync server`") as caught:
        Http("http://127.0.0.1:1", "key").get("/api/projects")
    assert isinstance(caught.value, ServerError)


class HeadersOnly(http.server.BaseHTTPRequestHandler):
    """Answers 200 and closes before the body: an answer a dropped link cut short."""

    protocol_version = "HTTP/1.0"  # no Content-Length: the body runs until the close

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_an_answer_cut_before_its_body_is_an_unreachable_server_not_none() -> None:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HeadersOnly)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        http_ = Http(f"http://127.0.0.1:{httpd.server_address[1]}", "key")
        with pytest.raises(ServerUnreachable, match="POST /work/claim: .* cut off"):
            http_.post("/work/claim", json={})
    finally:
        httpd.shutdown()
        httpd.server_close()

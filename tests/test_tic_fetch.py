"""Downloads against a real HTTP server on loopback."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from payerbrief.sources.tic.fetch import (
    DownloadError,
    DownloadLimitError,
    FetchPolicy,
    RefusedURLError,
    RemoteResolver,
    cache_path,
    fetch,
    fetch_cached,
    is_public_address,
    remote_resolver,
)

BODY = random.Random(7).randbytes(300_000)
LOCAL = FetchPolicy(allow_private_network=True, retries=3, backoff=0.01, timeout=5)


class Handler(BaseHTTPRequestHandler):
    """Serves BODY in several misbehaving ways, chosen by the path."""

    server: Server

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        # The client may give up first, as the timeout tests intend.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer()

    def _answer(self) -> None:
        self.server.hits[self.path] += 1
        self.server.ranges.append(self.headers.get("Range"))
        hit = self.server.hits[self.path]
        route = self.path.split("?")[0]
        if route == "/data":
            self._serve(ranged=True)
        elif route == "/drop":
            self._serve(ranged=True, cut=hit == 1)
        elif route == "/norange":
            self._serve(ranged=False, cut=hit == 1)
        elif route == "/missing":
            self._send_status(404)
        elif route == "/busy":
            self._send_status(503) if hit == 1 else self._serve(ranged=True)
        elif route == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(10 * len(BODY)))
            self.end_headers()
        elif route == "/endless":
            self.send_response(200)
            self.end_headers()
            for _ in range(10):
                self.wfile.write(BODY)
        elif route == "/slow":
            time.sleep(1.0)
            self._serve(ranged=False)
        elif route == "/to-private":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.port}/data")
            self.end_headers()
        elif route == "/to-ftp":
            self.send_response(301)
            self.send_header("Location", "ftp://example.org/file")
            self.end_headers()
        elif route == "/gz":
            self._serve(ranged=False, body=gzip.compress(b'{"provider_groups": []}'))

    def _send_status(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _serve(self, ranged: bool, cut: bool = False, body: bytes = BODY) -> None:
        start = 0
        asked = self.headers.get("Range")
        if ranged and asked and asked.startswith("bytes="):
            start = int(asked[6:].split("-")[0])
            self.send_response(206)
            self.send_header(
                "Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}"
            )
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.send_header("ETag", '"v1"')
        self.end_headers()
        part = body[start:]
        # A dropped connection: half the promised bytes, then the socket closes.
        self.wfile.write(part[: len(part) // 2] if cut else part)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        self.hits: Counter[str] = Counter()
        self.ranges: list[str | None] = []


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = Server()
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(server: Server, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def test_fetch_whole_file(server: Server, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    result = fetch(
        url(server, "/data"),
        tmp_path / "out.bin",
        policy=LOCAL,
        progress=lambda n, total: seen.append((n, total)),
    )
    assert (tmp_path / "out.bin").read_bytes() == BODY
    assert result.size == len(BODY)
    assert result.attempts == 1
    assert seen[-1] == (len(BODY), len(BODY))
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)
    assert not (tmp_path / "out.bin.partial").exists()


def test_dropped_connection_resumes_by_range(server: Server, tmp_path: Path) -> None:
    result = fetch(url(server, "/drop"), tmp_path / "out.bin", policy=LOCAL)
    assert (tmp_path / "out.bin").read_bytes() == BODY
    assert result.attempts == 2
    assert result.resumed == 1
    assert server.ranges == [None, f"bytes={len(BODY) // 2}-"]


def test_server_ignoring_range_restarts(server: Server, tmp_path: Path) -> None:
    result = fetch(url(server, "/norange"), tmp_path / "out.bin", policy=LOCAL)
    data = (tmp_path / "out.bin").read_bytes()
    assert hashlib.sha256(data).digest() == hashlib.sha256(BODY).digest()
    assert (result.attempts, result.resumed, result.restarted) == (2, 0, 1)


def test_not_found_is_not_retryable(server: Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as caught:
        fetch(url(server, "/missing"), tmp_path / "out.bin", policy=LOCAL)
    error = caught.value
    assert error.retryable is False
    assert error.status == 404
    assert str(error) == (
        f"{url(server, '/missing')}: the server answered HTTP 404 Not Found\n"
        "Hint: no file at this address; the table of contents may be out of date"
    )
    assert server.hits["/missing"] == 1
    assert not (tmp_path / "out.bin").exists()


def test_busy_server_is_retried(server: Server, tmp_path: Path) -> None:
    result = fetch(url(server, "/busy"), tmp_path / "out.bin", policy=LOCAL)
    assert result.attempts == 2
    assert (tmp_path / "out.bin").read_bytes() == BODY


def test_announced_size_over_limit(server: Server, tmp_path: Path) -> None:
    policy = FetchPolicy(allow_private_network=True, max_bytes=len(BODY))
    with pytest.raises(DownloadLimitError) as caught:
        fetch(url(server, "/huge"), tmp_path / "out.bin", policy=policy)
    assert caught.value.retryable is False
    assert f"announces {10 * len(BODY)} bytes, over the {len(BODY)}-byte limit" in str(
        caught.value
    )


def test_streamed_size_over_limit(server: Server, tmp_path: Path) -> None:
    policy = FetchPolicy(allow_private_network=True, max_bytes=2 * len(BODY))
    with pytest.raises(DownloadLimitError, match="sent more than"):
        fetch(url(server, "/endless"), tmp_path / "out.bin", policy=policy)
    assert not (tmp_path / "out.bin").exists()


def test_timeout_is_retryable(server: Server, tmp_path: Path) -> None:
    policy = FetchPolicy(
        allow_private_network=True, timeout=0.2, retries=1, backoff=0.01
    )
    with pytest.raises(DownloadError) as caught:
        fetch(url(server, "/slow"), tmp_path / "out.bin", policy=policy)
    assert caught.value.retryable is True
    assert "no answer within the 0.2 s timeout (after 2 attempts)" in str(caught.value)


def test_total_time_limit(server: Server, tmp_path: Path) -> None:
    policy = FetchPolicy(
        allow_private_network=True, timeout=0.2, retries=5, max_seconds=0.3
    )
    with pytest.raises(DownloadLimitError, match="longer than the 0.3 s limit"):
        fetch(url(server, "/slow"), tmp_path / "out.bin", policy=policy)


def test_redirect_to_private_address_refused(server: Server, tmp_path: Path) -> None:
    # The first host is trusted by name; the redirect leaves it for 127.0.0.1.
    policy = FetchPolicy(private_hosts=frozenset({"localhost"}), retries=0)
    start = f"http://localhost:{server.port}/to-private"
    with pytest.raises(RefusedURLError) as caught:
        fetch(start, tmp_path / "out.bin", policy=policy)
    assert "resolves to a non-public address (127.0.0.1)" in str(caught.value)
    assert server.hits["/to-private"] == 1
    assert server.hits["/data"] == 0
    allowed = FetchPolicy(allow_private_network=True)
    fetch(start, tmp_path / "out.bin", policy=allowed)
    assert (tmp_path / "out.bin").read_bytes() == BODY


def test_redirect_to_other_scheme_refused(server: Server, tmp_path: Path) -> None:
    with pytest.raises(RefusedURLError, match="scheme 'ftp' is not allowed"):
        fetch(url(server, "/to-ftp"), tmp_path / "out.bin", policy=LOCAL)


@pytest.mark.parametrize(
    ("address", "scheme"),
    [("file:///etc/passwd", "file"), ("ftp://example.org/in-network.json", "ftp")],
)
def test_other_schemes_refused(address: str, scheme: str, tmp_path: Path) -> None:
    with pytest.raises(RefusedURLError) as caught:
        fetch(address, tmp_path / "out.bin", policy=LOCAL)
    assert str(caught.value) == (
        f"{address}: the scheme {scheme!r} is not allowed; only http and https are "
        "fetched\nHint: give an http:// or https:// URL; for a local file pass its path"
    )
    assert caught.value.retryable is False


def test_default_policy_refuses_loopback(server: Server, tmp_path: Path) -> None:
    with pytest.raises(RefusedURLError) as caught:
        fetch(url(server, "/"), tmp_path / "out.bin")
    assert "non-public address (127.0.0.1)" in str(caught.value)
    assert "allow_private_network=True" in str(caught.value)
    assert sum(server.hits.values()) == 0


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::a00:1", False),
        ("2002:7f00:1::1", False),
    ],
)
def test_public_address_check(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_fetch_cached_downloads_once(server: Server, tmp_path: Path) -> None:
    first = fetch_cached(url(server, "/data?sig=1"), tmp_path, policy=LOCAL)
    again = fetch_cached(url(server, "/data?sig=1"), tmp_path, policy=LOCAL)
    assert first == again == cache_path(url(server, "/data?sig=1"), tmp_path)
    assert first.read_bytes() == BODY
    assert server.hits["/data?sig=1"] == 1
    record = first.with_suffix(".json").read_text()
    assert "sig=1" not in record


def test_fetch_cached_with_steady_key(server: Server, tmp_path: Path) -> None:
    key = url(server, "/data")
    fetch_cached(url(server, "/data?sig=1"), tmp_path, policy=LOCAL, key=key)
    fetch_cached(url(server, "/data?sig=2"), tmp_path, policy=LOCAL, key=key)
    assert sum(server.hits.values()) == 1


def test_resolver_returns_bytes_or_none(server: Server, tmp_path: Path) -> None:
    resolve = remote_resolver(tmp_path, LOCAL)
    assert resolve(url(server, "/gz")) == b'{"provider_groups": []}'
    assert resolve(url(server, "/missing")) is None
    assert resolve(url(server, "/missing")) is None
    assert server.hits["/missing"] == 1
    assert isinstance(resolve, RemoteResolver)
    assert resolve.failures[url(server, "/missing")].status == 404


def test_resolver_default_refuses_private_and_skips_dead_host(
    server: Server, tmp_path: Path
) -> None:
    resolve = remote_resolver(tmp_path)
    assert resolve(url(server, "/data")) is None
    assert resolve(url(server, "/gz")) is None
    assert sum(server.hits.values()) == 0
    assert isinstance(resolve, RemoteResolver)
    assert set(resolve.dead_hosts) == {"127.0.0.1"}

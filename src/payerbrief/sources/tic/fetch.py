"""Download payer files over http(s) with limits, resumable retries and a cache.

Payer files are large and their hosts drop connections, so a download that
breaks midway resumes with an HTTP byte range (RFC 9110, section 14) instead
of starting again. URLs found inside payer files are untrusted: only http and
https are fetched, and a host that resolves to a loopback, private,
link-local or otherwise non-public address is refused (at every redirect, and
the connection goes to the very address that was checked), unless the policy
allows the private network. Only the standard library is used; proxies from
the environment are not honoured.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from payerbrief import __version__
from payerbrief.errors import PayerbriefError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]

CHUNK = 1 << 20
GIB = 1 << 30
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Statuses worth asking again: the server is busy or failed for now
# (RFC 9110 sections 15.5.9 and 15.6; RFC 6585 section 4 for 429).
TRANSIENT = frozenset({408, 425, 429, 500, 502, 503, 504})


class DownloadError(PayerbriefError):
    """A download failed; `retryable` says whether asking again can help."""

    def __init__(
        self,
        url: str,
        problem: str,
        *,
        retryable: bool,
        status: int | None = None,
        hint: str = "",
    ) -> None:
        self.url = url
        self.problem = problem
        self.retryable = retryable
        self.status = status
        self.hint = hint or (
            "try again later; the failure looks temporary"
            if retryable
            else "a retry will not help; check the URL or the limits"
        )
        super().__init__(f"{display_url(url)}: {problem}")


class RefusedURLError(DownloadError):
    """A URL that the policy does not allow: its scheme or its address."""

    def __init__(self, url: str, problem: str, hint: str) -> None:
        super().__init__(url, problem, retryable=False, hint=hint)


class UnreachableError(DownloadError):
    """The host could not be resolved or connected to: no answer came at all."""


class DownloadLimitError(DownloadError):
    """A download went past the size or time limit of its policy."""

    def __init__(self, url: str, problem: str, hint: str) -> None:
        super().__init__(url, problem, retryable=False, hint=hint)


@dataclass(frozen=True)
class FetchPolicy:
    """The limits one download runs under.

    `timeout` bounds each connect and each read; `max_seconds` the whole
    download, retries included. `private_hosts` names hosts (as written in
    URLs) that may resolve to private addresses, such as an internal mirror,
    without opening the private network to every URL.
    """

    max_bytes: int | None = 256 * GIB
    timeout: float = 60.0
    max_seconds: float | None = 12 * 3600.0
    retries: int = 4
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_redirects: int = 5
    allow_private_network: bool = False
    private_hosts: frozenset[str] = frozenset()
    user_agent: str = f"payerbrief/{__version__}"


@dataclass
class FetchResult:
    """What a finished download gave: where the bytes are and how they came."""

    url: str
    final_url: str
    path: Path
    size: int
    content_type: str | None
    attempts: int = 1
    resumed: int = 0
    restarted: int = 0


def display_url(url: str) -> str:
    """The URL without its query string, which for signed URLs is a long secret."""
    parts = urlsplit(url)
    shown = parts._replace(query="", fragment="").geturl()
    return shown + "?…" if parts.query else shown


# Addresses


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64, Teredo)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in ipaddress.ip_network("64:ff9b::/96"):  # RFC 6052 NAT64 prefix
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    """True when `address` is a global unicast address (and so is what it embeds)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.is_multicast or not ip.is_global:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return inner.is_global and not inner.is_multicast
    return True


def check_scheme(url: str) -> None:
    """Refuse any URL that is not http or https, before any network use."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedURLError(
            url,
            f"the scheme {scheme or '(none)'!r} is not allowed; only http and https "
            "are fetched",
            "give an http:// or https:// URL; for a local file pass its path",
        )
    if not urlsplit(url).hostname:
        raise RefusedURLError(url, "the URL names no host", "give a full URL")


def vetted_addresses(host: str, port: int, policy: FetchPolicy, url: str) -> list[str]:
    """Resolve `host` and return its addresses, refusing any non-public one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        # EAI_NONAME says the name does not exist; other failures may pass.
        permanent = exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", 0))
        raise UnreachableError(
            url,
            f"cannot resolve host {host!r} ({exc.strerror})",
            retryable=not permanent,
            hint="check the host name and the network connection",
        ) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    trusted = policy.allow_private_network or host.lower() in policy.private_hosts
    if not trusted:
        private = [a for a in addresses if not is_public_address(a)]
        if private:
            raise RefusedURLError(
                url,
                f"host {host!r} resolves to a non-public address ({private[0]}); "
                "loopback, private, link-local and reserved addresses are refused",
                "allow the private network explicitly (allow_private_network=True) "
                "if this host is yours",
            )
    return addresses


# Connections


def _connect_any(
    addresses: list[str], port: int, timeout: float | None
) -> socket.socket:
    """Open a TCP connection to the first of `addresses` that answers."""
    last: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as exc:
            last = exc
    raise last or OSError("no address to connect to")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection that goes only to addresses checked beforehand."""

    def __init__(
        self, host: str, port: int, timeout: float, addresses: list[str]
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _connect_any(self.addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to checked addresses, verifying the named host."""

    def __init__(
        self, host: str, port: int, timeout: float, addresses: list[str]
    ) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.addresses = addresses

    def connect(self) -> None:
        raw = _connect_any(self.addresses, self.port, self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def _request(
    url: str, headers: dict[str, str], policy: FetchPolicy
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse, str]:
    """Send a GET, following redirects and checking every hop; return the answer."""
    for _hop in range(policy.max_redirects + 1):
        check_scheme(url)
        parts = urlsplit(url)
        host = parts.hostname or ""
        https = parts.scheme.lower() == "https"
        port = parts.port or (443 if https else 80)
        addresses = vetted_addresses(host, port, policy, url)
        kind = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
        conn = kind(host, port, policy.timeout, addresses)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            conn.connect()
        except ssl.SSLCertVerificationError as exc:
            conn.close()
            raise DownloadError(
                url,
                f"the certificate of {host} does not verify ({exc.verify_message})",
                retryable=False,
                hint="the server is not who the URL names; do not fetch from it",
            ) from exc
        except OSError as exc:
            conn.close()
            raise UnreachableError(
                url,
                f"cannot connect to {host}:{port} ({_describe(exc)})",
                retryable=True,
                hint="check the network connection, or try again later",
            ) from exc
        try:
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            problem = f"the request failed ({_describe(exc)})"
            if isinstance(exc, TimeoutError):
                problem = f"no answer within the {policy.timeout:g} s timeout"
            raise DownloadError(url, problem, retryable=True) from exc
        location = response.getheader("Location")
        if response.status not in REDIRECTS or not location:
            return conn, response, url
        response.read(64 * 1024)
        conn.close()
        url = urljoin(url, location)
        log.debug("redirected to %s", display_url(url))
    raise DownloadError(
        url,
        f"more than {policy.max_redirects} redirects",
        retryable=False,
        hint="the server redirects in a loop; check the URL",
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# One download


@dataclass
class _Transfer:
    """The state of one download across its attempts."""

    url: str
    partial: Path
    policy: FetchPolicy
    progress: Progress | None
    started: float = field(default_factory=time.monotonic)
    validator: str | None = None
    total: int | None = None
    final_url: str = ""
    content_type: str | None = None
    attempts: int = 0
    resumed: int = 0
    restarted: int = 0

    def have(self) -> int:
        return self.partial.stat().st_size if self.partial.exists() else 0

    def check_time(self) -> None:
        limit = self.policy.max_seconds
        if limit is not None and time.monotonic() - self.started > limit:
            raise DownloadLimitError(
                self.url,
                f"the download took longer than the {limit:g} s limit "
                f"({self.have()} bytes received)",
                "raise the time limit (max_seconds) or download at a quieter time",
            )

    def check_size(self, size: int, announced: bool) -> None:
        limit = self.policy.max_bytes
        if limit is not None and size > limit:
            what = "announces" if announced else "sent more than"
            raise DownloadLimitError(
                self.url,
                f"the server {what} {size} bytes, over the {limit}-byte limit",
                "raise the size limit (max_bytes) if the file is expected to be "
                "this large",
            )


def _content_range(value: str | None) -> tuple[int, int | None] | None:
    """The first byte and total size of a `Content-Range: bytes A-B/T` header."""
    if not value or not value.startswith("bytes "):
        return None
    span, _, total = value[6:].partition("/")
    first, _, _last = span.partition("-")
    try:
        return int(first), None if total.strip() == "*" else int(total)
    except ValueError:
        return None


def _headers(state: _Transfer, offset: int) -> dict[str, str]:
    headers = {
        "User-Agent": state.policy.user_agent,
        # Ranges count bytes of the encoded body, so ask for no encoding.
        "Accept-Encoding": "identity",
    }
    if offset:
        headers["Range"] = f"bytes={offset}-"
        if state.validator:
            headers["If-Range"] = state.validator
    return headers


def _validator(response: http.client.HTTPResponse) -> str | None:
    """A strong ETag or Last-Modified, so a resumed range is of the same file."""
    etag = response.getheader("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return response.getheader("Last-Modified")


def _status_error(url: str, response: http.client.HTTPResponse) -> DownloadError:
    status = response.status
    problem = f"the server answered HTTP {status} {response.reason}".rstrip()
    if status in TRANSIENT:
        return DownloadError(url, problem, retryable=True, status=status)
    hints = {
        401: "the file needs credentials; payer files are public, so the URL may be wrong",
        403: "the server refuses the file; a signed URL may have expired, so take a fresh one from the table of contents",
        404: "no file at this address; the table of contents may be out of date",
        410: "the file was removed; take the current URL from the table of contents",
    }
    hint = hints.get(status, "a retry will not help; check the URL")
    return DownloadError(url, problem, retryable=False, status=status, hint=hint)


def _start_at(state: _Transfer, response: http.client.HTTPResponse, offset: int) -> int:
    """Where the body of `response` starts in the file; truncate when restarting."""
    if response.status == 200:
        if offset:
            log.info("%s: the server ignored the range; restarting", state.url)
            state.restarted += 1
        state.partial.write_bytes(b"")
        length = response.getheader("Content-Length")
        state.total = int(length) if length and length.isdigit() else None
        state.validator = _validator(response)
        return 0
    span = _content_range(response.getheader("Content-Range"))
    if span is None or span[0] != offset:
        state.partial.write_bytes(b"")
        raise DownloadError(
            state.url,
            f"asked for bytes from {offset}, the server sent "
            f"{response.getheader('Content-Range')!r}; restarting",
            retryable=True,
        )
    state.resumed += 1
    state.total = span[1]
    return offset


def _attempt(state: _Transfer) -> None:
    """One request: resume from what the partial file holds, write to its end."""
    offset = state.have()
    conn, response, final_url = _request(
        state.url, _headers(state, offset), state.policy
    )
    try:
        if response.status == 416 and offset:
            span = _content_range(response.getheader("Content-Range"))
            if span is not None and span[1] == offset:
                return  # the earlier attempt had the whole file already
            state.partial.write_bytes(b"")
            raise DownloadError(
                state.url, "the server refused the range; restarting", retryable=True
            )
        if response.status not in (200, 206):
            raise _status_error(state.url, response)
        state.final_url = final_url
        state.content_type = response.getheader("Content-Type")
        position = _start_at(state, response, offset)
        if state.total is not None:
            state.check_size(state.total, announced=True)
        _copy_body(state, response, position)
    finally:
        conn.close()


def _copy_body(
    state: _Transfer, response: http.client.HTTPResponse, position: int
) -> None:
    """Append the body to the partial file, checking limits at every chunk."""
    with state.partial.open("ab") as out:
        try:
            while chunk := response.read(CHUNK):
                position += len(chunk)
                state.check_size(position, announced=False)
                state.check_time()
                out.write(chunk)
                if state.progress is not None:
                    state.progress(position, state.total)
        except (OSError, http.client.HTTPException) as exc:
            problem = f"the connection broke after {position} bytes ({_describe(exc)})"
            if isinstance(exc, TimeoutError):
                problem = (
                    f"the server sent nothing for {state.policy.timeout:g} s "
                    f"after {position} bytes"
                )
            raise DownloadError(state.url, problem, retryable=True) from exc
    # http.client returns a short body without an error when the peer closes
    # early, so the length is checked here.
    if state.total is not None and position < state.total:
        raise DownloadError(
            state.url,
            f"the connection closed after {position} of {state.total} bytes",
            retryable=True,
        )


def _pause(state: _Transfer, error: DownloadError) -> None:
    """Wait before the next attempt: doubling, capped, and within the time limit."""
    wait = min(
        state.policy.backoff * 2 ** (state.attempts - 1), state.policy.max_backoff
    )
    if state.policy.max_seconds is not None:
        left = state.policy.max_seconds - (time.monotonic() - state.started)
        wait = min(wait, max(left, 0.0))
    log.warning(
        "%s: %s; attempt %d of %d failed, retrying in %.1f s",
        display_url(error.url),
        error.problem,
        state.attempts,
        state.policy.retries + 1,
        wait,
    )
    time.sleep(wait)


def fetch(
    url: str,
    dest: Path,
    *,
    policy: FetchPolicy | None = None,
    progress: Progress | None = None,
) -> FetchResult:
    """Download `url` to `dest`, resuming by byte range after a broken connection.

    The bytes go to `dest` plus `.partial` and are renamed when complete, so
    `dest` never holds half a file; a partial file left by an earlier run is
    resumed. Raises `DownloadError`, whose `retryable` says if asking again
    later can help.
    """
    policy = policy or FetchPolicy()
    check_scheme(url)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    state = _Transfer(url, partial, policy, progress)
    while True:
        state.attempts += 1
        try:
            _attempt(state)
            break
        except DownloadError as error:
            if not error.retryable or state.attempts > policy.retries:
                raise _final(error, state.attempts) from error
            state.check_time()
            _pause(state, error)
    partial.replace(dest)
    return FetchResult(
        url=url,
        final_url=state.final_url or url,
        path=dest,
        size=dest.stat().st_size,
        content_type=state.content_type,
        attempts=state.attempts,
        resumed=state.resumed,
        restarted=state.restarted,
    )


def _final(error: DownloadError, attempts: int) -> DownloadError:
    """The error to raise when attempts run out, saying how many were made."""
    if not error.retryable or attempts == 1:
        return error
    kind = type(error)
    return kind(
        error.url,
        f"{error.problem} (after {attempts} attempts)",
        retryable=True,
        status=error.status,
        hint=error.hint,
    )


# The cache


def cache_path(url: str, cache_dir: Path, key: str | None = None) -> Path:
    """Where the cache keeps the body of `url` (or of `key`, when given)."""
    digest = hashlib.sha256((key or url).encode("utf-8")).hexdigest()
    return Path(cache_dir) / digest[:2] / f"{digest}.body"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an advisory lock on `path`, so two workers do not fetch one URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def fetch_cached(
    url: str,
    cache_dir: Path,
    *,
    policy: FetchPolicy | None = None,
    progress: Progress | None = None,
    key: str | None = None,
) -> Path:
    """The path of a cached copy of `url`, downloading it on the first call.

    The cache is keyed by the full URL, or by `key` when the caller knows a
    steadier name (a signed URL without its signature). A `.json` file beside
    each body records the URL, size and time it was fetched.
    """
    body = cache_path(url, cache_dir, key)
    if body.exists():
        return body
    with _locked(body.with_name(body.name + ".lock")):
        if body.exists():
            return body
        result = fetch(url, body, policy=policy, progress=progress)
        record = {
            "url": display_url(url),
            "final_url": display_url(result.final_url),
            "size": result.size,
            "content_type": result.content_type,
            "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        body.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    return body


# Remote provider references


@dataclass
class RemoteResolver:
    """Fetches remote provider-reference files (schema 1.x `location`) under limits.

    Call it with a URL: it returns the file's bytes, gunzipped when the body
    is gzip, or None when the file cannot be had; the reason is kept in
    `failures`. A host that cannot be reached at all is not tried again for
    other URLs, so a file with thousands of references to an unreachable
    host fails fast.
    """

    cache_dir: Path
    policy: FetchPolicy = field(
        default_factory=lambda: FetchPolicy(
            max_bytes=256 * (1 << 20), timeout=30.0, max_seconds=300.0, retries=1
        )
    )
    max_unpacked: int = 1 * GIB
    failures: dict[str, DownloadError] = field(default_factory=dict)
    dead_hosts: dict[str, DownloadError] = field(default_factory=dict)

    def __call__(self, url: str) -> bytes | None:
        if url in self.failures:
            return None
        host = (urlsplit(url).hostname or "").lower()
        if host in self.dead_hosts:
            self.failures[url] = self.dead_hosts[host]
            return None
        try:
            path = fetch_cached(url, self.cache_dir, policy=self.policy)
            return self._unpack(url, path)
        except DownloadError as error:
            log.warning("provider reference not fetched: %s", error)
            self.failures[url] = error
            if isinstance(error, UnreachableError | RefusedURLError):
                self.dead_hosts[host] = error
            return None

    def _unpack(self, url: str, path: Path) -> bytes:
        """Gunzip a gzip body (by its magic bytes), refusing a decompression bomb."""
        data = path.read_bytes()
        if not data.startswith(b"\x1f\x8b"):
            return data
        inflater = zlib.decompressobj(wbits=31)
        try:
            out = inflater.decompress(data, self.max_unpacked + 1)
            if not inflater.eof and len(out) <= self.max_unpacked:
                raise zlib.error("the gzip stream ends early")
        except zlib.error as exc:
            path.unlink(missing_ok=True)
            raise DownloadError(
                url, f"the gzip body is damaged ({exc})", retryable=True
            ) from exc
        if len(out) > self.max_unpacked:
            raise DownloadLimitError(
                url,
                f"the file unpacks to more than {self.max_unpacked} bytes",
                "raise max_unpacked if such a large provider reference is expected",
            )
        return out


def remote_resolver(
    cache_dir: Path, policy: FetchPolicy | None = None
) -> Callable[[str], bytes | None]:
    """A function that fetches a remote provider-reference file, or gives None."""
    if policy is None:
        return RemoteResolver(Path(cache_dir))
    return RemoteResolver(Path(cache_dir), policy)

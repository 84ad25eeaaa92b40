"""Cache validators and security headers, as plain ASGI middleware.

Every successful GET carries the data version as a weak ETag (see
`AppState.etag`), `Last-Modified` from the manifest's newest load and a short
`Cache-Control`; a request whose `If-None-Match` names the current ETag gets
304 with no body. Errors are never cached.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_AGE = 300

# The pages load only their own script, style sheet and data.
SECURITY = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _matches(if_none_match: str, etag: str) -> bool:
    # Weak comparison (RFC 9110, section 13.1.2): W/ prefixes do not count.
    wanted = etag.removeprefix("W/")
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or wanted in tags


class CacheHeaders:
    def __init__(self, app: ASGIApp, etag: str, last_modified: str | None) -> None:
        self.app = app
        self.etag = etag
        self.last_modified = last_modified

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope["method"] in ("GET", "HEAD")
        asked = Headers(scope=scope).get("if-none-match", "")
        not_modified = cacheable and bool(asked) and _matches(asked, self.etag)
        swallowing = False

        async def send_with_headers(message: Message) -> None:
            nonlocal swallowing
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY.items():
                    headers.setdefault(name, value)
                if message["status"] == 200 and cacheable:
                    headers["ETag"] = self.etag
                    headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
                    if self.last_modified:
                        headers["Last-Modified"] = self.last_modified
                    if not_modified:
                        swallowing = True
                        kept = [
                            (k, v)
                            for k, v in headers.raw
                            if k.lower() not in (b"content-length", b"content-type")
                        ]
                        message = {
                            "type": "http.response.start",
                            "status": 304,
                            "headers": kept,
                        }
                elif message["status"] >= 400:
                    headers["Cache-Control"] = "no-store"
            elif message["type"] == "http.response.body" and swallowing:
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(scope, receive, send_with_headers)

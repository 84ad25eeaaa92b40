"""`payerbrief serve`: the web app under uvicorn, if the `web` extra is installed."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from pathlib import Path

from payerbrief.errors import PayerbriefError

log = logging.getLogger(__name__)


class MissingExtraError(PayerbriefError):
    """A feature whose packages come with an extra that is not installed."""

    def __init__(self, extra: str, feature: str, packages: str) -> None:
        self.extra = extra
        self.hint = f"install the {extra} extra: pip install 'payerbrief[{extra}]'"
        super().__init__(f"{feature} needs {packages}, which are not installed")


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, or an error that says which address failed and why."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Name the protocol: asyncio turns Nagle's algorithm off only on sockets
    # whose `proto` is IPPROTO_TCP (`base_events._set_nodelay`), and without
    # that every reused connection waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        error = PayerbriefError(f"cannot listen on {host}:{port}: {exc.strerror}")
        error.hint = "choose another --port, or stop what is using this one"
        raise error from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    home: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Load the warehouse read-only and serve until interrupted."""
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise MissingExtraError("web", "the web app", "FastAPI and uvicorn") from exc

    from payerbrief.web.app import create_app
    from payerbrief.web.state import load_state

    sock = listen(host, port)
    try:
        state = load_state(home)
    except BaseException:
        sock.close()
        raise
    # Build the browsing catalog now, so the first request does not wait for it.
    _ = state.catalog
    bound = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(state), log_config=None, access_log=False, lifespan="off"
    )
    if on_ready is not None:
        shown = f"[{host}]" if ":" in host else host
        on_ready(f"http://{shown}:{bound}/")
    uvicorn.Server(config).run(sockets=[sock])

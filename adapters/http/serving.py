"""An ASGI app served by uvicorn in a thread of its own: for tests and benchmarks."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import uvicorn

from calldesk.adapters.http.config import LOOPBACK


@contextmanager
def served_in_thread(
    app: Any,
    port: int = 0,
    lifespan: Literal["auto", "on", "off"] = "on",
    graceful_seconds: int = 1,
) -> Iterator[str]:
    """The base URL of the app, listening on loopback (a free port when 0) until the
    block ends; the URL is given only once the socket listens."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=LOOPBACK,
            port=port,
            log_level="warning",
            lifespan=lifespan,
            timeout_graceful_shutdown=graceful_seconds,
        )
    )
    started = threading.Event()
    original = server.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets)
        started.set()

    server.startup = startup  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the server did not start")
    port = port or server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)

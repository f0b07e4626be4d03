"""Serving an app until Ctrl-C, and saying where only once it listens: an address
printed earlier could be opened too soon, and a script waiting for the line knows the
server is ready when it reads it."""

from collections.abc import Sequence
from typing import Any

import uvicorn

from calldesk.adapters.cli.console import out


def serve_announced(app: Any, host: str, port: int, lines: Sequence[str]) -> None:
    """Serve `app` on host:port until interrupted; print `lines` once it listens."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    listen = server.startup

    async def startup(sockets: Any = None) -> None:
        await listen(sockets)
        if server.started:
            for line in lines:
                out.print(line, soft_wrap=True)
            out.file.flush()  # a pipe would hold the lines back

    server.startup = startup  # type: ignore[method-assign]
    server.run()

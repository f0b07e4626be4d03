"""`calldesk serve`: the browser connector on this machine."""

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from calldesk.adapters.cli.console import desk_session, out
from calldesk.adapters.cli.directory import DEFAULT_DIRECTORY_PATH, DIRECTORY_PATH_VARIABLE
from calldesk.adapters.clock import SystemClock
from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import LOOPBACK, ConnectorConfig


def serve(
    context: typer.Context,
    host: Annotated[
        str, typer.Option(help="Where to listen; loopback unless you mean it.")
    ] = LOOPBACK,
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8765,
    origin: Annotated[
        list[str] | None,
        typer.Option(help="A page origin allowed to send commands; repeat for each."),
    ] = None,
    directory_path: Annotated[
        Path, typer.Option("--directory", envvar=DIRECTORY_PATH_VARIABLE)
    ] = DEFAULT_DIRECTORY_PATH,
) -> None:
    """Serve the HTTP API and its event streams until interrupted."""
    config = ConnectorConfig(
        host=host,
        port=port,
        allowed_hosts=(*ConnectorConfig().allowed_hosts, host),
        allowed_origins=tuple(origin or ()),
    )
    with (
        SQLiteRecordDirectory(directory_path) as directory,
        desk_session(context, directory) as desk,
    ):
        app = create_app(desk, SystemClock(), config)
        out.print(f"calldesk connector on http://{host}:{port} (OpenAPI: /schema)")
        uvicorn.run(app, host=host, port=port, log_level="warning")

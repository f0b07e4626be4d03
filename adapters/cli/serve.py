"""`calldesk serve`: the browser connector on this machine, and the desk's scheduler."""

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
import uvicorn

from calldesk.adapters.cli.console import out
from calldesk.adapters.cli.directory import DEFAULT_DIRECTORY_PATH, DIRECTORY_PATH_VARIABLE
from calldesk.adapters.cli.phone_systems import load_phone_systems
from calldesk.adapters.cli.wiring import wired
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
    phone_systems: Annotated[
        Path | None,
        typer.Option(
            envvar="CALLDESK_PHONE_SYSTEMS",
            help="A JSON file of each tenant's Twilio and Amazon Connect accounts, "
            "whose webhooks post to /webhooks/{vendor}/{tenant}.",
        ),
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(help="The address vendors call the webhooks at, behind a proxy."),
    ] = None,
) -> None:
    """Serve the HTTP API and its event streams until interrupted; meanwhile the
    scheduler ends timed wrap-ups and reconciles the phone systems."""
    config = ConnectorConfig(
        host=host,
        port=port,
        allowed_hosts=(*ConnectorConfig().allowed_hosts, host, *_host_of(public_url)),
        allowed_origins=tuple(origin or ()),
        public_base_url=public_url,
    )
    clock = SystemClock()
    with (
        SQLiteRecordDirectory(directory_path) as directory,
        wired(context, directory) as wiring,
    ):
        webhooks = load_phone_systems(phone_systems, clock) if phone_systems else {}
        for tenant, adapters in webhooks.items():
            for adapter in adapters:
                wiring.attach(tenant, adapter, clock)
        app = create_app(wiring.desk, clock, config, webhooks)
        out.print(f"calldesk connector on http://{host}:{port} (OpenAPI: /schema)")
        with wiring.running(clock):
            uvicorn.run(app, host=host, port=port, log_level="warning")


def _host_of(url: str | None) -> tuple[str, ...]:
    """The public name vendors reach the connector by, which its Host guard must allow."""
    host = urlsplit(url).hostname if url else None
    return (host,) if host else ()

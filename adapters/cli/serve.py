"""`calldesk serve`: the browser connector on this machine, its phone systems, and the
desk's scheduler."""

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from calldesk.adapters.cli.announced import serve_announced
from calldesk.adapters.cli.connected_phones import connected
from calldesk.adapters.cli.console import EXIT_BAD_INPUT, fail
from calldesk.adapters.cli.directory import DEFAULT_DIRECTORY_PATH, DIRECTORY_PATH_VARIABLE
from calldesk.adapters.cli.phone_systems import (
    Phone,
    PhoneSystems,
    SimulatorSettings,
    SipPhoneSettings,
    load_phone_systems,
)
from calldesk.adapters.cli.wiring import wired
from calldesk.adapters.clock import SystemClock
from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import LOOPBACK, ConnectorConfig
from calldesk.domain.errors import InvalidValue


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
    phone: Annotated[
        Phone | None,
        typer.Option(
            help="A phone system the connector holds a connection to, for --tenant: "
            "the simulator (no vendor account needed), or --agent's own SIP phone "
            "(baresip's ctrl_tcp socket on --ctrl-port)."
        ),
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option("--tenant", "-t", envvar="CALLDESK_TENANT", help="--phone's tenant."),
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option(
            help="Whose SIP phone --phone baresip is; whom the simulator's callers ring."
        ),
    ] = None,
    ctrl_port: Annotated[
        int, typer.Option(help="The port of the baresip phone's ctrl_tcp, on loopback.")
    ] = 4444,
    dial_uri: Annotated[
        str | None,
        typer.Option(
            help="Where the SIP phone sends the calls the agent places: a sip: URI "
            "with {number}, like sip:{number}@pbx.example.com."
        ),
    ] = None,
    ring_every: Annotated[
        float,
        typer.Option(
            help="Seconds between the simulator's callers, while --agent is available."
        ),
    ] = 30.0,
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
    try:
        systems = PhoneSystems()
        if phone_systems is not None:
            systems = load_phone_systems(phone_systems, clock)
        if phone is not None:
            flagged = _flagged_phone(phone, agent, ctrl_port, dial_uri, ring_every)
            systems = systems.with_flag(_flagged_tenant(tenant), flagged)
    except InvalidValue as error:
        fail(EXIT_BAD_INPUT, str(error))
    with (
        SQLiteRecordDirectory(directory_path) as directory,
        wired(context, directory) as wiring,
    ):
        for owner, adapters in systems.webhooks.items():
            for adapter in adapters:
                wiring.attach(owner, adapter, clock)
        app = create_app(wiring.desk, clock, config, systems.webhooks)
        listening = f"calldesk connector on http://{host}:{port} (OpenAPI: /schema)"
        with connected(wiring, systems, clock), wiring.running(clock):
            serve_announced(app, host, port, (listening,))


def _host_of(url: str | None) -> tuple[str, ...]:
    """The public name vendors reach the connector by, which its Host guard must allow."""
    host = urlsplit(url).hostname if url else None
    return (host,) if host else ()


def _flagged_tenant(tenant: str | None) -> str:
    if tenant is None:
        fail(EXIT_BAD_INPUT, "--phone needs --tenant (or CALLDESK_TENANT): whose phone")
    return tenant


def _flagged_phone(
    phone: Phone, agent: str | None, ctrl_port: int, dial_uri: str | None, ring_every: float
) -> SipPhoneSettings | SimulatorSettings:
    """The settings the flags give; InvalidValue, said as bad input, when they break
    the settings' rules."""
    if phone is Phone.SIMULATOR:
        return SimulatorSettings(agent, ring_every)
    if agent is None or dial_uri is None:
        fail(EXIT_BAD_INPUT, "--phone baresip needs --agent and --dial-uri")
    return SipPhoneSettings(agent, dial_uri, port=ctrl_port)

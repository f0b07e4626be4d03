"""The `calldesk` command line: presence and tenancy against the configured event store.

Exit codes: 0 done, 1 refused by a rule (the state does not allow it, it already
exists), 2 bad input (a value breaks its rule, a wrong option), 3 not found (unknown
tenant, agent or reason code; another tenant's things look the same).
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Annotated, NoReturn, TypeVar

import attrs
import typer
from rich.console import Console
from rich.table import Table

from calldesk.apps.conversion import converter
from calldesk.apps.demo import DEMO_AGENT, DEMO_TENANT, presence_round_trip
from calldesk.apps.desk import Desk
from calldesk.apps.presence import (
    AgentHistoryEntry,
    AgentView,
    GoAvailable,
    GoNotReady,
    LogIn,
    LogOut,
    RegisterAgent,
)
from calldesk.apps.settings import DATABASE_URL_VARIABLE, DEFAULT_DATABASE_URL
from calldesk.apps.tenancy import CreateTenant, DefineNotReadyReasons, TenantView
from calldesk.domain.errors import DomainError, InvalidValue, NotFound
from calldesk.domain.tenants import DEFAULT_NOT_READY_REASONS, NotReadyReason

EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_FOUND = 3

T = TypeVar("T")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

app = typer.Typer(
    name="calldesk",
    help="An event-sourced core for customer-service desks with built-in telephony.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
tenant_app = typer.Typer(help="Create tenants and set what their agents choose from.")
agent_app = typer.Typer(help="Register agents and change their presence.")
app.add_typer(tenant_app, name="tenant")
app.add_typer(agent_app, name="agent")


@attrs.frozen
class Settings:
    """What the top-level options decided, handed to every command."""

    database_url: str
    as_json: bool


def _version(shown: bool) -> None:
    if shown:
        out.print(f"calldesk {version('calldesk')}")
        raise typer.Exit


@app.callback()
def main_options(
    context: typer.Context,
    database_url: Annotated[
        str,
        typer.Option(
            envvar=DATABASE_URL_VARIABLE,
            help="Where events are stored: sqlite:///FILE or postgresql://…",
        ),
    ] = DEFAULT_DATABASE_URL,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print results as JSON, for scripts.")
    ] = False,
    _: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    context.obj = Settings(database_url, as_json)


TenantOption = Annotated[
    str,
    typer.Option(
        "--tenant", "-t", envvar="CALLDESK_TENANT", help="The tenant the agent is in."
    ),
]
Handle = Annotated[str, typer.Argument(help="The agent's handle, like a-17.")]


def _now() -> datetime:
    """The edge reads the clock; the core only receives the time in commands."""
    return datetime.now(UTC)


def _fail(code: int, message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _desk(context: typer.Context) -> Iterator[Desk]:
    """The application on the configured store, with refusals turned into exit codes."""
    settings: Settings = context.obj
    try:
        desk = Desk.at(settings.database_url)
    except InvalidValue as error:
        _fail(EXIT_BAD_INPUT, str(error))
    try:
        yield desk
    except InvalidValue as error:
        _fail(EXIT_BAD_INPUT, str(error))
    except NotFound as error:
        _fail(EXIT_NOT_FOUND, str(error))
    except DomainError as error:
        _fail(EXIT_REFUSED, str(error))
    finally:
        desk.close()


def _run(context: typer.Context, action: Callable[[Desk], T]) -> T:
    with _desk(context) as desk:
        return action(desk)


def _print(context: typer.Context, result: object, human: Callable[[], None]) -> None:
    if context.obj.as_json:
        out.print_json(json.dumps(converter.unstructure(result)))
    else:
        human()


def _describe(view: AgentView) -> str:
    state = view.state.value.replace("-", " ")
    if view.not_ready_reason is not None and view.state.value == "not-ready":
        state += f" ({view.not_ready_reason.label})"
    waiting = ""
    if view.state.value != view.presence.value:
        waiting = f"; then {view.presence.value.replace('-', ' ')}"
    since = view.since.strftime("%Y-%m-%d %H:%M:%S %Z")
    return f"{view.agent} ({view.name}) is {state} since {since}{waiting}"


def _show_agent(context: typer.Context, view: AgentView) -> None:
    _print(context, view, lambda: out.print(_describe(view)))


def _show_tenant(context: typer.Context, view: TenantView) -> None:
    def human() -> None:
        out.print(f"{view.tenant} ({view.name})")
        for reason in view.not_ready_reasons:
            out.print(f"  not ready: {reason.code} = {reason.label}")

    _print(context, view, human)


def _agent_command(context: typer.Context, action: Callable[[Desk], AgentView]) -> None:
    _show_agent(context, _run(context, action))


def _tenant_command(context: typer.Context, action: Callable[[Desk], TenantView]) -> None:
    _show_tenant(context, _run(context, action))


def _reasons(pairs: list[str]) -> tuple[NotReadyReason, ...]:
    """Parses CODE=Label pairs; a bare CODE takes its own text as the label."""
    reasons = []
    for pair in pairs:
        code, _, label = pair.partition("=")
        try:
            reasons.append(NotReadyReason(code, label or code))
        except InvalidValue as error:
            _fail(EXIT_BAD_INPUT, str(error))
    return tuple(reasons)


@tenant_app.command("create")
def tenant_create(
    context: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant's slug, like acme.")],
    name: Annotated[str, typer.Option(help="The tenant's display name.")],
    reason: Annotated[
        list[str] | None,
        typer.Option(help="A not-ready reason as CODE=Label; repeat for each."),
    ] = None,
) -> None:
    """Create a tenant with its list of not-ready reasons."""
    reasons = _reasons(reason) if reason else DEFAULT_NOT_READY_REASONS
    _tenant_command(
        context,
        lambda desk: desk.create_tenant(
            CreateTenant(tenant, name=name, not_ready_reasons=reasons, at=_now())
        ),
    )


@tenant_app.command("reasons")
def tenant_reasons(
    context: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant's slug.")],
    reason: Annotated[list[str], typer.Argument(help="Not-ready reasons, CODE=Label.")],
) -> None:
    """Replace the not-ready reasons a tenant's agents choose from."""
    reasons = _reasons(reason)
    _tenant_command(
        context,
        lambda desk: desk.define_not_ready_reasons(
            DefineNotReadyReasons(tenant, reasons=reasons, at=_now())
        ),
    )


@tenant_app.command("show")
def tenant_show(
    context: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant's slug.")],
) -> None:
    """Show a tenant and its not-ready reasons."""
    _tenant_command(context, lambda desk: desk.tenant(tenant))


@agent_app.command("register")
def agent_register(
    context: typer.Context,
    handle: Handle,
    tenant: TenantOption,
    name: Annotated[str, typer.Option(help="The agent's display name.")],
) -> None:
    """Register an agent in a tenant; the agent starts logged out."""
    _agent_command(
        context,
        lambda desk: desk.register_agent(
            RegisterAgent(tenant, handle, name=name, at=_now())
        ),
    )


@agent_app.command("login")
def agent_login(context: typer.Context, handle: Handle, tenant: TenantOption) -> None:
    """Log in: the agent lands not ready, so no call rings before they choose."""
    _agent_command(context, lambda desk: desk.log_in(LogIn(tenant, handle, at=_now())))


@agent_app.command("ready")
def agent_ready(context: typer.Context, handle: Handle, tenant: TenantOption) -> None:
    """Become available for calls (after the current call's work, if any)."""
    _agent_command(
        context, lambda desk: desk.go_available(GoAvailable(tenant, handle, at=_now()))
    )


@agent_app.command("not-ready")
def agent_not_ready(
    context: typer.Context,
    handle: Handle,
    reason: Annotated[str, typer.Argument(help="A reason code of the tenant.")],
    tenant: TenantOption,
) -> None:
    """Take no calls, for one of the tenant's reasons."""
    _agent_command(
        context,
        lambda desk: desk.go_not_ready(
            GoNotReady(tenant, handle, reason=reason, at=_now())
        ),
    )


@agent_app.command("logout")
def agent_logout(context: typer.Context, handle: Handle, tenant: TenantOption) -> None:
    """Log out; refused while the agent still has call work."""
    _agent_command(context, lambda desk: desk.log_out(LogOut(tenant, handle, at=_now())))


@agent_app.command("show")
def agent_show(context: typer.Context, handle: Handle, tenant: TenantOption) -> None:
    """Show the agent's state as the softphone would."""
    _agent_command(context, lambda desk: desk.agent(tenant, handle))


@agent_app.command("history")
def agent_history(context: typer.Context, handle: Handle, tenant: TenantOption) -> None:
    """Every recorded event of the agent, replayed in order: what happened and when."""
    history = _run(context, lambda desk: desk.agent_history(tenant, handle))
    _print(context, history, lambda: out.print(history_table(history)))


def history_table(history: list[AgentHistoryEntry]) -> Table:
    table = Table("#", "recorded at", "event", "state after", "details")
    for entry in history:
        details = ", ".join(
            f"{key}={json.dumps(value)}" for key, value in entry.details.items()
        )
        table.add_row(
            str(entry.version),
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.event,
            entry.state.value,
            details,
        )
    return table


@app.command("demo")
def demo(context: typer.Context) -> None:
    """Run a shift's presence changes on the configured store and show the audit trail."""
    with _desk(context) as desk:
        out.print(f"Event store: {context.obj.database_url}")
        for caption, view in presence_round_trip(desk, _now):
            out.print(f"[bold]{caption:>13}[/]  {_describe(view)}")
        history = desk.agent_history(DEMO_TENANT, DEMO_AGENT)
        out.print(history_table(history[-6:]))
        out.print(
            f"{len(history)} events recorded for {DEMO_AGENT}; log head {desk.head()}."
        )


def main() -> None:
    app()


if __name__ == "__main__":
    main()

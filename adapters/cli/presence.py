"""`calldesk tenant` and `calldesk agent`: tenancy and presence from the command line."""

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from calldesk.adapters.cli.console import (
    EXIT_BAD_INPUT,
    Handle,
    TenantOption,
    agent_command,
    fail,
    now,
    out,
    run,
    show,
    tenant_command,
)
from calldesk.apps.presence import (
    AgentHistoryEntry,
    GoAvailable,
    GoNotReady,
    LogIn,
    LogOut,
    RegisterAgent,
)
from calldesk.apps.tenancy import (
    CreateTenant,
    DefineNotReadyReasons,
    SetDefaultRegion,
    SetWrapUpPolicy,
)
from calldesk.domain.errors import InvalidValue
from calldesk.domain.tenants import DEFAULT_NOT_READY_REASONS, NotReadyReason, WrapUpPolicy

tenant_app = typer.Typer(help="Create tenants and set what their agents choose from.")
agent_app = typer.Typer(help="Register agents and change their presence.")


def parse_reasons(pairs: list[str]) -> tuple[NotReadyReason, ...]:
    """Parses CODE=Label pairs; a bare CODE takes its own text as the label."""
    reasons = []
    for pair in pairs:
        code, _, label = pair.partition("=")
        try:
            reasons.append(NotReadyReason(code, label or code))
        except InvalidValue as error:
            fail(EXIT_BAD_INPUT, str(error))
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
    reasons = parse_reasons(reason) if reason else DEFAULT_NOT_READY_REASONS
    tenant_command(
        context,
        lambda desk: desk.create_tenant(
            CreateTenant(tenant, name=name, not_ready_reasons=reasons, at=now())
        ),
    )


@tenant_app.command("reasons")
def tenant_reasons(
    context: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant's slug.")],
    reason: Annotated[list[str], typer.Argument(help="Not-ready reasons, CODE=Label.")],
) -> None:
    """Replace the not-ready reasons a tenant's agents choose from."""
    reasons = parse_reasons(reason)
    tenant_command(
        context,
        lambda desk: desk.define_not_ready_reasons(
            DefineNotReadyReasons(tenant, reasons=reasons, at=now())
        ),
    )


@tenant_app.command("wrap-up")
def tenant_wrap_up(
    context: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant's slug.")],
    limit: Annotated[
        int | None,
        typer.Option(
            help="Seconds until wrap-up ends by itself; 0 for none; omit: manual."
        ),
    ] = None,
    auto_ready: Annotated[
        bool, typer.Option(help="After a handled call, available again (else not ready).")
    ] = True,
) -> None:
    """Set how after-call work ends for the tenant's calls from now on."""

    def policy() -> WrapUpPolicy:
        try:
            return WrapUpPolicy(limit, auto_ready)
        except InvalidValue as error:
            fail(EXIT_BAD_INPUT, str(error))

    wrap_up = policy()
    tenant_command(
        context,
        lambda desk: desk.set_wrap_up_policy(
            SetWrapUpPolicy(tenant, policy=wrap_up, at=now())
        ),
    )


@tenant_app.command("region")
def tenant_region(
    context: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant's slug.")],
    region: Annotated[str, typer.Argument(help="An ISO 3166 region, like US or GB.")],
) -> None:
    """Set where national numbers of the tenant's callers and records are read."""
    tenant_command(
        context,
        lambda desk: desk.set_default_region(
            SetDefaultRegion(tenant, region=region, at=now())
        ),
    )


@tenant_app.command("show")
def tenant_show(
    context: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant's slug.")],
) -> None:
    """Show a tenant and its not-ready reasons."""
    tenant_command(context, lambda desk: desk.tenant(tenant))


@agent_app.command("register")
def agent_register(
    context: typer.Context,
    handle: Handle,
    tenant: TenantOption,
    name: Annotated[str, typer.Option(help="The agent's display name.")],
) -> None:
    """Register an agent in a tenant; the agent starts logged out."""
    agent_command(
        context,
        lambda desk: desk.register_agent(
            RegisterAgent(tenant, handle, name=name, at=now())
        ),
    )


@agent_app.command("login")
def agent_login(context: typer.Context, handle: Handle, tenant: TenantOption) -> None:
    """Log in: the agent lands not ready, so no call rings before they choose."""
    agent_command(context, lambda desk: desk.log_in(LogIn(tenant, handle, at=now())))


@agent_app.command("ready")
def agent_ready(context: typer.Context, handle: Handle, tenant: TenantOption) -> None:
    """Become available for calls (after the current call's work, if any)."""
    agent_command(
        context, lambda desk: desk.go_available(GoAvailable(tenant, handle, at=now()))
    )


@agent_app.command("not-ready")
def agent_not_ready(
    context: typer.Context,
    handle: Handle,
    reason: Annotated[str, typer.Argument(help="A reason code of the tenant.")],
    tenant: TenantOption,
) -> None:
    """Take no calls, for one of the tenant's reasons."""
    agent_command(
        context,
        lambda desk: desk.go_not_ready(GoNotReady(tenant, handle, reason=reason, at=now())),
    )


@agent_app.command("logout")
def agent_logout(context: typer.Context, handle: Handle, tenant: TenantOption) -> None:
    """Log out; refused while the agent still has call work."""
    agent_command(context, lambda desk: desk.log_out(LogOut(tenant, handle, at=now())))


@agent_app.command("show")
def agent_show(context: typer.Context, handle: Handle, tenant: TenantOption) -> None:
    """Show the agent's state as the softphone would."""
    agent_command(context, lambda desk: desk.agent(tenant, handle))


@agent_app.command("history")
def agent_history(context: typer.Context, handle: Handle, tenant: TenantOption) -> None:
    """Every recorded event of the agent, replayed in order: what happened, when its
    command said it did, and when the store recorded it (UTC)."""
    history = run(context, lambda desk: desk.agent_history(tenant, handle))
    show(context, history, lambda: out.print(history_table(history)))


def history_table(history: list[AgentHistoryEntry]) -> Table:
    """Both times of each event: the one its command said, the one the store recorded
    it at (ADR/0019); only the second never goes backwards."""
    table = Table("#", "said at", "recorded at", "event", "state after", "details")
    for entry in history:
        details = ", ".join(
            f"{key}={json.dumps(value)}" for key, value in entry.details.items()
        )
        table.add_row(
            str(entry.version),
            moment(entry.said_at),
            moment(entry.recorded_at) if entry.recorded_at else "not kept",
            entry.event,
            entry.state.value,
            details,
        )
    return table


def moment(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]

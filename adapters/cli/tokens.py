"""`calldesk token`: issue, list and revoke the bearer tokens browsers and an agent's
devices connect with.

The secret is drawn here, at the edge, and printed once; the store keeps only its
digest, so nothing can show the secret again, and revoking a token takes its secret.
"""

import secrets
from datetime import datetime, timedelta
from typing import Annotated

import attrs
import typer

from calldesk.adapters.cli.console import (
    EXIT_BAD_INPUT,
    Handle,
    TenantOption,
    fail,
    now,
    out,
    run,
    show,
)
from calldesk.apps.access import IssueToken, RevokeToken, TokenView
from calldesk.apps.desk import Desk
from calldesk.domain.access import MAX_TOKEN_DAYS, Role

token_app = typer.Typer(
    help="Issue, list and revoke the bearer tokens browsers and devices connect with."
)

#: 32 random bytes: 43 URL-safe characters, 256 bits no one guesses (ADR/0009).
SECRET_BYTES = 32


@attrs.frozen
class IssuedToken:
    """A new token and its secret, which nothing will ever show again."""

    secret: str
    token: TokenView


def describe(view: TokenView) -> str:
    watches = ""
    if view.all_agents:
        watches = ", watching every agent of the tenant"
    elif view.supervises:
        watches = f", watching {', '.join(view.supervises)}"
    holder = view.agent if view.device is None else f"device {view.device} of {view.agent}"
    role = "device, records only" if view.device is not None else view.role.value
    described = (
        f"token of {holder} in {view.tenant} ({role}{watches}), "
        f"expires {moment(view.expires_at)}"
    )
    if view.revoked_at is not None:
        described += f"; revoked {moment(view.revoked_at)}"
    return described


def moment(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S %Z")


@token_app.command("create")
def token_create(
    context: typer.Context,
    handle: Handle,
    tenant: TenantOption,
    supervisor: Annotated[
        bool, typer.Option("--supervisor", help="May watch other agents' events.")
    ] = False,
    supervises: Annotated[
        list[str] | None,
        typer.Option(help="An agent the supervisor watches; repeat for each."),
    ] = None,
    all_agents: Annotated[
        bool,
        typer.Option("--all-agents", help="The supervisor watches every agent."),
    ] = False,
    administrator: Annotated[
        bool,
        typer.Option(
            "--administrator",
            help="Manages the tenant's third-party apps (calldesk app, /apps).",
        ),
    ] = False,
    days: Annotated[
        int,
        typer.Option(min=1, max=MAX_TOKEN_DAYS, help="Days until the token expires."),
    ] = 30,
    device: Annotated[
        str | None,
        typer.Option(
            help="A device of the agent the token is for, like laptop-3: it syncs the "
            "agent's records, authored as the device, and reaches nothing else."
        ),
    ] = None,
) -> None:
    """Issue a token for an agent, or for one of its devices, and print its secret,
    once."""
    if supervisor and administrator:
        fail(EXIT_BAD_INPUT, "a token is a supervisor's or an administrator's, not both")
    secret = secrets.token_urlsafe(SECRET_BYTES)
    at = now()
    role = Role.SUPERVISOR if supervisor else Role.AGENT
    if administrator:
        role = Role.ADMINISTRATOR

    def issue(desk: Desk) -> TokenView:
        command = IssueToken(
            tenant,
            handle,
            role=role,
            supervises=tuple(supervises or ()),
            all_agents=all_agents,
            expires_at=at + timedelta(days=days),
            device=device,
            at=at,
        )
        return desk.issue_token(command, secret)

    issued = IssuedToken(secret, run(context, issue))

    def human() -> None:
        out.print(describe(issued.token))
        out.print("secret (shown only now; keep it safe):")
        out.print(issued.secret, soft_wrap=True)

    show(context, issued, human)


@token_app.command("list")
def token_list(context: typer.Context, handle: Handle, tenant: TenantOption) -> None:
    """The agent's tokens and its devices', revoked and expired too, oldest first."""
    views = run(context, lambda desk: desk.tokens(tenant, handle))

    def human() -> None:
        if not views:
            out.print(f"no tokens of {handle} in {tenant}")
        for view in views:
            out.print(f"{view.token_id}  {describe(view)}", soft_wrap=True)

    show(context, views, human)


@token_app.command("revoke")
def token_revoke(
    context: typer.Context,
    tenant: TenantOption,
    secret: Annotated[
        str,
        typer.Option(
            prompt="Secret",
            hide_input=True,
            help="The token's secret; asked for (or read from stdin) when not given, "
            "so it stays out of shell history. Give it as --secret=VALUE: it may start "
            "with a dash.",
        ),
    ],
) -> None:
    """Stop a token for good; revoking it again changes nothing."""
    view = run(
        context, lambda desk: desk.revoke_token(RevokeToken(tenant, at=now()), secret)
    )
    show(context, view, lambda: out.print(describe(view)))

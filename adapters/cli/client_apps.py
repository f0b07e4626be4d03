"""`calldesk app`: a tenant administrator registers, publishes, suspends, reinstates,
revokes and installs third-party apps, rotates their keys, and lists what the proxy
refused (docs/proxy.md, ADR/0031).

A key is drawn here, at the edge, and printed once; the store keeps only its digest.
"""

import secrets
from collections.abc import Callable
from typing import Annotated

import attrs
import typer

from calldesk.adapters.cli.console import (
    EXIT_BAD_INPUT,
    TenantOption,
    fail,
    now,
    out,
    run,
    show,
)
from calldesk.apps.app_refusals import MAX_REFUSALS_PAGE, RefusalsPage
from calldesk.apps.client_apps import (
    AppCommand,
    AppView,
    InstallApp,
    RegisterApp,
    UninstallApp,
)
from calldesk.apps.desk import Desk
from calldesk.domain.app_paths import Scope, endpoint_named
from calldesk.domain.errors import InvalidValue

client_app_cli = typer.Typer(
    help="Register and manage the third-party apps agents run beside a call."
)

AppId = Annotated[str, typer.Argument(help="The app's id, like order-lookup.")]

#: 32 random bytes, as for token secrets (ADR/0009).
KEY_BYTES = 32


@attrs.frozen
class KeyedApp:
    """A registration and its key, which nothing will ever show again."""

    key: str
    app: AppView


def describe(view: AppView) -> str:
    installed = ", ".join(view.installed_for) or "nobody"
    return (
        f"{view.app} ({view.name}): {view.status.value}, from "
        f"{', '.join(view.origins)}, {view.rate_limit} requests a minute, "
        f"key #{view.key_generation}, installed for {installed}"
    )


def show_app(context: typer.Context, view: AppView) -> None:
    def human() -> None:
        out.print(describe(view), soft_wrap=True)
        for endpoint in view.endpoints:
            out.print(f"  {endpoint}", soft_wrap=True)

    show(context, view, human)


def show_keyed(context: typer.Context, keyed: KeyedApp) -> None:
    def human() -> None:
        out.print(describe(keyed.app), soft_wrap=True)
        out.print("key (shown only now; it goes into the app's configuration):")
        out.print(keyed.key, soft_wrap=True)

    show(context, keyed, human)


@client_app_cli.command("register")
def app_register(
    context: typer.Context,
    app: AppId,
    tenant: TenantOption,
    name: Annotated[str, typer.Option(help="What agents see.")],
    origin: Annotated[
        list[str],
        typer.Option(help="An exact origin the app is served from; repeat for each."),
    ],
    entry_url: Annotated[str, typer.Option(help="The page the proxy frame loads.")],
    endpoint: Annotated[
        list[str],
        typer.Option(
            help="What the app may call, as 'METHOD /path/{name} scope'; repeat for each."
        ),
    ],
    rate_limit: Annotated[
        int, typer.Option(help="Requests a minute for each agent running the app.")
    ] = 120,
) -> None:
    """Register an app and print its key, once."""
    key = secrets.token_urlsafe(KEY_BYTES)

    def register(desk: Desk) -> AppView:
        command = RegisterApp(
            tenant,
            app=app,
            name=name,
            origins=tuple(origin),
            entry_url=entry_url,
            endpoints=tuple(endpoint_named(text) for text in endpoint),
            rate_limit=rate_limit,
            at=now(),
        )
        return desk.register_app(command, key)

    show_keyed(context, KeyedApp(key, run(context, register)))


def _status_command(
    name: str, change: Callable[[Desk, AppCommand], AppView], summary: str
) -> None:
    def command(context: typer.Context, app: AppId, tenant: TenantOption) -> None:
        changing = AppCommand(tenant, app=app, at=now())
        show_app(context, run(context, lambda desk: change(desk, changing)))

    command.__doc__ = summary
    client_app_cli.command(name)(command)


_status_command("publish", Desk.publish_app, "Let the agents it is installed for run it.")
_status_command(
    "suspend", Desk.suspend_app, "Stop it at once in every console, until reinstated."
)
_status_command("reinstate", Desk.reinstate_app, "Let a suspended app run again.")
_status_command("revoke", Desk.revoke_app, "Stop it for good.")


@client_app_cli.command("rotate-key")
def app_rotate_key(context: typer.Context, app: AppId, tenant: TenantOption) -> None:
    """A new key, printed once; the old one and every session it opened stop at once."""
    key = secrets.token_urlsafe(KEY_BYTES)
    view = run(
        context,
        lambda desk: desk.rotate_app_key(AppCommand(tenant, app=app, at=now()), key),
    )
    show_keyed(context, KeyedApp(key, view))


def _parameters(texts: list[str]) -> dict[str, str]:
    parameters = {}
    for text in texts:
        name, equals, value = text.partition("=")
        if not equals:
            fail(EXIT_BAD_INPUT, f"a parameter is NAME=VALUE, not {text!r}")
        parameters[name] = value
    return parameters


def _scopes(texts: list[str]) -> tuple[Scope, ...]:
    try:
        return tuple(Scope(text) for text in texts)
    except ValueError:
        known = ", ".join(scope.value for scope in Scope)
        raise InvalidValue(f"a scope is one of {known}") from None


@client_app_cli.command("install")
def app_install(
    context: typer.Context,
    app: AppId,
    tenant: TenantOption,
    agent: Annotated[str, typer.Option(help="The agent it runs for, like a-17.")],
    parameter: Annotated[
        list[str] | None,
        typer.Option(help="NAME=VALUE the app is given; repeat for each."),
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(help="A scope granted to it for this agent; repeat for each."),
    ] = None,
) -> None:
    """Install it for an agent, with parameters and the scopes granted there."""

    def install(desk: Desk) -> AppView:
        command = InstallApp(
            tenant,
            app=app,
            agent=agent,
            parameters=_parameters(parameter or []),
            scopes=_scopes(scope or []),
            at=now(),
        )
        return desk.install_app(command)

    show_app(context, run(context, install))


@client_app_cli.command("uninstall")
def app_uninstall(
    context: typer.Context,
    app: AppId,
    tenant: TenantOption,
    agent: Annotated[str, typer.Option(help="The agent it no longer runs for.")],
) -> None:
    """Uninstall it for an agent; their console closes it at once."""
    command = UninstallApp(tenant, app=app, agent=agent, at=now())
    show_app(context, run(context, lambda desk: desk.uninstall_app(command)))


@client_app_cli.command("list")
def app_list(context: typer.Context, tenant: TenantOption) -> None:
    """Every app registered in the tenant."""
    views = run(context, lambda desk: desk.apps(tenant))

    def human() -> None:
        if not views:
            out.print(f"no apps in {tenant}")
        for view in views:
            out.print(describe(view), soft_wrap=True)

    show(context, views, human)


@client_app_cli.command("refusals")
def app_refusals(
    context: typer.Context,
    tenant: TenantOption,
    after: Annotated[int, typer.Option(min=0, help="Start after this position.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=MAX_REFUSALS_PAGE)] = 100,
) -> None:
    """What the proxy frame or the server refused of the tenant's apps, oldest first."""
    page: RefusalsPage = run(context, lambda desk: desk.app_refusals(tenant, after, limit))

    def human() -> None:
        if not page.refusals:
            out.print(f"no refusals in {tenant} after {after}")
        for refusal in page.refusals:
            repeats = f" (and {refusal.repeats} alike before)" if refusal.repeats else ""
            out.print(
                f"{refusal.position}  {refusal.at:%Y-%m-%d %H:%M:%S}  "
                f"{refusal.where.value}: {refusal.reason.value}  app "
                f"{refusal.app or '?'} from {refusal.origin or '?'} for "
                f"{refusal.agent or '?'}  {refusal.detail}{repeats}",
                soft_wrap=True,
                markup=False,
            )

    show(context, page, human)

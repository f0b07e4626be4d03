"""What every `calldesk` command shares: the store session, exit codes, output.

Exit codes: 0 done, 1 refused by a rule (the state does not allow it, it already
exists), 2 bad input (a value breaks its rule, a wrong option), 3 not found (unknown
tenant, agent or reason code; another tenant's things look the same), 4 the event store
cannot be opened (not reached, refused, or no database calldesk can write; ADR/0018).
Under --json, given before or after the command's name, results are JSON on stdout and
an error is one JSON object on stderr, under the same exit code (ADR/0018).
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, NoReturn, TypeVar

import attrs
import typer
from rich.console import Console

from calldesk.apps.conversion import converter
from calldesk.apps.desk import Desk
from calldesk.apps.presence import AgentView
from calldesk.apps.settings import DATABASE_URL_VARIABLE
from calldesk.apps.store import StoreUnavailable
from calldesk.apps.tenancy import TenantView
from calldesk.domain.errors import DomainError, InvalidValue, NotFound
from calldesk.ports.directory import RecordDirectory

EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_FOUND = 3
EXIT_STORE_UNAVAILABLE = 4

#: What a JSON error calls each exit code, for scripts that read the object.
ERROR_KINDS = {
    EXIT_REFUSED: "refused",
    EXIT_BAD_INPUT: "bad-input",
    EXIT_NOT_FOUND: "not-found",
    EXIT_STORE_UNAVAILABLE: "store-unavailable",
}

T = TypeVar("T")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@attrs.frozen
class Settings:
    """What the top-level options decided, handed to every command."""

    database_url: str


TenantOption = Annotated[
    str,
    typer.Option(
        "--tenant", "-t", envvar="CALLDESK_TENANT", help="The tenant the agent is in."
    ),
]
Handle = Annotated[str, typer.Argument(help="The agent's handle, like a-17.")]


def now() -> datetime:
    """The edge reads the clock; the core only receives the time in commands."""
    return datetime.now(UTC)


class CommandFailed(Exception):
    """Ends a command under an exit code; the root command says why (calldesk.adapters.
    cli.main), as a line or, under --json, as a JSON object."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def fail(code: int, message: str) -> NoReturn:
    raise CommandFailed(code, message)


def say_error(code: int, message: str, *, as_json: bool) -> None:
    """One line on stderr: `error: ...`, or one JSON object a script can read."""
    if as_json:
        error = {"code": code, "kind": ERROR_KINDS[code], "message": message}
        typer.echo(json.dumps({"error": error}), err=True)
    else:
        err.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)


#: Where a command's context keeps whether --json was given, before or after its name.
AS_JSON = "calldesk.as_json"


def json_chosen(context: typer.Context, _: typer.CallbackParam, as_json: bool) -> None:
    """The --json option's callback, on the root and on every command."""
    if as_json:
        context.meta[AS_JSON] = True


def wants_json(context: typer.Context) -> bool:
    return bool(context.meta.get(AS_JSON))


@contextmanager
def desk_session(
    context: typer.Context, directory: RecordDirectory | None = None
) -> Iterator[Desk]:
    """The application on the configured store, with refusals turned into exit codes."""
    settings: Settings = context.obj
    try:
        desk = Desk.at(settings.database_url, directory)
    except InvalidValue as error:
        fail(EXIT_BAD_INPUT, str(error))
    except StoreUnavailable as error:
        fail(
            EXIT_STORE_UNAVAILABLE,
            f"{error}; check --database-url or {DATABASE_URL_VARIABLE}",
        )
    try:
        yield desk
    except InvalidValue as error:
        fail(EXIT_BAD_INPUT, str(error))
    except NotFound as error:
        fail(EXIT_NOT_FOUND, str(error))
    except DomainError as error:
        fail(EXIT_REFUSED, str(error))
    finally:
        desk.close()


def run(context: typer.Context, action: Callable[[Desk], T]) -> T:
    with desk_session(context) as desk:
        return action(desk)


def show(context: typer.Context, result: object, human: Callable[[], None]) -> None:
    if wants_json(context):
        out.print_json(json.dumps(converter.unstructure(result)))
    else:
        human()


def describe(view: AgentView) -> str:
    state = view.state.value.replace("-", " ")
    if view.not_ready_reason is not None and view.state.value == "not-ready":
        state += f" ({view.not_ready_reason.label})"
    waiting = ""
    if view.next_pick is not None:
        waiting = f"; then {view.next_pick.presence.value.replace('-', ' ')}"
    since = view.since.strftime("%Y-%m-%d %H:%M:%S %Z")
    return f"{view.agent} ({view.name}) is {state} since {since}{waiting}"


def show_agent(context: typer.Context, view: AgentView) -> None:
    show(context, view, lambda: out.print(describe(view)))


def show_tenant(context: typer.Context, view: TenantView) -> None:
    def human() -> None:
        out.print(f"{view.tenant} ({view.name})")
        for reason in view.not_ready_reasons:
            out.print(f"  not ready: {reason.code} = {reason.label}")
        policy = view.wrap_up_policy
        limit = policy.limit_seconds
        ends = "by disposition" if limit is None else f"after {limit} s"
        then = "available" if policy.auto_ready else "not ready"
        out.print(
            f"  wrap-up: ends {ends}, then {then}; numbers read in {view.default_region}"
        )

    show(context, view, human)


def agent_command(context: typer.Context, action: Callable[[Desk], AgentView]) -> None:
    show_agent(context, run(context, action))


def tenant_command(context: typer.Context, action: Callable[[Desk], TenantView]) -> None:
    show_tenant(context, run(context, action))

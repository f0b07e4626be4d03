"""The root of the `calldesk` command: global options and every sub-command."""

import copy
from collections.abc import Iterator
from importlib.metadata import version
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

from calldesk.adapters.cli.client_apps import client_app_cli
from calldesk.adapters.cli.console import (
    EXIT_BAD_INPUT,
    CommandFailed,
    Settings,
    json_chosen,
    out,
    say_error,
    wants_json,
)
from calldesk.adapters.cli.demo import demo
from calldesk.adapters.cli.directory import directory_app
from calldesk.adapters.cli.presence import agent_app, tenant_app
from calldesk.adapters.cli.records import record_app, schema_app
from calldesk.adapters.cli.replica import replica_app
from calldesk.adapters.cli.serve import serve
from calldesk.adapters.cli.tokens import token_app
from calldesk.apps.settings import DATABASE_URL_VARIABLE, DEFAULT_DATABASE_URL


class RootCommand(TyperGroup):
    """`calldesk` itself: it says why a command failed, as a line or under --json as a
    JSON object, and every command under it takes --json after its name too."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        (as_json,) = (
            param
            for param in self.params
            if isinstance(param, TyperOption) and param.name == "as_json"
        )
        for command in commands_under(self):
            command.params.append(json_after_the_name(as_json))

    # typer hands its own Context to these; the class it derives from is not public.
    def parse_args(self, context: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        # A command's usage error comes before its own --json is parsed.
        options = args[: args.index("--")] if "--" in args else args
        context.meta[JSON_IN_ARGS] = "--json" in options
        return super().parse_args(context, args)

    def invoke(self, context: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(context)
        except CommandFailed as failure:
            say_error(failure.code, failure.message, as_json=wants_json(context))
            raise typer.Exit(failure.code) from None
        except typer.TyperException as error:
            # typer's usage errors (exit code 2) are bad input, as JSON when asked.
            if error.exit_code != EXIT_BAD_INPUT or not (
                wants_json(context) or context.meta[JSON_IN_ARGS]
            ):
                raise
            say_error(EXIT_BAD_INPUT, error.format_message(), as_json=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None


JSON_IN_ARGS = "calldesk.json_in_args"


def json_after_the_name(as_json: TyperOption) -> TyperOption:
    """The root's --json, for a command to take after its name: the same choice."""
    option = copy.copy(as_json)  # its callback too, which records the choice
    option.expose_value = False
    return option


def commands_under(group: TyperGroup) -> Iterator[TyperCommand]:
    """Every command a group holds, in its sub-groups too; not the groups themselves."""
    for command in group.commands.values():
        if isinstance(command, TyperGroup):
            yield from commands_under(command)
        elif isinstance(command, TyperCommand):
            yield command


app = typer.Typer(
    cls=RootCommand,
    name="calldesk",
    help="An event-sourced core for customer-service desks with built-in telephony.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(tenant_app, name="tenant")
app.add_typer(agent_app, name="agent")
app.command("demo")(demo)
app.command("serve")(serve)
app.add_typer(directory_app, name="directory")
app.add_typer(token_app, name="token")
app.add_typer(client_app_cli, name="app")
app.add_typer(record_app, name="record")
app.add_typer(schema_app, name="schema")
app.add_typer(replica_app, name="replica")


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
        bool,
        typer.Option(
            "--json",
            callback=json_chosen,
            help="Print results, and errors, as JSON, for scripts; also after a "
            "command's name.",
        ),
    ] = False,
    _: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    context.obj = Settings(database_url)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""The root of the `calldesk` command: global options and every sub-command."""

from importlib.metadata import version
from typing import Annotated

import typer

from calldesk.adapters.cli.console import Settings, out
from calldesk.adapters.cli.demo import demo
from calldesk.adapters.cli.directory import directory_app
from calldesk.adapters.cli.presence import agent_app, tenant_app
from calldesk.adapters.cli.serve import serve
from calldesk.adapters.cli.tokens import token_app
from calldesk.apps.settings import DATABASE_URL_VARIABLE, DEFAULT_DATABASE_URL

app = typer.Typer(
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()

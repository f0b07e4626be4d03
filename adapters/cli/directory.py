"""`calldesk directory`: fill calldesk's own record directory and ask it who is calling."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import attrs
import typer
from rich.progress import MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from calldesk.adapters.cli.console import (
    EXIT_BAD_INPUT,
    EXIT_NOT_FOUND,
    err,
    fail,
    out,
    run,
    show,
)
from calldesk.adapters.directory.csv_import import import_csv
from calldesk.adapters.directory.seeding import seed_directory
from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.apps.desk import Desk
from calldesk.apps.phone_numbers import checked_region
from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import checked_slug
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordRef
from calldesk.ports.directory_records import RecordCounts

DIRECTORY_PATH_VARIABLE = "CALLDESK_DIRECTORY_PATH"
DEFAULT_DIRECTORY_PATH = Path("calldesk-directory.db")

directory_app = typer.Typer(
    help="Fill the record directory and find whom a number reaches."
)

#: The record directory's file, by one name in every command that reads it.
DirectoryPath = Annotated[
    Path,
    typer.Option(
        "--directory",
        envvar=DIRECTORY_PATH_VARIABLE,
        dir_okay=False,
        help="The record directory's SQLite file, created on first use.",
    ),
]
DirectoryTenant = Annotated[
    str,
    typer.Option(
        "--tenant", "-t", envvar="CALLDESK_TENANT", help="The tenant the records belong to."
    ),
]
Region = Annotated[
    str,
    typer.Option(help="Where national numbers are dialled from: an ISO 3166 code like GB."),
]


@attrs.frozen
class Lookup:
    """What a screen pop would show: the caller's number as the core keeps it, and whom
    it reaches."""

    number: PhoneNumber
    records: tuple[RecordRef, ...]


@contextmanager
def bad_input_refused() -> Iterator[None]:
    """A value that breaks its rule ends the command: `error: ...` and exit code 2."""
    try:
        yield
    except InvalidValue as error:
        fail(EXIT_BAD_INPUT, str(error))


@contextmanager
def directory_session(path: Path) -> Iterator[SQLiteRecordDirectory]:
    """The directory in `path`, created on first use, closed when the command ends."""
    try:
        directory = SQLiteRecordDirectory(path)
    except sqlite3.Error as error:
        fail(EXIT_BAD_INPUT, f"cannot open the directory {path}: {error}")
    try:
        with bad_input_refused():
            yield directory
    finally:
        directory.close()


def checked_destination(tenant: str, region: str) -> str:
    """Refuses a bad tenant or region before any file is created or progress shown."""
    with bad_input_refused():
        checked_slug(tenant, "a tenant")
        return checked_region(region)


def seed_with_progress(
    directory: SQLiteRecordDirectory, tenant: str, *, contacts: int, region: str, seed: int
) -> RecordCounts:
    """Seeds with a progress bar on stderr, so stdout keeps only the result."""
    columns = (
        *Progress.get_default_columns()[:2],
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("Writing contacts", total=contacts)
        return seed_directory(
            directory,
            tenant,
            contacts=contacts,
            region=region,
            seed=seed,
            on_written=lambda written: progress.advance(task, written.contacts),
        )


def show_written(context: typer.Context, written: RecordCounts, where: str) -> None:
    summary = (
        f"{where}: {written.contacts} contacts, {written.accounts} accounts, "
        f"{written.leads} leads, {written.cases} cases."
    )
    show(context, written, lambda: out.print(summary, soft_wrap=True))


@directory_app.command("seed")
def directory_seed(
    context: typer.Context,
    tenant: DirectoryTenant,
    contacts: Annotated[int, typer.Option(min=1, help="How many contacts to make.")],
    region: Region = "US",
    seed: Annotated[int, typer.Option(help="The same seed makes the same records.")] = 1,
    directory_path: DirectoryPath = DEFAULT_DIRECTORY_PATH,
) -> None:
    """Fill the directory with realistic contacts, accounts, leads and cases."""
    region = checked_destination(tenant, region)
    with directory_session(directory_path) as directory:
        written = seed_with_progress(
            directory, tenant, contacts=contacts, region=region, seed=seed
        )
    show_written(context, written, f"Seeded {tenant} in {directory_path}")


@directory_app.command("import")
def directory_import(
    context: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="A CSV export; docs/directory.md has its columns.",
        ),
    ],
    tenant: DirectoryTenant,
    region: Region = "US",
    directory_path: DirectoryPath = DEFAULT_DIRECTORY_PATH,
) -> None:
    """Load a CRM export: every row, or nothing if any row is bad."""
    region = checked_destination(tenant, region)
    with directory_session(directory_path) as directory:
        written = import_csv(directory, file, tenant, region)
    show_written(context, written, f"Imported into {tenant} in {directory_path}")


@directory_app.command("lookup")
def directory_lookup(
    context: typer.Context,
    number: Annotated[str, typer.Argument(help="The caller's number, written any way.")],
    tenant: DirectoryTenant,
    directory_path: DirectoryPath = DEFAULT_DIRECTORY_PATH,
) -> None:
    """Show the records a number reaches, best first, as a screen pop would: a number
    in national form is read in the tenant's region (`calldesk tenant region`)."""

    def look_up(desk: Desk) -> Lookup:
        caller = desk.caller_number(tenant, number)
        if not directory_path.exists():
            fail(
                EXIT_NOT_FOUND,
                f"no directory at {directory_path}; fill it with seed or import first",
            )
        with directory_session(directory_path) as directory:
            return Lookup(caller, directory.find_by_number(tenant, caller))

    found = run(context, look_up)
    show(context, found, lambda: out.print(lookup_table(found)))


def lookup_table(found: Lookup) -> Table:
    table = Table(
        "kind",
        "id",
        "title",
        title=f"{found.number} reaches {len(found.records) or 'no'} record(s)",
    )
    for record in found.records:
        table.add_row(record.kind.value, record.record_id, record.title)
    return table

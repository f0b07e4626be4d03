"""`calldesk directory`: fill the tenant's records, keep calldesk's own directory in
step with them, and ask it who is calling."""

import sqlite3
from collections.abc import Callable, Iterator
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
    desk_session,
    err,
    fail,
    now,
    out,
    run,
    show,
)
from calldesk.adapters.directory.csv_import import import_csv
from calldesk.adapters.directory.record_import import ImportTotals
from calldesk.adapters.directory.seeding import seed_records
from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.apps.desk import Desk
from calldesk.apps.phone_numbers import checked_region
from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import checked_slug
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordKind, RecordRef

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


@contextmanager
def projected_desk(context: typer.Context, path: Path) -> Iterator[Desk]:
    """The desk on the configured store, with the directory in `path` following its
    records (ADR/0023)."""
    with directory_session(path) as directory, desk_session(context, directory) as desk:
        yield desk


@contextmanager
def progress_of(what: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr, so stdout keeps only the result; yields what
    advances it."""
    columns = (
        *Progress.get_default_columns()[:2],
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as progress:
        task = progress.add_task(what, total=total)
        yield lambda done: progress.advance(task, done)


def seed_with_progress(
    desk: Desk, tenant: str, *, contacts: int, region: str, seed: int
) -> ImportTotals:
    """Seeds with a progress bar of the contacts recorded."""
    with progress_of("Recording contacts", contacts) as advance:
        return seed_records(
            desk,
            tenant,
            contacts=contacts,
            at=now,
            region=region,
            seed=seed,
            on_imported=lambda kind, rows: (
                advance(rows) if kind is RecordKind.CONTACT else None
            ),
        )


#: The refused rows a person is shown; --json lists every one.
REFUSALS_SHOWN = 50


def show_imported(context: typer.Context, totals: ImportTotals, where: str) -> None:
    """What was recorded, then every row refused (line, field, reason); exit code 2
    when any was, so a script knows the file needs fixing."""
    created = totals.created

    def human() -> None:
        out.print(
            f"{where}: {created.contacts} contacts, {created.accounts} accounts, "
            f"{created.leads} leads, {created.cases} cases; "
            f"{totals.already_there} already there; "
            f"{len({r.row for r in totals.refused})} row(s) refused.",
            soft_wrap=True,
        )
        if totals.refused:
            table = Table("row", "field", "reason", title="Refused")
            for refusal in totals.refused[:REFUSALS_SHOWN]:
                table.add_row(str(refusal.row), refusal.field, refusal.reason)
            out.print(table)
            if len(totals.refused) > REFUSALS_SHOWN:
                more = len(totals.refused) - REFUSALS_SHOWN
                out.print(f"... and {more} more; --json lists them all.")

    show(context, totals, human)
    if totals.refused:
        fail(
            EXIT_BAD_INPUT,
            f"{len({r.row for r in totals.refused})} row(s) refused, the others "
            "recorded; fix those rows and import the file again",
        )


@directory_app.command("seed")
def directory_seed(
    context: typer.Context,
    tenant: DirectoryTenant,
    contacts: Annotated[int, typer.Option(min=1, help="How many contacts to make.")],
    region: Region = "US",
    seed: Annotated[int, typer.Option(help="The same seed makes the same records.")] = 1,
    directory_path: DirectoryPath = DEFAULT_DIRECTORY_PATH,
) -> None:
    """Record realistic contacts, accounts, leads and cases in the tenant; the
    directory follows them."""
    region = checked_destination(tenant, region)
    with projected_desk(context, directory_path) as desk:
        totals = seed_with_progress(
            desk, tenant, contacts=contacts, region=region, seed=seed
        )
    show_imported(context, totals, f"Seeded {tenant} in {directory_path}")


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
    region: Annotated[
        str | None,
        typer.Option(
            help="Where the file's national numbers are dialled from (an ISO 3166 code "
            "like GB); the tenant's region when not given."
        ),
    ] = None,
    directory_path: DirectoryPath = DEFAULT_DIRECTORY_PATH,
) -> None:
    """Record a CRM export's rows in the tenant, each checked as a create is; the rows
    refused are listed with their line, field and reason."""
    if region is not None:
        region = checked_destination(tenant, region)
    with (
        projected_desk(context, directory_path) as desk,
        progress_of("Recording rows", None) as advance,
    ):
        totals = import_csv(
            desk,
            file,
            tenant,
            at=now,
            region=region,
            on_imported=lambda _, rows: advance(rows),
        )
    show_imported(context, totals, f"Imported into {tenant} in {directory_path}")


@directory_app.command("rebuild")
def directory_rebuild(
    context: typer.Context,
    tenant: DirectoryTenant,
    directory_path: DirectoryPath = DEFAULT_DIRECTORY_PATH,
) -> None:
    """Make the tenant's part of the directory again from the records in the log."""
    with (
        projected_desk(context, directory_path) as desk,
        progress_of("Projecting records", None) as advance,
    ):
        projected = desk.rebuild_directory(tenant, advance)
    show(
        context,
        {"tenant": tenant, "projected": projected},
        lambda: out.print(f"Rebuilt {tenant} in {directory_path}: {projected} entries."),
    )


@directory_app.command("lookup")
def directory_lookup(
    context: typer.Context,
    number: Annotated[str, typer.Argument(help="The caller's number, written any way.")],
    tenant: DirectoryTenant,
    directory_path: DirectoryPath = DEFAULT_DIRECTORY_PATH,
) -> None:
    """Show the records a number reaches, best first, as a screen pop would: a number
    in national form is read in the tenant's region (`calldesk tenant region`)."""

    caller = run(context, lambda desk: desk.caller_number(tenant, number))
    if not directory_path.exists():
        fail(
            EXIT_NOT_FOUND,
            f"no directory at {directory_path}; fill it with seed or import first",
        )
    with projected_desk(context, directory_path) as desk:
        found = Lookup(caller, desk.directory.find_by_number(tenant, caller))
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

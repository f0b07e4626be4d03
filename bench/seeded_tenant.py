"""A tenant filled with seeded records through the product's own import, with its
screen-pop directory following them: what the directory benchmarks measure on."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import attrs
from rich.progress import MofNCompleteColumn, Progress, TimeElapsedColumn

from calldesk.adapters.directory.record_import import ImportTotals
from calldesk.adapters.directory.seeding import seed_records
from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.apps.desk import Desk
from calldesk.apps.tenancy import CreateTenant
from calldesk.domain.records import RecordKind

TENANT = "acme"


@attrs.frozen
class SeededTenant:
    desk: Desk
    directory: SQLiteRecordDirectory
    directory_path: Path
    totals: ImportTotals
    seconds: float


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def seeded_tenant(folder: Path, contacts: int) -> Iterator[SeededTenant]:
    """`contacts` contacts (and their accounts, leads and cases) recorded in a SQLite
    store in `folder`, with a progress bar; the desk stays open for the block."""
    path = folder / "directory.db"
    columns = (
        *Progress.get_default_columns()[:2],
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with (
        SQLiteRecordDirectory(path) as directory,
        Desk.at(f"sqlite:///{folder}/events.db", directory) as desk,
        Progress(*columns, transient=True) as progress,
    ):
        desk.create_tenant(CreateTenant(TENANT, name="Acme", at=now()))
        task = progress.add_task("Recording contacts", total=contacts)
        started = time.perf_counter()
        totals = seed_records(
            desk,
            TENANT,
            contacts=contacts,
            at=now,
            on_imported=lambda kind, rows: (
                progress.advance(task, rows) if kind is RecordKind.CONTACT else None
            ),
        )
        seconds = time.perf_counter() - started
        progress.stop()
        yield SeededTenant(desk, directory, path, totals, seconds)

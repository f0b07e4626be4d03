"""How fast a CRM's records import: seeded contacts, with their accounts, leads and
cases, recorded through the product's own import against sqlite-utils inserting the
same rows raw.

The rows are made first (1,000,000 contacts by default), outside both timings. Then,
into fresh SQLite files in a temporary folder:

- calldesk: calldesk.adapters.directory.record_import.import_rows, as `calldesk
  directory seed` and `directory import` run it: every row checked against its kind's
  schema (phone numbers parsed in the tenant's region, references looked up), one
  Created event per record with its change-feed entry and recorded-at row, in batches
  of 2,000, the screen-pop directory following each batch;
- baseline: sqlite-utils `insert_all` of the same rows, one table per kind, its values
  as columns, in the same batches: the floor any importer writing SQLite stands on.

Target (issue 14): calldesk at least 0.3 of the baseline's rate. Results go in
docs/benchmarks.md.

    .venv/bin/python bench/record_import.py [--contacts N]
"""

import argparse
import os
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from seeded_tenant import TENANT, now
from sqlite_utils import Database

from calldesk.adapters.directory.record_import import (
    REFERENCES_FIRST,
    ROWS_PER_BATCH,
    RowsByKind,
    import_rows,
)
from calldesk.adapters.directory.seeding import SEEDER, seeded_rows
from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.apps.desk import Desk
from calldesk.apps.tenancy import CreateTenant

TARGET_SHARE = 0.3

console = Console(highlight=False, width=100)


def calldesk_import(folder: Path, batches: list[RowsByKind]) -> float:
    """Seconds to record every row through the product's import."""
    with (
        SQLiteRecordDirectory(folder / "directory.db") as directory,
        Desk.at(f"sqlite:///{folder}/events.db", directory) as desk,
    ):
        desk.create_tenant(CreateTenant(TENANT, name="Acme", at=now()))
        started = time.perf_counter()
        totals = import_rows(desk, TENANT, batches, operation_id="bench", by=SEEDER, at=now)
        seconds = time.perf_counter() - started
    assert not totals.refused, totals.refused[:3]
    return seconds


def raw_insert(folder: Path, batches: list[RowsByKind]) -> float:
    """Seconds for sqlite-utils to insert the same rows, one table per kind."""
    database = Database(folder / "raw.db")
    database.enable_wal()
    started = time.perf_counter()
    for rows_by_kind in batches:
        for kind in REFERENCES_FIRST:
            rows = rows_by_kind.get(kind, ())
            database[kind.value].insert_all(  # type: ignore[union-attr]
                ({"id": row.record_id, **row.values} for row in rows),
                pk="id",
                batch_size=ROWS_PER_BATCH,
                alter=True,
            )
    seconds = time.perf_counter() - started
    database.close()
    return seconds


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--contacts", type=int, default=1_000_000)
    arguments = options.parse_args()
    console.print(
        f"{platform.python_implementation()} {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {os.cpu_count()} cores, {platform.machine()}; "
        f"load average {', '.join(f'{n:.2f}' for n in os.getloadavg())}"
    )
    batches = list(seeded_rows(arguments.contacts))
    rows = sum(len(part) for batch in batches for part in batch.values())
    with tempfile.TemporaryDirectory() as folder:
        ours = calldesk_import(Path(folder), batches)
        baseline = raw_insert(Path(folder), batches)
    table = Table(
        "import",
        "seconds",
        "rows/s",
        "share of baseline",
        title=f"{arguments.contacts:,} contacts: {rows:,} rows of four kinds",
    )
    table.add_row(
        "calldesk import_rows",
        f"{ours:.1f}",
        f"{rows / ours:,.0f}",
        f"{baseline / ours:.3f}",
    )
    table.add_row(
        "baseline: sqlite-utils insert_all",
        f"{baseline:.1f}",
        f"{rows / baseline:,.0f}",
        "1",
    )
    console.print(table)
    share = baseline / ours
    console.print(
        f"Target at least {TARGET_SHARE} of the baseline's rate: "
        f"{'met' if share >= TARGET_SHARE else 'NOT met'} ({share:.3f})."
    )


if __name__ == "__main__":
    main()

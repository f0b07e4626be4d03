"""How fast a device's first download of a tenant's records runs through the change feed,
and what an incremental page costs as the tenant grows, each against raw SELECTs of
the same rows of the same table (ADR/0021, issue 14).

For each size, a tenant is filled in a fresh SQLite file through the product's own
write path (Records.import_records, a batch a transaction) with contacts that have a
name and a phone number. Then:

- the first download: Desk.record_changes from cursor 0, pages of the largest size,
  until `more` is false; against the same pages, and one SELECT of every row, read
  from calldesk_record_feed with sqlite3 and its (tenant, position) index; and, to
  show what decoding costs, that SELECT with each row's JSON state decoded;
- incremental pages: 100 records changed (not timed), then the page of 100 after the
  cursor, timed through the desk and as a raw SELECT of the same rows; repeated.

Results go in docs/benchmarks.md.

    .venv/bin/python bench/record_feed.py [--records N,N] [--pages N] [--batch N]
"""

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta

import attrs
from rich.console import Console
from rich.progress import track
from rich.table import Table
from stores import fresh_stores

from calldesk.apps.change_feed import MAX_PAGE
from calldesk.apps.desk import Desk
from calldesk.apps.records import ChangeRecord, ImportRecords, ImportRow
from calldesk.apps.tenancy import CreateTenant
from calldesk.domain.crm_records import Author
from calldesk.domain.records import RecordKind

TENANT = "bench"
PAGE = 100
IMPORT = Author("import", "bench")
AGENT = Author("agent", "a-1")
START = datetime(2026, 12, 4, 9, tzinfo=UTC)
FIRST_NAMES = ("Ada", "Grace", "Alan", "Mary", "Edsger", "Barbara", "Donald", "Frances")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Somerville", "Dijkstra", "Liskov")
FEED_PAGE = (
    "SELECT position, item, key, version, deleted, state FROM calldesk_record_feed "
    "WHERE tenant=? AND position>? ORDER BY position LIMIT ?"
)
FEED_ALL = (
    "SELECT position, item, key, version, deleted, state FROM calldesk_record_feed "
    "WHERE tenant=? AND position>? ORDER BY position"
)

MINUTE = timedelta(minutes=1)
DESK_DOWNLOAD = "Desk.record_changes"
RAW_PAGES = "baseline: the same pages, raw SELECTs"
RAW_SELECT = "baseline: one raw SELECT of every row"
RAW_DECODED = "one raw SELECT, each state json.loads'd"
DESK_PAGE = "Desk.record_changes"
RAW_PAGE = "baseline: raw SELECT of the same page"

console = Console(highlight=False, width=120)


@attrs.frozen
class Size:
    """What one tenant size measured: seconds of each way of reading, per repeat or
    per incremental page."""

    records: int
    fill_seconds: float
    file_mib: float
    downloads: dict[str, list[float]]
    pages: dict[str, list[float]]


def record_id(n: int) -> str:
    return f"003-{n:09d}"


def contact(n: int) -> dict[str, str]:
    """A contact with a name and a US number, already in E.164."""
    return {
        "first_name": FIRST_NAMES[n % len(FIRST_NAMES)],
        "last_name": f"{LAST_NAMES[n % len(LAST_NAMES)]} {n}",
        "phone": f"+1650{2_000_000 + n % 8_000_000:07d}",
    }


def filled(desk: Desk, records: int, batch: int) -> float:
    """Seconds to import `records` contacts, `batch` rows a transaction."""
    desk.create_tenant(CreateTenant(TENANT, name="Bench", at=START))
    began = time.perf_counter()
    for first in track(
        range(0, records, batch), description=f"importing {records:,}", console=console
    ):
        rows = [
            ImportRow(n, contact(n), record_id(n))
            for n in range(first, min(first + batch, records))
        ]
        summary = desk.import_records(
            ImportRecords(
                TENANT,
                kind=RecordKind.CONTACT,
                rows=rows,
                operation_id=f"bench-{first}",
                by=IMPORT,
                at=START,
            )
        )
        assert summary.created == len(rows), summary.refused[:3]
    return time.perf_counter() - began


def downloaded(desk: Desk) -> tuple[int, int]:
    """A first download through the desk: (changes read, its last cursor)."""
    cursor, read, more = 0, 0, True
    while more:
        page = desk.record_changes(TENANT, after=cursor, limit=MAX_PAGE)
        cursor, read, more = page.cursor, read + len(page.changes), page.more
    return read, cursor


def raw_pages(db: sqlite3.Connection) -> tuple[int, int]:
    """The same pages as rows, by position after the cursor, calldesk bypassed."""
    cursor, read, more = 0, 0, True
    while more:
        rows = db.execute(FEED_PAGE, (TENANT, cursor, MAX_PAGE + 1)).fetchall()
        page = rows[:MAX_PAGE]
        cursor, read, more = page[-1][0], read + len(page), len(rows) > MAX_PAGE
    return read, cursor


def raw_select(db: sqlite3.Connection) -> tuple[int, int]:
    """Every row of the tenant's feed in one SELECT."""
    rows = db.execute(FEED_ALL, (TENANT, 0)).fetchall()
    return len(rows), rows[-1][0]


def raw_select_decoded(db: sqlite3.Connection) -> tuple[int, int]:
    """One SELECT, each state decoded from JSON: the least a server that hands out
    values as objects does."""
    rows = db.execute(FEED_ALL, (TENANT, 0)).fetchall()
    states = [json.loads(row[5]) for row in rows]
    return len(states), rows[-1][0]


def timed(read: Callable[[], tuple[int, int]]) -> tuple[float, tuple[int, int]]:
    began = time.perf_counter()
    result = read()
    return time.perf_counter() - began, result


def changed(
    desk: Desk, versions: dict[int, int], picked: Sequence[int], at: datetime
) -> None:
    """Changes each picked record's title, from the version it has (not timed)."""
    for n in picked:
        view = desk.change_record(
            ChangeRecord(
                TENANT,
                kind=RecordKind.CONTACT,
                record_id=record_id(n),
                base_version=versions[n],
                values={"title": f"Title {versions[n]}"},
                by=AGENT,
                at=at,
            )
        )
        versions[n] = view.version


def measured(url: str, records: int, batch: int, pages: int, repeats: int) -> Size:
    path = url.removeprefix("sqlite:///")
    with Desk.at(url) as desk, closing(sqlite3.connect(path)) as db:
        fill = filled(desk, records, batch)
        console.print(f"Imported {records:,} contacts in {fill:.0f} s")
        readers: dict[str, Callable[[], tuple[int, int]]] = {
            DESK_DOWNLOAD: lambda: downloaded(desk),
            RAW_PAGES: lambda: raw_pages(db),
            RAW_SELECT: lambda: raw_select(db),
            RAW_DECODED: lambda: raw_select_decoded(db),
        }
        downloads: dict[str, list[float]] = {name: [] for name in readers}
        ends = set()
        for _ in range(repeats):  # in turn, so the file's cache favours none of them
            for name, read in readers.items():
                seconds, end = timed(read)
                downloads[name].append(seconds)
                ends.add(end)
        (end,) = ends  # every reader read the same rows, to the same last position
        assert end[0] == records, end
        cursor = end[1]
        rng = random.Random(records)
        versions = dict.fromkeys(range(records), 1)
        timings: dict[str, list[float]] = {DESK_PAGE: [], RAW_PAGE: []}
        for n in track(range(pages), description="incremental pages", console=console):
            changed(desk, versions, rng.sample(range(records), PAGE), START + n * MINUTE)
            began = time.perf_counter()
            rows = db.execute(FEED_PAGE, (TENANT, cursor, PAGE + 1)).fetchall()
            timings[RAW_PAGE].append(time.perf_counter() - began)
            began = time.perf_counter()
            page = desk.record_changes(TENANT, after=cursor, limit=PAGE)
            timings[DESK_PAGE].append(time.perf_counter() - began)
            assert len(page.changes) == len(rows) == PAGE
            assert not page.more
            cursor = page.cursor
        file_mib = os.path.getsize(path) / 2**20
    return Size(records, fill, file_mib, downloads, timings)


def download_table(results: Sequence[Size], repeats: int) -> Table:
    table = Table(
        "records",
        "read",
        "s",
        "records/s",
        "desk / this",
        title=f"First download from cursor 0, pages of {MAX_PAGE}; median of {repeats}",
    )
    for size in results:
        ours = statistics.median(size.downloads[DESK_DOWNLOAD])
        for name, seconds in size.downloads.items():
            median = statistics.median(seconds)
            table.add_row(
                f"{size.records:,}",
                name,
                f"{median:.3f}",
                f"{size.records / median:,.0f}",
                "" if name == DESK_DOWNLOAD else f"{median / ours:.2f}",
            )
    return table


def page_table(results: Sequence[Size], pages: int) -> Table:
    table = Table(
        "records",
        "read",
        "p50 ms",
        "p99 ms",
        "max ms",
        "mean ms",
        title=f"{pages} incremental pages of {PAGE}, each after {PAGE} records changed",
    )
    for size in results:
        for name, seconds in size.pages.items():
            ms = [second * 1000 for second in seconds]
            percentiles = statistics.quantiles(ms, n=100, method="inclusive")
            table.add_row(
                f"{size.records:,}",
                name,
                f"{percentiles[49]:.2f}",
                f"{percentiles[98]:.2f}",
                f"{max(ms):.2f}",
                f"{statistics.mean(ms):.2f}",
            )
    return table


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="100000,1000000", help="sizes, by commas")
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--batch", type=int, default=2000, help="rows a transaction")
    parser.add_argument("--repeats", type=int, default=3, help="of each download")
    arguments = parser.parse_args(argv)
    sizes = [int(size) for size in arguments.records.split(",")]
    console.print(
        f"{platform.python_implementation()} {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {os.cpu_count()} cores, {platform.machine()}"
    )
    with fresh_stores(None, len(sizes)) as [(_, urls)]:
        results = [
            measured(url, records, arguments.batch, arguments.pages, arguments.repeats)
            for records, url in zip(sizes, urls, strict=True)
        ]
    for size in results:
        console.print(
            f"{size.records:,} contacts imported in {size.fill_seconds:.0f} s "
            f"({size.records / size.fill_seconds:,.0f} a second, "
            f"{arguments.batch:,} a transaction); file {size.file_mib:,.0f} MiB"
        )
    console.print(download_table(results, arguments.repeats))
    console.print(page_table(results, arguments.pages))
    for size in results:
        ratio = statistics.median(size.downloads[RAW_SELECT]) / statistics.median(
            size.downloads[DESK_DOWNLOAD]
        )
        p99 = statistics.quantiles(size.pages[DESK_PAGE], n=100, method="inclusive")[98]
        console.print(
            f"{size.records:,} records: first download at {ratio:.2f} of one raw "
            f"SELECT's rate, target 0.5: {'met' if ratio >= 0.5 else 'not met'}; "
            f"page of {PAGE} p99 {p99 * 1000:.2f} ms, target under 20: "
            f"{'met' if p99 < 0.020 else 'not met'}"
        )
    first, last = results[0], results[-1]
    growth = statistics.median(last.pages[DESK_PAGE]) / statistics.median(
        first.pages[DESK_PAGE]
    )
    console.print(
        f"A page of {PAGE} at {last.records:,} records: {growth:.2f} times its p50 at "
        f"{first.records:,}."
    )


if __name__ == "__main__":
    main()

"""How fast a screen pop finds its caller in a directory of a million contacts.

Records a seeded tenant (1,000,000 contacts by default, with their accounts, leads and
cases) through the product's import into a SQLite store in a temporary folder, the
directory following the records, then times lookups of random existing numbers and of
numbers nobody has, three ways on the same file: through the desk's directory (what a
ringing call asks: the tenant caught up with the log, then everything a screen pop
gets, contacts, leads, accounts, open cases, as RecordRefs), through
SQLiteRecordDirectory.find_by_number alone, and a bare indexed SELECT of contacts by desk
phone, the floor any lookup stands on. Target: p99 of a screen pop under 1 ms. Results
go in docs/benchmarks.md.

    .venv/bin/python bench/screen_pop.py [--contacts N] [--lookups N]
"""

import argparse
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path

from rich.console import Console
from rich.table import Table
from seeded_tenant import TENANT, seeded_tenant

from calldesk.domain.phone_numbers import PhoneNumber

TARGET_P99_MICROSECONDS = 1_000
#: A share of the lookups are numbers no record has: unknown callers are common.
MISS_SHARE = 0.2

console = Console(highlight=False, width=100)


def callers(path: Path, count: int, rng: random.Random) -> list[PhoneNumber]:
    """Numbers of random contacts (desk phone or mobile), mixed with numbers nobody has.

    Seeded US numbers all sit in one area code, so London numbers are sure misses.
    """
    with closing(sqlite3.connect(path)) as connection:
        (rows,) = connection.execute("SELECT max(rowid) FROM contacts").fetchone()
        numbers = []
        for _ in range(count):
            if rng.random() < MISS_SHARE:
                numbers.append(PhoneNumber(f"+44207946{rng.randrange(10**4):04d}"))
                continue
            phone, mobile = connection.execute(
                "SELECT phone, mobile FROM contacts WHERE rowid = ?",
                (rng.randint(1, rows),),
            ).fetchone()
            numbers.append(PhoneNumber(rng.choice([n for n in (phone, mobile) if n])))
    return numbers


def timed(
    lookup: Callable[[PhoneNumber], Sequence[object]], numbers: list[PhoneNumber]
) -> dict[str, float]:
    """Latency of each lookup in microseconds, and how many rows the lookups found.

    One untimed pass first: the figures are for a running desk, whose directory file is
    in the operating system's cache, not for the first calls after the file was written.
    """
    for number in numbers:
        lookup(number)
    latencies = []
    found = 0
    for number in numbers:
        started = time.perf_counter_ns()
        found += len(lookup(number))
        latencies.append((time.perf_counter_ns() - started) / 1_000)
    percentiles = statistics.quantiles(latencies, n=100)
    return {
        "p50": percentiles[49],
        "p99": percentiles[98],
        "max": max(latencies),
        "mean": statistics.fmean(latencies),
        "rows": found / len(numbers),
    }


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--contacts", type=int, default=1_000_000)
    options.add_argument("--lookups", type=int, default=20_000)
    arguments = options.parse_args()
    console.print(
        f"{platform.python_implementation()} {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {os.cpu_count()} cores, {platform.machine()}"
    )
    with (
        tempfile.TemporaryDirectory() as folder,
        seeded_tenant(Path(folder), arguments.contacts) as seeded,
    ):
        written, path = seeded.totals.created, seeded.directory_path
        console.print(
            f"Recorded {written.contacts:,} contacts, {written.accounts:,} accounts, "
            f"{written.leads:,} leads, {written.cases:,} cases in {seeded.seconds:.0f} s; "
            f"directory file {path.stat().st_size / 2**20:.0f} MiB"
        )
        numbers = callers(path, arguments.lookups, random.Random(2))
        following = seeded.desk.directory
        pop = timed(lambda number: following.find_by_number(TENANT, number), numbers)
        index = seeded.directory
        port = timed(lambda number: index.find_by_number(TENANT, number), numbers)
        with closing(sqlite3.connect(path)) as connection:
            select = "SELECT id, name FROM contacts WHERE tenant = ? AND phone = ?"
            baseline = timed(
                lambda number: connection.execute(select, (TENANT, number.e164)).fetchall(),
                numbers,
            )
    table = Table(
        "lookup",
        "p50 µs",
        "p99 µs",
        "max µs",
        "mean µs",
        "rows found",
        title=f"{len(numbers):,} lookups, {MISS_SHARE:.0%} of them unknown numbers",
    )
    for name, figures in (
        ("screen pop: desk.directory.find_by_number", pop),
        ("SQLiteRecordDirectory.find_by_number", port),
        ("baseline: SELECT by contacts.phone", baseline),
    ):
        table.add_row(
            name,
            *(f"{figures[key]:.1f}" for key in ("p50", "p99", "max", "mean")),
            f"{figures['rows']:.2f}",
        )
    console.print(table)
    met = pop["p99"] < TARGET_P99_MICROSECONDS
    console.print(
        f"Target p99 under {TARGET_P99_MICROSECONDS} µs: "
        f"{'met' if met else 'NOT met'} (p99 {pop['p99']:.1f} µs)."
    )


if __name__ == "__main__":
    main()

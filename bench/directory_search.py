"""How fast the transfer dialog's directory search answers in a directory of a million
contacts.

Records a seeded tenant (1,000,000 contacts by default, with their accounts, leads and
cases) through the product's import, the directory following it, then times
SQLiteRecordDirectory.search (at most 10 records, described) for what agents type: the
first two, three or five letters of a random contact's surname, a whole name, the last
four digits or the first six national digits of a random contact's number, and words
nobody has. Results go in docs/benchmarks.md.

    .venv/bin/python bench/directory_search.py [--contacts N] [--searches N]
"""

import argparse
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from rich.console import Console
from rich.table import Table
from seeded_tenant import TENANT, seeded_tenant

from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory

LIMIT = 10

console = Console(highlight=False, width=100)


def people(path: Path, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(name, phone or mobile) of random contacts that have a number."""
    with closing(sqlite3.connect(path)) as connection:
        (rows,) = connection.execute("SELECT max(rowid) FROM contacts").fetchone()
        found: list[tuple[str, str]] = []
        while len(found) < count:
            name, phone, mobile = connection.execute(
                "SELECT name, phone, mobile FROM contacts WHERE rowid = ?",
                (rng.randint(1, rows),),
            ).fetchone()
            if phone or mobile:
                found.append((name, phone or mobile))
    return found


def timed(
    search: Callable[[str], tuple[object, ...]], texts: list[str]
) -> dict[str, float]:
    """Latency of each search in milliseconds, after one untimed pass over the texts."""
    for text in texts:
        search(text)
    latencies, found = [], 0
    for text in texts:
        started = time.perf_counter_ns()
        found += len(search(text))
        latencies.append((time.perf_counter_ns() - started) / 1_000_000)
    percentiles = statistics.quantiles(latencies, n=100)
    return {
        "p50": percentiles[49],
        "p99": percentiles[98],
        "max": max(latencies),
        "found": found / len(texts),
    }


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--contacts", type=int, default=1_000_000)
    options.add_argument("--searches", type=int, default=500)
    arguments = options.parse_args()
    console.print(
        f"{platform.python_implementation()} {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {os.cpu_count()} cores, {platform.machine()}"
    )
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as folder:
        with seeded_tenant(Path(folder), arguments.contacts) as seeded:
            path = seeded.directory_path
            console.print(
                f"Recorded {seeded.totals.created.contacts:,} contacts in "
                f"{seeded.seconds:.0f} s; directory file "
                f"{path.stat().st_size / 2**20:.0f} MiB"
            )
        sample = people(path, arguments.searches, rng)
        surnames = [name.split()[-1] for name, _ in sample]
        kinds = {
            "2 letters of a surname": [s[:2] for s in surnames],
            "3 letters of a surname": [s[:3] for s in surnames],
            "5 letters of a surname": [s[:5] for s in surnames],
            "a whole name": [name for name, _ in sample],
            "last 4 digits": [number[-4:] for _, number in sample],
            "first 6 national digits": [number[2:8] for _, number in sample],
            "a word nobody has": [f"zq{rng.randrange(10**4)}x" for _ in sample],
        }
        with SQLiteRecordDirectory(path) as directory:
            figures = {
                kind: timed(lambda text: directory.search(TENANT, text, LIMIT), texts)
                for kind, texts in kinds.items()
            }
    table = Table(
        "search for",
        "p50 ms",
        "p99 ms",
        "max ms",
        "found",
        title=f"{arguments.searches:,} searches of each kind, at most {LIMIT} records",
    )
    for kind, row in figures.items():
        table.add_row(
            kind,
            *(f"{row[key]:.2f}" for key in ("p50", "p99", "max")),
            f"{row['found']:.1f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()

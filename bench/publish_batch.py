"""How long publishing a batch of 500 drafts takes, against inserting the same rows raw.

An agent composes 500 drafts on one record (not timed), then publishes them as one
all-or-nothing batch: the publisher and the record's feed are loaded, every draft is
checked, and both are saved in one transaction. Two baselines run in the same process:
the very rows the store was given for that save, inserted straight through the
recorder into a fresh database in one transaction; and the 500 feed items as 500 rows
of a plain table (id, batch, position, type, visibility, content), inserted in one
transaction with the database driver, as a hand-written feed table would store them.

    .venv/bin/python bench/publish_batch.py [--items N] [--batches N] [--postgres URL]

PostgreSQL runs when --postgres (or CALLDESK_TEST_DATABASE_URL) names a server; each
run uses schemas of its own, dropped afterwards.
"""

import argparse
import json
import os
import platform
import sqlite3
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

from eventsourcing.persistence import StoredEvent
from rich.console import Console
from rich.progress import track
from rich.table import Table
from stores import fresh_stores

from calldesk.apps.desk import Desk
from calldesk.apps.feeds import EditDraft, OpenDraft, PublishDrafts
from calldesk.apps.presence import RegisterAgent
from calldesk.apps.tenancy import CreateTenant
from calldesk.domain.feed_items import ItemType
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.record_feed import FeedItem
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.ports.directory import KnownRecord

TENANT, AGENT = "bench", "a-1"
TYPES = (ItemType.TEXT_POST, ItemType.INTERNAL_NOTE, ItemType.EMAIL, ItemType.CASE_COMMENT)
console = Console(highlight=False, width=120)


class EveryRecord:
    """A directory that knows every case: the benchmark measures publishing, not lookups."""

    def find_by_number(self, tenant: str, number: PhoneNumber) -> tuple[RecordRef, ...]:
        return ()

    def record(self, tenant: str, kind: RecordKind, record_id: str) -> KnownRecord:
        return KnownRecord(RecordRef(kind, record_id, record_id), "new")

    def search(self, tenant: str, text: str, limit: int) -> tuple[KnownRecord, ...]:
        return ()


def composed(desk: Desk, record_id: str, items: int, at: datetime) -> tuple[str, ...]:
    drafts = []
    on: dict[str, Any] = {"kind": RecordKind.CASE, "record_id": record_id, "at": at}
    for n in track(range(items), description=f"composing {record_id}", console=console):
        item_type = TYPES[n % len(TYPES)]
        opened = desk.open_draft(OpenDraft(TENANT, AGENT, **on, item_type=item_type))
        text = f"Draft {n}: the customer asked about invoice {n:05d} again."
        desk.edit_draft(EditDraft(TENANT, AGENT, **on, draft=opened.draft, text=text))
        drafts.append(opened.draft)
    return tuple(drafts)


def published(
    url: str, items: int, batches: int
) -> tuple[list[float], list[float], list[list[StoredEvent]], list[tuple[FeedItem, ...]]]:
    """Per batch: seconds to publish, seconds of its save, the rows saved, the items."""
    start = datetime(2026, 11, 25, 9, tzinfo=UTC)
    whole, saves, rows, feeds = [], [], [], []
    with Desk.at(url, directory=EveryRecord()) as desk:
        desk.create_tenant(CreateTenant(TENANT, name="Bench", at=start))
        desk.register_agent(RegisterAgent(TENANT, AGENT, name="Ada", at=start))
        insert = desk.store.recorder.insert_events

        def timed(
            stored_events: Sequence[StoredEvent], **kwargs: Any
        ) -> Sequence[int] | None:
            began = time.perf_counter()
            result = insert(stored_events, **kwargs)
            saves.append(time.perf_counter() - began)
            rows.append(list(stored_events))
            return result

        for n in range(batches):
            record_id = f"500-{n:04d}"
            at = start + timedelta(minutes=n)
            drafts = composed(desk, record_id, items, at)
            command = PublishDrafts(
                TENANT, AGENT, kind=RecordKind.CASE, record_id=record_id, at=at,
                key=f"batch-{n}", drafts=drafts,
            )  # fmt: skip
            desk.store.recorder.insert_events = timed  # type: ignore[method-assign]
            began = time.perf_counter()
            answer = desk.publish(command)
            whole.append(time.perf_counter() - began)
            desk.store.recorder.insert_events = insert  # type: ignore[method-assign]
            assert all(r.feed_item is not None for r in answer.outcome.results)
            feeds.append(desk.feed(TENANT, RecordKind.CASE, record_id, limit=100).items)
    return whole, saves[-batches:], rows[-batches:], feeds


def same_rows(url: str, rows: Sequence[list[StoredEvent]]) -> list[float]:
    """Seconds to insert each save's rows in one transaction, calldesk bypassed."""
    with Desk.at(url) as empty:
        timings = []
        for batch in rows:
            began = time.perf_counter()
            empty.store.recorder.insert_events(batch)
            timings.append(time.perf_counter() - began)
        return timings


def feed_table_rows(url: str, items: int, batches: int) -> list[float]:
    """Seconds to insert `items` feed rows in one transaction, per batch."""
    rows = [
        (
            str(uuid4()),
            f"batch-{n}",
            position,
            TYPES[position % len(TYPES)].value,
            "internal",
            json.dumps({"text": f"Draft {position}: the customer asked again."}),
        )
        for n in range(batches)
        for position in range(items)
    ]
    insert = "INSERT INTO feed_items VALUES (%s, %s, %s, %s, %s, %s)"
    create = (
        "CREATE TABLE feed_items (id TEXT PRIMARY KEY, batch TEXT, position INTEGER, "
        "item_type TEXT, visibility TEXT, content TEXT)"
    )
    timings = []
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(create)
            for n in range(batches):
                began = time.perf_counter()
                db.execute("BEGIN")
                db.executemany(insert.replace("%s", "?"), rows[n * items : (n + 1) * items])
                db.execute("COMMIT")
                timings.append(time.perf_counter() - began)
        return timings
    import psycopg

    parts = urlsplit(url)
    schema = dict(p.split("=") for p in parts.query.split("&"))["schema"]
    with psycopg.connect(urlunsplit(parts._replace(query=""))) as db:
        db.execute(f'SET search_path TO "{schema}"')
        db.execute(create)
        db.commit()
        for n in range(batches):
            began = time.perf_counter()
            with db.transaction(), db.cursor() as cursor:
                cursor.executemany(insert, rows[n * items : (n + 1) * items])
            timings.append(time.perf_counter() - began)
    return timings


def ms(seconds: Sequence[float]) -> str:
    return f"{statistics.median(seconds) * 1000:,.1f}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("CALLDESK_TEST_DATABASE_URL"))
    arguments = parser.parse_args(argv)
    items, batches = arguments.items, arguments.batches
    table = Table(
        "store",
        "publish\n(load, check, save) ms",
        "its save ms",
        "rows saved",
        "same rows raw ms",
        "save / raw",
        f"{items} rows of a\nfeed table ms",
        "save / table",
        title=f"Publishing {items} drafts as one batch, median of {batches} "
        f"({platform.node()}, {os.cpu_count()} cores)",
    )
    with fresh_stores(arguments.postgres, 3) as measured:
        for name, (app_url, raw_url, table_url) in measured:
            console.print(f"[bold]{name}[/]: {batches} batches of {items} drafts")
            whole, saves, rows, feeds = published(app_url, items, batches)
            assert all(len(feed) == min(items, 100) for feed in feeds)
            raw = same_rows(raw_url, rows)
            plain = feed_table_rows(table_url, items, batches)
            table.add_row(
                name,
                ms(whole),
                ms(saves),
                str(len(rows[0])),
                ms(raw),
                f"{statistics.median(saves) / statistics.median(raw):.2f}",
                ms(plain),
                f"{statistics.median(saves) / statistics.median(plain):.2f}",
            )
    console.print(table)


if __name__ == "__main__":
    main()

"""How fast a device replica syncs with the server over loopback HTTP: its first sync,
an incremental sync of 100 changes, and a server change reaching the device's main
table with the live follower running; each against a bare client measured in the
same run (ADR/0024, ADR/0027).

For each size, a tenant is filled in a fresh SQLite file through the product's own
write path (Records.import_records, a batch a transaction, contacts with a name and a
phone), and its connector is served by uvicorn on 127.0.0.1 in a thread of this
process. The device is a replica wired as `open_replica` wires it (SQLite tables in a
file of its own, HttpReplicaServer over httpx, the system clock), under a device's
token, with a transport that counts the bytes of every request and response (request
line, headers and body; status line, headers and body as sent). Then:

- first sync: `Replica.sync()` of a fresh replica, against the baseline: the same
  change feed pages (GET /record-changes, pages of the sync's size) read with httpx
  and each page's rows written into a plain table with sqlite-utils `insert_all`.
  Target: calldesk at least 0.5 of the baseline's rate;
- incremental sync: 100 records changed on the server (not timed), then
  `Replica.sync()` end to end, its bytes on the wire against the changed rows' JSON
  (each row as the plain table holds it: id, version and values, compact); against
  the baseline reading the page after its cursor and writing it (sqlite-utils
  `insert_all`, replacing), and against a full re-download (the first sync's
  figures). Targets: under 200 ms, within 3x of the rows' JSON, the same on a replica
  ten times larger;
- online: the follower started with the server's stream (`ReplicaFollower(replica,
  stream=FeedStream(...))`), then one record changed on the server at a time; the
  latency runs from just before the server's write to the commit of the device's
  transaction after which the new value is in its main table (each commit of the
  replica's tables is followed by one indexed read of that row, on a connection of
  its own). Baseline: a bare SSE client of the same stream writing each page it
  carries at once with sqlite-utils `insert_all` (replacing). Target: p99 under 50
  ms. Then a burst of new records imported on the server at once, and how many a
  second reach the device.

Results go in docs/benchmarks.md.

    .venv/bin/python bench/replica_sync.py [--records N,N] [--rounds N] [--online N]
                                           [--burst N] [--repeats N]
"""

import argparse
import json
import logging
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx
from record_feed import TENANT, contact, filled, record_id
from rich.console import Console
from rich.table import Table
from sqlite_utils import Database
from stores import fresh_stores

from calldesk.adapters.clock import SystemClock
from calldesk.adapters.http.app import create_app
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.serving import served_in_thread
from calldesk.adapters.replica.feed_events import FeedStream
from calldesk.adapters.replica.follower import ReplicaFollower
from calldesk.adapters.replica.http_server import HttpReplicaServer
from calldesk.adapters.replica.opening import TIMEOUT_SECONDS
from calldesk.adapters.replica.sqlite_tables import SQLiteReplicaTables, SQLiteTableGroup
from calldesk.apps.access import IssueToken
from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.apps.records import ChangeRecord, ImportRecords, ImportRow
from calldesk.apps.replica import Replica
from calldesk.apps.replica_sync import PAGE_SIZE
from calldesk.domain.crm_records import Author
from calldesk.domain.records import RecordKind

KIND = RecordKind.CONTACT
AGENT_ID = "a-17"
AGENT = Author("agent", AGENT_ID)
IMPORT = Author("import", "bench")
DEVICE = "bench-laptop"
SECRET = "device-secret-of-the-replica-bench".ljust(40, "x")
AUTHORIZATION = {"Authorization": f"Bearer {SECRET}"}
TARGET_SHARE = 0.5
TARGET_INCREMENTAL_MS = 200.0
TARGET_WIRE_FACTOR = 3.0
TARGET_ONLINE_P99_MS = 50.0
#: How long a change may take to reach the device before the run counts it lost.
ARRIVAL_TIMEOUT = 30.0
HEARTBEAT_SECONDS = 1.0

CALLDESK_FIRST = "calldesk: Replica.sync(), a fresh replica"
RAW_FIRST = "baseline: GET the pages, insert_all"
CALLDESK_INCREMENTAL = "calldesk: Replica.sync()"
RAW_INCREMENTAL = "baseline: GET the page, insert_all"
CALLDESK_FULL = "full re-download: calldesk"
RAW_FULL = "full re-download: baseline"
CALLDESK_ONLINE = "calldesk: ReplicaFollower + FeedStream"
RAW_ONLINE = "baseline: bare SSE client, insert_all"

console = Console(highlight=False, width=130)


# The wire.


class _Counted(httpx.SyncByteStream):
    """A response body that counts its bytes as they are read, before any decoding."""

    def __init__(self, stream: httpx.SyncByteStream, add: Callable[[int], None]) -> None:
        self._stream = stream
        self._add = add

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._add(len(chunk))
            yield chunk

    def close(self) -> None:
        self._stream.close()


class WireCount(httpx.BaseTransport):
    """An HTTP/1.1 transport that counts what crosses the wire each way: a request's
    line, headers and body; a response's status line, headers and body as sent."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.sent = 0
        self.received = 0
        self.requests = 0

    @property
    def total(self) -> int:
        return self.sent + self.received

    def reset(self) -> None:
        self.sent = self.received = self.requests = 0

    def _received(self, size: int) -> None:
        self.received += size

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        line = b"%s %s HTTP/1.1\r\n" % (request.method.encode(), request.url.raw_path)
        self.sent += len(line) + _header_bytes(request.headers) + len(request.content)
        self.requests += 1
        response = self._inner.handle_request(request)
        reason = response.extensions.get("reason_phrase", b"")
        status = b"HTTP/1.1 %d %s\r\n" % (response.status_code, reason)
        self.received += len(status) + _header_bytes(response.headers)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _Counted(response.stream, self._received)
        return response

    def close(self) -> None:
        self._inner.close()


def _header_bytes(headers: httpx.Headers) -> int:
    """`Name: value\\r\\n` for each header, and the blank line after them."""
    return sum(len(name) + len(value) + 4 for name, value in headers.raw) + 2


# The server.


@attrs.define
class Server:
    """A tenant of `records` contacts in its own SQLite file, its connector served on
    loopback; the version each record is at, so a change can name its base."""

    desk: Desk
    url: str
    records: int
    fill_seconds: float
    versions: dict[int, int]
    rng: random.Random

    def change(self, n: int, title: str) -> None:
        """The record's title changed at the console, from its latest version."""
        view = self.desk.change_record(
            ChangeRecord(
                TENANT,
                kind=KIND,
                record_id=record_id(n),
                base_version=self.versions[n],
                values={"title": title},
                by=AGENT,
                at=datetime.now(UTC),
            )
        )
        self.versions[n] = view.version

    def imported(self, first: int, count: int, batch: int) -> None:
        """`count` new contacts from number `first` on, `batch` a transaction."""
        for start in range(first, first + count, batch):
            rows = [
                ImportRow(n, contact(n), record_id(n))
                for n in range(start, min(start + batch, first + count))
            ]
            summary = self.desk.import_records(
                ImportRecords(
                    TENANT,
                    kind=KIND,
                    rows=rows,
                    operation_id=f"burst-{start}",
                    by=IMPORT,
                    at=datetime.now(UTC),
                )
            )
            assert summary.created == len(rows), summary.refused[:3]
        for n in range(first, first + count):
            self.versions[n] = 1


@contextmanager
def served(url: str, records: int, batch: int) -> Iterator[Server]:
    with Desk.at(url) as desk:
        fill = filled(desk, records, batch)  # creates the tenant, then the records
        now = datetime.now(UTC)
        desk.register_agent(RegisterAgent(TENANT, AGENT_ID, name="Ada Lovelace", at=now))
        token = IssueToken(
            TENANT, AGENT_ID, at=now, expires_at=now + timedelta(days=1), device=DEVICE
        )
        desk.issue_token(token, SECRET)
        # A heartbeat a second while a stream is idle: closing a client ends its read
        # at the next frame at the latest, so a stopped follower's thread ends soon.
        config = ConnectorConfig(heartbeat_seconds=HEARTBEAT_SECONDS)
        app = create_app(desk, SystemClock(), config)
        with served_in_thread(app) as base:
            versions = dict.fromkeys(range(records), 1)
            yield Server(desk, base, records, fill, versions, random.Random(records))


# The device.


class WatchedTables(SQLiteReplicaTables):
    """The replica's tables, calling `on_commit` after each transaction commits."""

    on_commit: Callable[[], None] = staticmethod(lambda: None)

    @contextmanager
    def transaction(self) -> Iterator[SQLiteTableGroup]:
        with super().transaction() as group:
            yield group
        self.on_commit()


def device(path: Path, server_url: str, wire: WireCount) -> Replica:
    """The replica in this file, wired as `open_replica` wires it, its HTTP client on
    the counting transport."""
    http = httpx.Client(base_url=server_url, timeout=TIMEOUT_SECONDS, transport=wire)
    tables = WatchedTables(path)

    def closed() -> None:
        http.close()
        tables.close()

    server = HttpReplicaServer(http, lambda: SECRET)
    return Replica(tables, server, SystemClock(), (KIND,), on_close=closed)


class Arrival:
    """When an awaited row is first in a table: checked after each commit of whoever
    writes it, by an indexed read on a connection of its own (so what it sees is
    committed), and noted then."""

    def __init__(self, path: Path, table: str, id_column: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._query = f'SELECT title FROM "{table}" WHERE "{id_column}" = ?'
        self._lock = threading.Lock()
        self._awaited: tuple[str, str | None] | None = None
        self.seen = threading.Event()
        self.at = 0

    def expect(self, record: str, title: str | None) -> None:
        """Await the record with this title; with None, the record at all."""
        with self._lock:
            self.seen.clear()
            self._awaited = (record, title)

    def check(self) -> None:
        with self._lock:
            if self._awaited is None or self.seen.is_set():
                return
            record, title = self._awaited
            found = self._db.execute(self._query, (record,)).fetchone()
            if found is not None and (title is None or found[0] == title):
                self.at = time.perf_counter_ns()
                self.seen.set()

    def close(self) -> None:
        self._db.close()


# The baseline: a bare client of the same HTTP surface.


def plain_rows(page: dict[str, Any]) -> list[dict[str, Any]]:
    """A page's record changes as rows of a plain table: id, version, values."""
    return [
        {"id": change["record_id"], "version": change["version"], **change["values"]}
        for change in page["changes"]
        if "record_id" in change and not change["deleted"]
    ]


def rows_json_bytes(rows: Iterable[dict[str, Any]]) -> int:
    """The rows' JSON, compact: what the changed rows weigh themselves."""
    return sum(len(json.dumps(row, separators=(",", ":")).encode()) for row in rows)


class BareClient:
    """GETs the change feed after its cursor and writes each page's rows into a plain
    table with sqlite-utils: no schema, no checks, no queues, no merge."""

    def __init__(self, path: Path, server_url: str, wire: WireCount) -> None:
        # Written by the follower's thread too, one thread at a time.
        self.db = Database(sqlite3.connect(path, check_same_thread=False))
        self.db.enable_wal()
        self.http = httpx.Client(base_url=server_url, transport=wire)
        self.cursor = 0

    def pulled(self) -> list[dict[str, Any]]:
        """Every page after the cursor, written; the rows they held."""
        rows: list[dict[str, Any]] = []
        more = True
        while more:
            answer = self.http.get(
                "/record-changes",
                params={"after": self.cursor, "limit": PAGE_SIZE},
                headers=AUTHORIZATION,
            )
            answer.raise_for_status()
            page = answer.json()
            written = plain_rows(page)
            self.write(written)
            rows += written
            self.cursor, more = page["cursor"], page["more"]
        return rows

    def write(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.db.table(KIND.value).insert_all(rows, pk="id", replace=True, alter=True)

    def close(self) -> None:
        self.http.close()
        self.db.close()


class BareFollower:
    """A bare SSE client of GET /record-changes/stream: each page it carries written
    into the plain table at once, with sqlite-utils, then `on_commit`."""

    def __init__(
        self, client: BareClient, server_url: str, on_commit: Callable[[], None]
    ) -> None:
        self.client = client
        self.on_commit = on_commit
        self._http = httpx.Client(base_url=server_url, timeout=httpx.Timeout(10, read=None))
        self._thread = threading.Thread(target=self._follow, name="bare-follower")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._http.close()  # ends the read the thread waits in
        self._thread.join()

    def _follow(self) -> None:
        try:
            with self._http.stream(
                "GET",
                "/record-changes/stream",
                params={"after": self.client.cursor},
                headers={**AUTHORIZATION, "Accept": "text/event-stream"},
            ) as response:
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        page = json.loads(line.removeprefix("data:"))
                        self.client.write(plain_rows(page))
                        self.client.cursor = page["cursor"]
                        self.on_commit()
        except (httpx.HTTPError, RuntimeError):  # closed by stop()
            return


# The measurements.


@attrs.frozen
class Download:
    seconds: float
    wire_bytes: int
    requests: int


@attrs.frozen
class Incremental:
    seconds: float
    wire_bytes: int
    rows_json: int
    requests: int


@attrs.frozen
class Burst:
    records: int
    import_seconds: float  # the server's import, batches of `batch`
    arrival_seconds: float  # from the import's start to the last record on the device


@attrs.define
class Size:
    """What one size measured."""

    records: int
    fill_seconds: float
    first: dict[str, list[Download]] = attrs.Factory(dict)
    incremental: dict[str, list[Incremental]] = attrs.Factory(dict)
    online: dict[str, list[float]] = attrs.Factory(dict)  # ms, write to visible
    writes: dict[str, list[float]] = attrs.Factory(dict)  # ms, the server's write
    bursts: dict[str, Burst] = attrs.Factory(dict)


def timed_download(work: Callable[[], int], wire: WireCount) -> tuple[Download, int]:
    wire.reset()
    began = time.perf_counter()
    got = work()
    seconds = time.perf_counter() - began
    return Download(seconds, wire.total, wire.requests), got


def main_rows(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute(f'SELECT count(*) FROM "{KIND.value}"').fetchone()[0])


@attrs.frozen
class Clients:
    """The replica and the bare client, each in its own file, on its own counted wire."""

    replica: Replica
    replica_path: Path
    wire: WireCount
    bare: BareClient
    plain_path: Path
    raw_wire: WireCount

    @classmethod
    def fresh(cls, folder: Path, name: str, server_url: str) -> "Clients":
        wire, raw_wire = WireCount(), WireCount()
        replica_path = folder / f"replica-{name}.sqlite"
        plain_path = folder / f"plain-{name}.sqlite"
        return cls(
            device(replica_path, server_url, wire),
            replica_path,
            wire,
            BareClient(plain_path, server_url, raw_wire),
            plain_path,
            raw_wire,
        )

    def close(self) -> None:
        self.replica.close()
        self.bare.close()


def first_syncs(server: Server, folder: Path, repeats: int, size: Size) -> Clients:
    """Each repeat a fresh replica and a fresh plain table, in turn (the order swapped
    every repeat); the last of each is kept for what follows."""
    size.first = {CALLDESK_FIRST: [], RAW_FIRST: []}
    kept: Clients | None = None
    for repeat in range(repeats):
        if kept is not None:
            kept.close()
        clients = Clients.fresh(folder, f"{server.records}-{repeat}", server.url)

        def synced(clients: Clients = clients) -> int:
            report = clients.replica.sync()
            assert report.completed, report
            return main_rows(clients.replica_path)

        def downloaded(clients: Clients = clients) -> int:
            return len(clients.bare.pulled())

        ways = [
            (CALLDESK_FIRST, synced, clients.wire),
            (RAW_FIRST, downloaded, clients.raw_wire),
        ]
        for name, work, counted in ways if repeat % 2 == 0 else ways[::-1]:
            console.print(f"{server.records:,} records, first sync {repeat + 1}: {name}")
            download, got = timed_download(work, counted)
            assert got == server.records, (name, got)
            size.first[name].append(download)
        kept = clients
    assert kept is not None
    return kept


def incremental_syncs(
    server: Server, clients: Clients, rounds: int, changes: int, size: Size
) -> None:
    """Each round: records changed on the server, then both clients pull them (the
    order swapped every round)."""
    size.incremental = {CALLDESK_INCREMENTAL: [], RAW_INCREMENTAL: []}
    replica, bare = clients.replica, clients.bare
    for n in range(rounds):
        picked = server.rng.sample(range(server.records), changes)
        title = f"Round {n}"
        for record in picked:
            server.change(record, title)
        rows_json = 0

        def synced() -> int:
            report = replica.sync()
            assert report.completed, report
            assert report.pulled == changes, report
            return changes

        def pulled() -> int:
            nonlocal rows_json
            rows = bare.pulled()
            rows_json = rows_json_bytes(rows)
            return len(rows)

        ways = [
            (CALLDESK_INCREMENTAL, synced, clients.wire),
            (RAW_INCREMENTAL, pulled, clients.raw_wire),
        ]
        measured: dict[str, Download] = {}
        for name, work, counted in ways if n % 2 == 0 else ways[::-1]:
            download, got = timed_download(work, counted)
            assert got == changes, (name, got)
            measured[name] = download
        with closing(sqlite3.connect(clients.replica_path)) as db:
            landed = db.execute(
                f'SELECT count(*) FROM "{KIND.value}" WHERE title = ?', (title,)
            ).fetchone()[0]
        assert landed == changes, landed
        for name, download in measured.items():
            size.incremental[name].append(
                Incremental(
                    download.seconds, download.wire_bytes, rows_json, download.requests
                )
            )


def followed(
    server: Server,
    arrival: Arrival,
    changes: int,
    burst: int,
    batch: int,
    label: str,
    size: Size,
) -> None:
    """One record changed at a time, each awaited on the device; then a burst of new
    records imported at once."""
    latencies: list[float] = []
    writes: list[float] = []
    for n in range(changes):
        record = server.rng.randrange(server.records)
        title = f"Online {label} {n}"
        arrival.expect(record_id(record), title)
        began = time.perf_counter_ns()
        server.change(record, title)
        written = time.perf_counter_ns()
        assert arrival.seen.wait(ARRIVAL_TIMEOUT), f"change {n} never arrived"
        latencies.append((arrival.at - began) / 1e6)
        writes.append((written - began) / 1e6)
        time.sleep(server.rng.uniform(0.005, 0.025))  # not in step with any timer
    size.online[label] = latencies
    size.writes[label] = writes
    if burst:
        first = len(server.versions)
        arrival.expect(record_id(first + burst - 1), None)
        began = time.perf_counter_ns()
        server.imported(first, burst, batch)
        imported = time.perf_counter_ns()
        assert arrival.seen.wait(ARRIVAL_TIMEOUT * 10), "the burst never arrived"
        size.bursts[label] = Burst(
            burst, (imported - began) / 1e9, (arrival.at - began) / 1e9
        )


def online(
    server: Server, clients: Clients, changes: int, burst: int, batch: int, size: Size
) -> None:
    """The follower, then the bare SSE client, each following the same changes."""
    replica, bare = clients.replica, clients.bare
    tables = replica.tables
    assert isinstance(tables, WatchedTables)
    arrival = Arrival(clients.replica_path, KIND.value, "_cd_id")
    tables.on_commit = arrival.check
    follower = ReplicaFollower(replica, stream=FeedStream(server.url, lambda: SECRET))
    follower.start()
    try:
        console.print(f"{server.records:,} records, online: {CALLDESK_ONLINE}")
        followed(server, arrival, changes, burst, batch, CALLDESK_ONLINE, size)
    finally:
        follower.stop()
        tables.on_commit = lambda: None
        arrival.close()
    bare.pulled()  # caught up before its stream opens, as the replica was
    arrival = Arrival(clients.plain_path, KIND.value, "id")
    bare_follower = BareFollower(bare, server.url, arrival.check)
    bare_follower.start()
    try:
        console.print(f"{server.records:,} records, online: {RAW_ONLINE}")
        followed(server, arrival, changes, burst, batch, RAW_ONLINE, size)
    finally:
        bare_follower.stop()
        arrival.close()


def measured(url: str, records: int, arguments: argparse.Namespace, folder: Path) -> Size:
    with served(url, records, arguments.batch) as server:
        console.print(f"Imported {records:,} contacts in {server.fill_seconds:.0f} s")
        size = Size(records, server.fill_seconds)
        clients = first_syncs(server, folder, arguments.repeats, size)
        try:
            incremental_syncs(server, clients, arguments.rounds, arguments.changes, size)
            online(
                server, clients, arguments.online, arguments.burst, arguments.batch, size
            )
        finally:
            clients.close()
    return size


# The tables.


def percentiles(values: Sequence[float]) -> tuple[float, float]:
    """p50 and p99; with fewer than two values, the value."""
    if len(values) < 2:
        return values[0], values[0]
    cut = statistics.quantiles(values, n=100, method="inclusive")
    return cut[49], cut[98]


def first_table(results: Sequence[Size], repeats: int) -> Table:
    table = Table(
        "records",
        "first sync",
        "s",
        "records/s",
        "KiB on the wire",
        "requests",
        "share of baseline's rate",
        title=f"First sync over loopback HTTP, pages of {PAGE_SIZE}; median of {repeats}",
    )
    for size in results:
        raw = statistics.median(d.seconds for d in size.first[RAW_FIRST])
        for name, downloads in size.first.items():
            seconds = statistics.median(d.seconds for d in downloads)
            table.add_row(
                f"{size.records:,}",
                name,
                f"{seconds:.2f}",
                f"{size.records / seconds:,.0f}",
                f"{downloads[-1].wire_bytes / 1024:,.0f}",
                str(downloads[-1].requests),
                f"{raw / seconds:.3f}",
            )
    return table


def incremental_table(results: Sequence[Size], rounds: int, changes: int) -> Table:
    table = Table(
        "records",
        "sync",
        "p50 ms",
        "p99 ms",
        "max ms",
        "KiB on the wire",
        "requests",
        "wire / rows' JSON",
        title=f"{rounds} incremental syncs, each after {changes} records changed on the "
        "server; a full re-download for comparison",
    )
    for size in results:
        rows_json = statistics.median(
            i.rows_json for i in size.incremental[RAW_INCREMENTAL]
        )
        for name, syncs in size.incremental.items():
            p50, p99 = percentiles([i.seconds * 1000 for i in syncs])
            wire = statistics.median(i.wire_bytes for i in syncs)
            table.add_row(
                f"{size.records:,}",
                name,
                f"{p50:.1f}",
                f"{p99:.1f}",
                f"{max(i.seconds for i in syncs) * 1000:.1f}",
                f"{wire / 1024:,.1f}",
                str(syncs[-1].requests),
                f"{wire / rows_json:.2f}",
            )
        for name, source in ((CALLDESK_FULL, CALLDESK_FIRST), (RAW_FULL, RAW_FIRST)):
            seconds = statistics.median(d.seconds for d in size.first[source])
            wire = size.first[source][-1].wire_bytes
            table.add_row(
                f"{size.records:,}",
                name,
                f"{seconds * 1000:,.0f}",
                "",
                "",
                f"{wire / 1024:,.0f}",
                str(size.first[source][-1].requests),
                f"{wire / rows_json:,.0f}",
            )
    return table


def online_table(results: Sequence[Size], changes: int) -> Table:
    table = Table(
        "records",
        "following",
        "changes",
        "p50 ms",
        "p99 ms",
        "max ms",
        "mean ms",
        "server's write p50 ms",
        title=f"Online: {changes} server changes, one at a time, from just before the "
        "server's write to the row in the device's table",
    )
    for size in results:
        for name, latencies in size.online.items():
            p50, p99 = percentiles(latencies)
            table.add_row(
                f"{size.records:,}",
                name,
                str(len(latencies)),
                f"{p50:.2f}",
                f"{p99:.2f}",
                f"{max(latencies):.2f}",
                f"{statistics.mean(latencies):.2f}",
                f"{percentiles(size.writes[name])[0]:.2f}",
            )
    return table


def burst_table(results: Sequence[Size], batch: int) -> Table:
    table = Table(
        "records",
        "following",
        "new records",
        "server's import s",
        "all on the device after s",
        "records/s",
        title=f"A burst of new records imported on the server ({batch:,} a transaction) "
        "while the device follows",
    )
    for size in results:
        for name, burst in size.bursts.items():
            table.add_row(
                f"{size.records:,}",
                name,
                f"{burst.records:,}",
                f"{burst.import_seconds:.2f}",
                f"{burst.arrival_seconds:.2f}",
                f"{burst.records / burst.arrival_seconds:,.0f}",
            )
    return table


def verdicts(results: Sequence[Size]) -> None:
    for size in results:
        ours = statistics.median(d.seconds for d in size.first[CALLDESK_FIRST])
        raw = statistics.median(d.seconds for d in size.first[RAW_FIRST])
        share = raw / ours
        syncs = size.incremental[CALLDESK_INCREMENTAL]
        p99 = percentiles([i.seconds * 1000 for i in syncs])[1]
        factor = statistics.median(i.wire_bytes / i.rows_json for i in syncs)
        online_p99 = percentiles(size.online[CALLDESK_ONLINE])[1]
        console.print(
            f"{size.records:,} records: first sync at {share:.3f} of the baseline's rate, "
            f"target {TARGET_SHARE}: {'met' if share >= TARGET_SHARE else 'NOT met'}; "
            f"incremental p99 {p99:.1f} ms, target under {TARGET_INCREMENTAL_MS:g}: "
            f"{'met' if p99 < TARGET_INCREMENTAL_MS else 'NOT met'}; wire {factor:.2f}x "
            f"the rows' JSON, target {TARGET_WIRE_FACTOR:g}x: "
            f"{'met' if factor <= TARGET_WIRE_FACTOR else 'NOT met'}; online p99 "
            f"{online_p99:.2f} ms, target under {TARGET_ONLINE_P99_MS:g}: "
            f"{'met' if online_p99 < TARGET_ONLINE_P99_MS else 'NOT met'}"
        )
    if len(results) > 1:
        small, large = results[0], results[-1]

        def median_of(size: Size, measure: Callable[[Incremental], float]) -> float:
            return statistics.median(
                measure(i) for i in size.incremental[CALLDESK_INCREMENTAL]
            )

        growth = median_of(large, lambda i: i.seconds) / median_of(
            small, lambda i: i.seconds
        )
        wire = median_of(large, lambda i: i.wire_bytes) / median_of(
            small, lambda i: i.wire_bytes
        )
        console.print(
            f"An incremental sync at {large.records:,} records: {growth:.2f} times its p50 "
            f"at {small.records:,}, {wire:.3f} times its bytes."
        )


def main(argv: Sequence[str] | None = None) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", default="10000,100000", help="sizes, by commas")
    parser.add_argument("--rounds", type=int, default=20, help="incremental syncs")
    parser.add_argument("--changes", type=int, default=100, help="per incremental sync")
    parser.add_argument("--online", type=int, default=200, help="changes followed live")
    parser.add_argument("--burst", type=int, default=10000, help="new records at once")
    parser.add_argument("--batch", type=int, default=2000, help="rows a transaction")
    parser.add_argument("--repeats", type=int, default=1, help="of each first sync")
    arguments = parser.parse_args(argv)
    sizes = [int(size) for size in arguments.records.split(",")]
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    console.print(
        f"{platform.python_implementation()} {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {os.cpu_count()} cores, {platform.machine()}; "
        f"load average before the run: {load}"
    )
    with (
        fresh_stores(None, len(sizes)) as [(_, urls)],
        tempfile.TemporaryDirectory() as folder,
    ):
        results = [
            measured(url, records, arguments, Path(folder))
            for records, url in zip(sizes, urls, strict=True)
        ]
    for size in results:
        console.print(
            f"{size.records:,} contacts imported on the server in {size.fill_seconds:.0f} s"
        )
    console.print(first_table(results, arguments.repeats))
    console.print(incremental_table(results, arguments.rounds, arguments.changes))
    console.print(online_table(results, arguments.online))
    if arguments.burst:
        console.print(burst_table(results, arguments.batch))
    verdicts(results)


if __name__ == "__main__":
    main()

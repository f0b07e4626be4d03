"""A server and device replicas syncing with it over the real HTTP surface (in
process), with the network's faults: down, an answer lost after the server applied the
request, a device dying between two requests."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
from litestar import Litestar
from litestar.testing import TestClient

from calldesk.adapters.http.app import create_app
from calldesk.adapters.replica.http_server import HttpReplicaServer
from calldesk.adapters.replica.sqlite_tables import SQLiteReplicaTables
from calldesk.apps.access import IssueToken
from calldesk.apps.change_feed import RecordChange
from calldesk.apps.desk import Desk
from calldesk.apps.records import (
    ChangeRecord,
    CreateRecord,
    DeleteRecord,
    RecordView,
    RestoreRecord,
)
from calldesk.apps.replica import Replica
from calldesk.domain.crm_records import Author
from calldesk.domain.record_fields import FieldValue
from calldesk.domain.records import RecordKind
from calldesk.ports.replica import (
    KindSchema,
    Operation,
    OperationResult,
    ReplicaServer,
    ServerPage,
    ServerRecord,
    ServerUnreachable,
)
from support.clock import Clock
from support.desk_driver import tenant_with_agent

START = datetime(2026, 12, 4, 9, tzinfo=UTC)
KINDS = (RecordKind.ACCOUNT, RecordKind.CONTACT)
AGENT = Author("agent", "a-17")


class Crash(BaseException):
    """The device's process dies here: nothing after it runs, nothing uncommitted stays."""


@attrs.define
class Network:
    """What happens to the device's next requests."""

    down: bool = False
    lose_next_answer: bool = False
    crash_after: int | None = None  # requests until the device dies


class FaultyServer:
    """A ReplicaServer whose network fails as a test says."""

    def __init__(self, server: ReplicaServer, network: Network) -> None:
        self.server = server
        self.network = network

    def _before(self) -> None:
        if self.network.down:
            raise ServerUnreachable("the network is down")
        if self.network.crash_after is not None:
            if self.network.crash_after == 0:
                self.network.crash_after = None
                raise Crash
            self.network.crash_after -= 1

    def schema(self, kind: RecordKind) -> KindSchema:
        self._before()
        return self.server.schema(kind)

    def changes(self, after: int, limit: int) -> ServerPage:
        self._before()
        return self.server.changes(after, limit)

    def record(self, kind: RecordKind, record_id: str) -> ServerRecord | None:
        self._before()
        return self.server.record(kind, record_id)

    def apply(self, operations: Sequence[Operation]) -> tuple[OperationResult, ...]:
        self._before()
        results = self.server.apply(operations)
        if self.network.lose_next_answer:
            self.network.lose_next_answer = False
            raise ServerUnreachable("the answer was lost on the way back")
        return results


@attrs.define
class Device:
    """A replica in its own SQLite file, reopened after a crash."""

    name: str
    path: Path
    http: TestClient[Litestar]
    secret: str
    clock: Clock
    network: Network = attrs.Factory(Network)
    replica: Replica = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.reopened()

    def reopened(self) -> Replica:
        """The replica as a new process finds it in its file."""
        server = HttpReplicaServer(self.http, lambda: self.secret)
        tables = SQLiteReplicaTables(self.path)
        self.replica = Replica(
            tables, FaultyServer(server, self.network), self.clock, KINDS
        )
        return self.replica

    def rows(self, kind: RecordKind) -> dict[str, dict[str, FieldValue]]:
        """The main table as the embedding app reads it: id to values."""
        with self.replica.tables.transaction() as group:
            return {row.record_id: row.values for row in group.rows(kind)}


@attrs.define
class Site:
    """The server: a desk on the test's database, served in process."""

    desk: Desk
    clock: Clock
    http: TestClient[Litestar]
    tenant: str = "acme"

    def another_tenant(self, tenant: str) -> "Site":
        """The same server for a new tenant: a fresh start without a fresh database."""
        tenant_with_agent(self.desk, self.clock.now(), tenant=tenant)
        return attrs.evolve(self, tenant=tenant)

    def device(self, path: Path, name: str = "laptop-1") -> Device:
        secret = f"device-secret-{self.tenant}-{name}".ljust(40, "x")
        at = self.clock.now()
        self.desk.issue_token(
            IssueToken(
                self.tenant, "a-17", at=at, expires_at=at + timedelta(days=30), device=name
            ),
            secret,
        )
        return Device(name, path / f"{name}.sqlite", self.http, secret, self.clock)

    def create(self, kind: RecordKind, operation: str, **values: FieldValue) -> str:
        """A record made on the server, by an agent at the console."""
        command = CreateRecord(
            self.tenant,
            kind=kind,
            values=values,
            operation_id=operation,
            by=AGENT,
            at=self.clock.advance(),
        )
        return self.desk.create_record(command).record_id

    def change(self, kind: RecordKind, record_id: str, **values: FieldValue) -> RecordView:
        """The record changed at the console, from its latest version."""
        latest = self.desk.crm_record(self.tenant, kind, record_id)
        command = ChangeRecord(
            self.tenant,
            kind=kind,
            record_id=record_id,
            base_version=latest.version,
            values=values,
            by=AGENT,
            at=self.clock.advance(),
        )
        return self.desk.change_record(command)

    def delete(self, kind: RecordKind, record_id: str) -> None:
        latest = self.desk.crm_record(self.tenant, kind, record_id)
        self.desk.delete_record(
            DeleteRecord(
                self.tenant,
                kind=kind,
                record_id=record_id,
                base_version=latest.version,
                by=AGENT,
                at=self.clock.advance(),
            )
        )

    def restore(self, kind: RecordKind, record_id: str) -> None:
        self.desk.restore_record(
            RestoreRecord(
                self.tenant,
                kind=kind,
                record_id=record_id,
                by=AGENT,
                at=self.clock.advance(),
            )
        )

    def records(self, kind: RecordKind) -> dict[str, dict[str, FieldValue]]:
        """The tenant's live records of a kind as the feed has them now: id to values."""
        page = self.desk.record_changes(self.tenant, after=0, limit=1000)
        assert not page.more
        return {
            change.record_id: {k: v for k, v in change.values.items() if v is not None}
            for change in page.changes
            if isinstance(change, RecordChange)
            and change.kind is kind
            and not change.deleted
        }


@contextmanager
def site(database_url: str) -> Iterator[Site]:
    with Desk.at(database_url) as desk:
        clock = Clock(START)
        tenant_with_agent(desk, START, tenant="acme")
        app = create_app(desk, clock)
        with TestClient(app, base_url="http://127.0.0.1") as http:
            yield Site(desk, clock, http)

"""The PostgreSQL recorder of the desk: the events, and in the same transaction (under
eventsourcing's table lock) the audience of each event, which agents show which record
(ADR/0014), and when the server's clock recorded each event (ADR/0019).

A server that cannot be used is said at once, in one line: the recorder connects once
on its own before the library's pool does, within the connect timeout (the pool would
only report, after its timeout, that it got no connection, not why).
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Notification, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from calldesk.adapters.event_store.feed_rows import feed_rows
from calldesk.ports.log import Audience, FeedEntry


class PostgresDeskRecorder(PostgresApplicationRecorder):
    """Chosen by APPLICATION_RECORDER_TOPIC (calldesk.apps.settings)."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        # The pool waits POSTGRES_CONNECT_TIMEOUT for a connection; each of its attempts
        # waits as long, instead of as long as the kernel keeps trying.
        self.connect_timeout = max(1, round(datastore.pool.timeout))
        settings = datastore.pool.kwargs
        assert isinstance(settings, dict)  # eventsourcing passes a dict
        settings["connect_timeout"] = self.connect_timeout
        self.connection_settings: dict[str, Any] = settings
        # Before the library's own constructor, whose first query waits on the pool.
        self.check_connection()
        super().__init__(datastore, events_table_name=events_table_name)
        prefix = events_table_name.removesuffix("_events")
        schema = Identifier(datastore.schema)
        self.events = Composed([schema, SQL("."), Identifier(events_table_name)])
        self.audiences = Composed([schema, SQL("."), Identifier(f"{prefix}_audiences")])
        self.viewers = Composed([schema, SQL("."), Identifier(f"{prefix}_record_viewers")])
        self.recorded = Composed([schema, SQL("."), Identifier(f"{prefix}_recorded")])
        self.feed = Composed([schema, SQL("."), Identifier(f"{prefix}_record_feed")])
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (tenant text NOT NULL, "
                    "agent text NOT NULL, position bigint NOT NULL, "
                    "PRIMARY KEY (tenant, agent, position))"
                ).format(self.audiences),
                SQL("CREATE INDEX IF NOT EXISTS {} ON {} (position)").format(
                    Identifier(f"{prefix}_audiences_position"), self.audiences
                ),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (tenant text NOT NULL, "
                    "kind text NOT NULL, record_id text NOT NULL, agent text NOT NULL, "
                    "PRIMARY KEY (tenant, kind, record_id, agent))"
                ).format(self.viewers),
                SQL("CREATE INDEX IF NOT EXISTS {} ON {} (tenant, agent)").format(
                    Identifier(f"{prefix}_record_viewers_agent"), self.viewers
                ),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, "
                    "recorded_at timestamptz NOT NULL)"
                ).format(self.recorded),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (tenant text NOT NULL, "
                    "item text NOT NULL, key text NOT NULL, position bigint NOT NULL, "
                    "version integer NOT NULL, deleted boolean NOT NULL, "
                    "state text NOT NULL, PRIMARY KEY (tenant, item, key))"
                ).format(self.feed),
                SQL("CREATE INDEX IF NOT EXISTS {} ON {} (tenant, position)").format(
                    Identifier(f"{prefix}_record_feed_position"), self.feed
                ),
            ]
        )

    def check_connection(self) -> None:
        """Connect once, outside the pool: OperationalError saying why, in one line,
        when the server cannot be reached, refuses, or refuses these credentials."""
        try:
            psycopg.connect(**self.connection_settings).close()
        except psycopg.errors.ConnectionTimeout:
            raise OperationalError(
                f"nothing answered within {self.connect_timeout} s; check the host and "
                "port, and that no firewall drops the connection"
            ) from None
        except psycopg.OperationalError as error:
            said = str(error).removeprefix("connection failed: ")
            lines = [" ".join(line.split()) for line in said.splitlines() if line.strip()]
            raise OperationalError("; ".join(lines)) from None

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        viewers: Mapping[tuple[str, str], frozenset[tuple[str, str]]] = kwargs.get(
            "viewers", {}
        )
        for (tenant, agent), shown in viewers.items():
            curs.execute(
                SQL("DELETE FROM {} WHERE tenant=%s AND agent=%s").format(self.viewers),
                (tenant, agent),
            )
            if shown:
                curs.executemany(
                    SQL("INSERT INTO {} VALUES (%s, %s, %s, %s)").format(self.viewers),
                    [(tenant, kind, record_id, agent) for kind, record_id in sorted(shown)],
                )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The positions, known only now, and the audience of each at them."""
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if positions:
            # The server's clock when the insert ran, under the table lock, so in the
            # order of the positions (ADR/0019); not now(), the transaction's start.
            curs.execute(
                SQL(
                    "INSERT INTO {} SELECT position, clock_timestamp() "
                    "FROM unnest(%s::bigint[]) AS position"
                ).format(self.recorded),
                (list(positions),),
            )
        audiences: Sequence[Audience | None] = kwargs.get("audiences", ())
        rows = (
            [
                (audience.tenant, agent, position)
                for position, audience in zip(positions or (), audiences, strict=True)
                if audience is not None
                for agent in sorted(audience.agents)
            ]
            if audiences
            else []
        )
        if rows:
            curs.executemany(
                SQL("INSERT INTO {} VALUES (%s, %s, %s)").format(self.audiences), rows
            )
        feed: Mapping[UUID, FeedEntry] = kwargs.get("feed", {})
        if positions and feed:
            curs.executemany(
                SQL(
                    "INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (tenant, item, key) DO UPDATE SET "
                    "position=excluded.position, version=excluded.version, "
                    "deleted=excluded.deleted, state=excluded.state"
                ).format(self.feed),
                feed_rows(stored_events, positions, feed),
            )
        return positions

    def select_concerning(
        self, tenant: str, agent: str, after: int, limit: int
    ) -> Sequence[tuple[int, Notification]]:
        statement = SQL(
            "SELECT e.* FROM {} a JOIN {} e ON e.notification_id = a.position "
            "WHERE a.tenant=%s AND a.agent=%s AND a.position>%s "
            "ORDER BY a.position LIMIT %s"
        ).format(self.audiences, self.events)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (tenant, agent, after, limit), prepare=True)
            return [
                (row["notification_id"], self._notification(row)) for row in curs.fetchall()
            ]

    def select_audiences(self, first: int, last: int) -> dict[int, Audience]:
        statement = SQL(
            "SELECT position, tenant, agent FROM {} "
            "WHERE position BETWEEN %s AND %s ORDER BY position"
        ).format(self.audiences)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (first, last), prepare=True)
            rows = [(r["position"], r["tenant"], r["agent"]) for r in curs.fetchall()]
        return Audience.by_position(rows)

    def select_viewers(
        self, tenant: str, kind: str, record_ids: Sequence[str]
    ) -> dict[str, frozenset[str]]:
        statement = SQL(
            "SELECT record_id, agent FROM {} "
            "WHERE tenant=%s AND kind=%s AND record_id = ANY(%s)"
        ).format(self.viewers)
        found: dict[str, set[str]] = {}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (tenant, kind, list(record_ids)), prepare=True)
            for row in curs.fetchall():
                found.setdefault(row["record_id"], set()).add(row["agent"])
        return {record_id: frozenset(agents) for record_id, agents in found.items()}

    def version_as_of(self, originator_id: UUID, position: int) -> int | None:
        statement = SQL(
            "SELECT MAX(originator_version) AS version FROM {} "
            "WHERE originator_id=%s AND notification_id<=%s"
        ).format(self.events)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (originator_id, position), prepare=True)
            row = curs.fetchone()
            version: int | None = None if row is None else row["version"]
            return version

    def select_feed(
        self, tenant: str, after: int, limit: int
    ) -> Sequence[tuple[int, FeedEntry]]:
        statement = SQL(
            "SELECT position, item, key, version, deleted, state FROM {} "
            "WHERE tenant=%s AND position>%s ORDER BY position LIMIT %s"
        ).format(self.feed)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (tenant, after, limit), prepare=True)
            return [
                (
                    row["position"],
                    FeedEntry(
                        tenant,
                        row["item"],
                        row["key"],
                        row["version"],
                        row["deleted"],
                        row["state"],
                    ),
                )
                for row in curs.fetchall()
            ]

    def select_feed_keys(
        self, tenant: str, item: str, keys: Sequence[str]
    ) -> dict[str, bool]:
        statement = SQL(
            "SELECT key, deleted FROM {} WHERE tenant=%s AND item=%s AND key = ANY(%s)"
        ).format(self.feed)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (tenant, item, list(keys)), prepare=True)
            return {row["key"]: row["deleted"] for row in curs.fetchall()}

    def select_recorded_at(self, originator_id: UUID) -> dict[int, datetime]:
        statement = SQL(
            "SELECT e.originator_version AS version, r.recorded_at FROM {} e "
            "JOIN {} r ON r.position = e.notification_id WHERE e.originator_id=%s"
        ).format(self.events, self.recorded)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (originator_id,), prepare=True)
            return {
                row["version"]: row["recorded_at"].astimezone(UTC)
                for row in curs.fetchall()
            }

    @staticmethod
    def _notification(row: DictRow) -> Notification:
        return Notification(
            id=row["notification_id"],
            originator_id=row["originator_id"],
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=bytes(row["state"]),
        )

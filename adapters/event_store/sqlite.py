"""The SQLite recorder of the desk: the events, and in the same transaction the audience
of each event, which agents show which record (ADR/0014), and when SQLite's clock
recorded each event (ADR/0019).

A file that cannot be opened is said in one line, naming what to check: SQLite itself
only says it is "unable to open database file".
"""

import os
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    Notification,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from calldesk.adapters.event_store.feed_rows import feed_rows
from calldesk.ports.log import Audience, FeedEntry

AUDIENCES = "calldesk_audiences"
VIEWERS = "calldesk_record_viewers"
RECORDED = "calldesk_recorded"
FEED = "calldesk_record_feed"
#: Keys asked of the feed in one statement, well within SQLite's limit of variables.
KEYS_PER_SELECT = 500


class SQLiteDeskRecorder(SQLiteApplicationRecorder):
    """Chosen by APPLICATION_RECORDER_TOPIC (calldesk.apps.settings)."""

    def __init__(
        self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name)
        self.events_table = events_table_name

    def create_table(self) -> None:
        try:
            super().create_table()
        except (PersistenceError, sqlite3.Error) as error:
            raise OperationalError(self._why_not_opened(error)) from error

    def _why_not_opened(self, error: Exception) -> str:
        name = self.datastore.pool.db_name
        if self.datastore.pool.is_sqlite_memory_mode or name.startswith("file:"):
            return str(error)
        database = Path(name).absolute()
        folder = database.parent
        if database.is_dir():
            return f"{database} is a folder; name a database file in it"
        if not folder.exists():
            return f"the folder {folder} does not exist; create it or name another file"
        if not folder.is_dir():
            return f"{folder} is not a folder; name a file in a folder"
        if not os.access(folder, os.W_OK) or (
            database.exists() and not os.access(database, os.W_OK)
        ):
            return f"cannot write {database}; check who owns it and its folder"
        if isinstance(error.__cause__ or error, sqlite3.DatabaseError) and (
            "not a database" in str(error)
        ):
            return f"{database} is not a SQLite database; name another file"
        return str(error)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {AUDIENCES} (tenant TEXT, agent TEXT, "
            "position INTEGER, PRIMARY KEY (tenant, agent, position)) WITHOUT ROWID",
            f"CREATE INDEX IF NOT EXISTS {AUDIENCES}_position ON {AUDIENCES} (position)",
            f"CREATE TABLE IF NOT EXISTS {VIEWERS} (tenant TEXT, kind TEXT, "
            "record_id TEXT, agent TEXT, "
            "PRIMARY KEY (tenant, kind, record_id, agent)) WITHOUT ROWID",
            f"CREATE INDEX IF NOT EXISTS {VIEWERS}_agent ON {VIEWERS} (tenant, agent)",
            f"CREATE TABLE IF NOT EXISTS {RECORDED} (position INTEGER PRIMARY KEY, "
            "recorded_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {FEED} (tenant TEXT, item TEXT, key TEXT, "
            "position INTEGER NOT NULL, version INTEGER NOT NULL, "
            "deleted INTEGER NOT NULL, state TEXT NOT NULL, "
            "PRIMARY KEY (tenant, item, key)) WITHOUT ROWID",
            f"CREATE INDEX IF NOT EXISTS {FEED}_position ON {FEED} (tenant, position)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        if positions:
            # SQLite's clock, read in the insert's transaction (ADR/0019).
            c.executemany(
                f"INSERT INTO {RECORDED} VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                [(position,) for position in positions],
            )
        audiences: Sequence[Audience | None] = kwargs.get("audiences", ())
        if positions and audiences:
            c.executemany(
                f"INSERT INTO {AUDIENCES} VALUES (?, ?, ?)",
                [
                    (audience.tenant, agent, position)
                    for position, audience in zip(positions, audiences, strict=True)
                    if audience is not None
                    for agent in sorted(audience.agents)
                ],
            )
        feed: Mapping[UUID, FeedEntry] = kwargs.get("feed", {})
        if positions and feed:
            c.executemany(
                f"INSERT INTO {FEED} VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (tenant, item, key) DO UPDATE SET position=excluded.position, "
                "version=excluded.version, deleted=excluded.deleted, state=excluded.state",
                feed_rows(stored_events, positions, feed),
            )
        viewers: Mapping[tuple[str, str], frozenset[tuple[str, str]]] = kwargs.get(
            "viewers", {}
        )
        for (tenant, agent), shown in viewers.items():
            c.execute(f"DELETE FROM {VIEWERS} WHERE tenant=? AND agent=?", (tenant, agent))
            c.executemany(
                f"INSERT INTO {VIEWERS} VALUES (?, ?, ?, ?)",
                [(tenant, kind, record_id, agent) for kind, record_id in sorted(shown)],
            )
        return positions

    def select_concerning(
        self, tenant: str, agent: str, after: int, limit: int
    ) -> Sequence[tuple[int, Notification]]:
        statement = (
            f"SELECT e.rowid, e.* FROM {AUDIENCES} a "
            f"JOIN {self.events_table} e ON e.rowid = a.position "
            "WHERE a.tenant=? AND a.agent=? AND a.position>? ORDER BY a.position LIMIT ?"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, (tenant, agent, after, limit))
            return [(row["rowid"], self._notification(row)) for row in c.fetchall()]

    def select_audiences(self, first: int, last: int) -> dict[int, Audience]:
        statement = (
            f"SELECT position, tenant, agent FROM {AUDIENCES} "
            "WHERE position BETWEEN ? AND ? ORDER BY position"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, (first, last))
            rows = [(r["position"], r["tenant"], r["agent"]) for r in c.fetchall()]
        return Audience.by_position(rows)

    def select_viewers(
        self, tenant: str, kind: str, record_ids: Sequence[str]
    ) -> dict[str, frozenset[str]]:
        found: dict[str, set[str]] = {}
        statement = (
            f"SELECT record_id, agent FROM {VIEWERS} WHERE tenant=? AND kind=? "
            "AND record_id IN"
        )
        for row in self._select_keyed(statement, (tenant, kind), record_ids):
            found.setdefault(row["record_id"], set()).add(row["agent"])
        return {record_id: frozenset(agents) for record_id, agents in found.items()}

    def version_as_of(self, originator_id: UUID, position: int) -> int | None:
        statement = (
            f"SELECT MAX(originator_version) FROM {self.events_table} "
            "WHERE originator_id=? AND rowid<=?"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, (originator_id.hex, position))
            version: int | None = c.fetchone()[0]
            return version

    def select_feed(
        self, tenant: str, after: int, limit: int
    ) -> Sequence[tuple[int, FeedEntry]]:
        statement = (
            f"SELECT position, item, key, version, deleted, state FROM {FEED} "
            "WHERE tenant=? AND position>? ORDER BY position LIMIT ?"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, (tenant, after, limit))
            return [
                (
                    row["position"],
                    FeedEntry(
                        tenant,
                        row["item"],
                        row["key"],
                        row["version"],
                        bool(row["deleted"]),
                        row["state"],
                    ),
                )
                for row in c.fetchall()
            ]

    def select_feed_keys(
        self, tenant: str, item: str, keys: Sequence[str]
    ) -> dict[str, bool]:
        statement = f"SELECT key, deleted FROM {FEED} WHERE tenant=? AND item=? AND key IN"
        rows = self._select_keyed(statement, (tenant, item), keys)
        return {row["key"]: bool(row["deleted"]) for row in rows}

    def _select_keyed(
        self, statement: str, parameters: tuple[str, ...], keys: Sequence[str]
    ) -> list[sqlite3.Row]:
        """The rows of `statement ... IN (keys)`, asked in chunks within SQLite's limit
        of variables, in one read transaction."""
        rows: list[sqlite3.Row] = []
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(keys), KEYS_PER_SELECT):
                chunk = keys[start : start + KEYS_PER_SELECT]
                marks = ", ".join("?" * len(chunk))
                c.execute(f"{statement} ({marks})", (*parameters, *chunk))
                rows += c.fetchall()
        return rows

    def select_recorded_at(self, originator_id: UUID) -> dict[int, datetime]:
        statement = (
            f"SELECT e.originator_version, r.recorded_at FROM {self.events_table} e "
            f"JOIN {RECORDED} r ON r.position = e.rowid WHERE e.originator_id=?"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, (originator_id.hex,))
            return {
                version: datetime.fromisoformat(at).astimezone(UTC)
                for version, at in c.fetchall()
            }

    def _notification(self, row: Any) -> Notification:
        return Notification(
            id=row["rowid"],
            originator_id=self.convert_originator_id(row["originator_id"]),
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=row["state"],
        )

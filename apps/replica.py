"""A device replica's services together, as an embedding app holds them: writes, the
sync run, the inbox of choices, and the status (ADR/0024)."""

import threading
from collections.abc import Callable, Iterable

from calldesk.apps.replica_edits import ReplicaEdits
from calldesk.apps.replica_inbox import ReplicaInbox
from calldesk.apps.replica_state import ReplicaState
from calldesk.apps.replica_sync import Progress, ReplicaSync, RunReport
from calldesk.domain.records import RecordKind
from calldesk.ports.clock import Clock
from calldesk.ports.replica import ReplicaServer, ReplicaTables, SessionExpired


class Replica:
    """One device's replica of its tenant's records."""

    def __init__(
        self,
        tables: ReplicaTables,
        server: ReplicaServer,
        clock: Clock,
        kinds: Iterable[RecordKind] = tuple(RecordKind),
        on_close: Callable[[], None] = lambda: None,
    ) -> None:
        self.tables = tables
        self.server = server
        self.clock = clock
        self.kinds = tuple(kinds)
        self.edits = ReplicaEdits(tables, server, send_now=self.sync)
        self.inbox = ReplicaInbox(tables)
        self.state = ReplicaState(tables)
        self._on_close = on_close
        # One run at a time: the live follower's and a person's "sync now" take turns.
        self._running = threading.Lock()

    def close(self) -> None:
        """Let go of the file and the connections the replica was opened with."""
        self._on_close()

    def __enter__(self) -> "Replica":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def sync(self, on_progress: Progress | None = None) -> RunReport:
        """One sync run, iterated until nothing is left to pull or push."""
        run = ReplicaSync(
            self.tables, self.server, self.clock, self.kinds, on_progress=on_progress
        )
        with self._running:
            return run.run()

    def catch_up(self) -> RunReport:
        """The feed pulled and applied, nothing sent (the live follower's step)."""
        run = ReplicaSync(self.tables, self.server, self.clock, self.kinds)
        with self._running:
            return run.catch_up()

    def record_refused_session(self, error: SessionExpired) -> None:
        """The server refused the token outside a run (the live follower's stream): the
        status says so, as after a refused run, until a run succeeds."""
        run = ReplicaSync(self.tables, self.server, self.clock, self.kinds)
        with self._running:
            run.record_refused_session(error)

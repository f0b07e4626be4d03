"""The desk's log as readers use it (the EventLog port): head, pages, one agent's events.

Reads go to the recorder's indexes (ADR/0014); this process's saves are heard as they
commit. Other processes' saves are found by reading after the last position seen, by
polling on SQLite; PostgreSQL's LISTEN/NOTIFY can wake readers later, behind this port.
"""

from collections.abc import Callable, Sequence

from calldesk.apps.store import Store
from calldesk.ports.log import Audience, Logged, SaveListener


class DeskLog:
    """The EventLog of one desk's store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def head(self) -> int:
        return self.store.head()

    def read_after(self, position: int, limit: int) -> Sequence[Logged]:
        notifications = self.store.recorder.select_notifications(
            start=position + 1, limit=limit
        )
        if not notifications:
            return []
        audiences = self.store.indexes.select_audiences(
            notifications[0].id, notifications[-1].id
        )
        return [self.store.logged(n, audiences.get(n.id)) for n in notifications]

    def read_concerning(
        self, tenant: str, agent: str, after: int, limit: int
    ) -> Sequence[Logged]:
        audience = Audience(tenant, frozenset({agent}))
        return [
            self.store.logged(notification, audience)
            for _, notification in self.store.indexes.select_concerning(
                tenant, agent, after, limit
            )
        ]

    def subscribe(self, listener: SaveListener) -> Callable[[], None]:
        return self.store.on_recorded(listener)

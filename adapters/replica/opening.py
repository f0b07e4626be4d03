"""A device replica opened from its file: the SQLite tables, the server over HTTP and
the device's clock, wired (the composition root `calldesk.replica` re-exports)."""

from collections.abc import Callable, Iterable
from pathlib import Path

import httpx

from calldesk.adapters.clock import SystemClock
from calldesk.adapters.replica.http_server import HttpReplicaServer
from calldesk.adapters.replica.sqlite_tables import SQLiteReplicaTables
from calldesk.apps.replica import Replica
from calldesk.domain.records import RecordKind

#: How long the device waits for the server before it counts as unreachable.
TIMEOUT_SECONDS = 10.0


def open_replica(
    path: str | Path,
    server_url: str,
    token: str | Callable[[], str],
    kinds: Iterable[RecordKind] = tuple(RecordKind),
    timeout: float = TIMEOUT_SECONDS,
) -> Replica:
    """The replica in this SQLite file (made on first use), syncing with the calldesk
    server at `server_url` under a device's bearer token (`calldesk token create AGENT
    --device NAME`), or a callable giving the current one, so a renewed token is used."""
    secret = token if callable(token) else (lambda: token)
    http = httpx.Client(base_url=server_url, timeout=timeout)
    tables = SQLiteReplicaTables(path)

    def closed() -> None:
        http.close()
        tables.close()

    server = HttpReplicaServer(http, secret)
    return Replica(tables, server, SystemClock(), kinds, on_close=closed)

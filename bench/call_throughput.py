"""How many call signals the application applies per second, against raw inserts.

Each signal goes the whole way: the call is loaded, the signal applied, the agents and
the tenant's link changed to match, all saved in one transaction, and the screen pop and
call log follow. The baseline inserts exactly the same stored rows, in exactly the same
transactions, straight through the store's recorder into a fresh database: what the
store costs with no calldesk at all. Target: at least half the raw insert rate.

    .venv/bin/python bench/call_throughput.py [--calls N] [--postgres URL]

PostgreSQL runs when --postgres (or CALLDESK_TEST_DATABASE_URL) names a server; each run
uses a schema of its own, dropped afterwards.
"""

import argparse
import os
import platform
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import StoredEvent
from rich.console import Console
from rich.progress import track
from rich.table import Table
from stores import fresh_stores

from calldesk.apps.desk import Desk
from calldesk.apps.presence import GoAvailable, LogIn, RegisterAgent
from calldesk.apps.tenancy import CreateTenant
from calldesk.domain.signals import CallSignal, Party, SignalKind

TENANT, VENDOR = "bench", "bench-pbx"
AGENTS = 20
TARGET_SHARE = 0.5
console = Console(highlight=False, width=110)


def signals_of_one_call(n: int, start: datetime) -> list[CallSignal]:
    """An inbound call: offered, connected, held, resumed, ended by the customer."""
    agent = f"a-{n % AGENTS}"
    script = [
        (SignalKind.OFFERED, 0),
        (SignalKind.CONNECTED, 5),
        (SignalKind.HELD, 30),
        (SignalKind.RESUMED, 45),
        (SignalKind.ENDED, 120),
    ]
    return [
        CallSignal(
            vendor=VENDOR,
            vendor_event_id=f"call-{n}-{kind.value}",
            vendor_call_id=f"call-{n}",
            kind=kind,
            occurred_at=start + timedelta(seconds=offset),
            customer_number=f"+1650555{n % 10_000:04d}",
            agent=agent,
            ended_by=Party.CUSTOMER if kind is SignalKind.ENDED else None,
        )
        for kind, offset in script
    ]


def prepared(desk: Desk, at: datetime) -> None:
    desk.create_tenant(CreateTenant(TENANT, name="Bench", at=at))
    for n in range(AGENTS):
        handle = f"a-{n}"
        desk.register_agent(RegisterAgent(TENANT, handle, name=f"Agent {n}", at=at))
        desk.log_in(LogIn(TENANT, handle, at=at))
        desk.go_available(GoAvailable(TENANT, handle, at=at))


def through_the_application(
    url: str, calls: int
) -> tuple[float, int, list[list[StoredEvent]]]:
    """Seconds, signals applied, and every batch of rows the recorder was given."""
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    batches: list[list[StoredEvent]] = []
    with Desk.at(url) as desk:
        prepared(desk, start)
        insert = desk.store.recorder.insert_events

        def recording(
            stored_events: Sequence[StoredEvent], **kwargs: Any
        ) -> Sequence[int] | None:
            batches.append(list(stored_events))
            return insert(stored_events, **kwargs)

        desk.store.recorder.insert_events = recording  # type: ignore[method-assign]
        signals = [s for n in range(calls) for s in signals_of_one_call(n, start)]
        began = time.perf_counter()
        for signal in track(signals, description="applying", console=console):
            desk.hear(TENANT, signal, signal.occurred_at)
        elapsed = time.perf_counter() - began
    return elapsed, len(signals), batches


def raw_inserts(url: str, batches: Sequence[list[StoredEvent]]) -> float:
    """Seconds to insert these batches of rows, each in a transaction, calldesk bypassed."""
    with Desk.at(url) as empty:
        began = time.perf_counter()
        for batch in batches:
            empty.store.recorder.insert_events(batch)
        return time.perf_counter() - began


def one_row_each(batches: Sequence[list[StoredEvent]]) -> list[list[StoredEvent]]:
    return [[row] for batch in batches for row in batch]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("CALLDESK_TEST_DATABASE_URL"))
    arguments = parser.parse_args(argv)
    table = Table(
        "store",
        "signals",
        "rows",
        "txns",
        "calldesk\nsignals/s",
        "raw, same txns\nsignals/s",
        "ratio",
        "raw, a txn per row\nsignals/s",
        "ratio",
        f"target: ratio ≥ {TARGET_SHARE}\nvs same txns",
        title=f"Call signals through calldesk vs raw inserts of the same rows "
        f"({platform.node()}, {os.cpu_count()} cores)",
    )
    with fresh_stores(arguments.postgres, 3) as measured:
        for name, (app_url, raw_url, rows_url) in measured:
            console.print(f"[bold]{name}[/]: {arguments.calls} calls")
            seconds, signals, batches = through_the_application(app_url, arguments.calls)
            same_txns = signals / raw_inserts(raw_url, batches)
            per_row = signals / raw_inserts(rows_url, one_row_each(batches))
            applied = signals / seconds
            table.add_row(
                name,
                str(signals),
                str(sum(len(b) for b in batches)),
                str(len(batches)),
                f"{applied:,.0f}",
                f"{same_txns:,.0f}",
                f"{applied / same_txns:.2f}",
                f"{per_row:,.0f}",
                f"{applied / per_row:.2f}",
                "met" if applied / same_txns >= TARGET_SHARE else "missed",
            )
    console.print(table)


if __name__ == "__main__":
    main()

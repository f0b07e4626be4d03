"""How fast an agent's tabs open and focus when the workspace has a long history.

An agent works through a shift of tabs until their workspace has N events (10,000 by
default): records opened (past the tab limit, so tabs are evicted), focused, pinned,
closed, reopened. Then, on the same store:

- a **cold start**, as after a restart or on another machine: a fresh application loads
  the workspace and opens one more record; with snapshots (calldesk's default, one every
  100 events) and with snapshotting switched off, which replays every event;
- **warm** commands, the workspace already in memory: open a record and focus a tab,
  each a load-check-save of one event;
- the baseline, in the same run: reading the workspace's stored event rows straight
  from the recorder, no domain code at all.

    .venv/bin/python bench/workspace_history.py [--events N] [--postgres URL]
"""

import argparse
import os
import platform
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from stores import fresh_stores

from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.apps.settings import persistence_settings
from calldesk.apps.store import Store
from calldesk.apps.tenancy import CreateTenant
from calldesk.apps.workspaces import ActOnTab, ArrangeWorkspace, OpenRecord, TabAction
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.domain.workspace import Workspace
from calldesk.ports.directory import KnownRecord

TENANT, AGENT = "bench", "a-1"
RECORDS = 60  # more than the tab limit: opening them in turn evicts
WARM = 200
console = Console(highlight=False, width=120)


class EveryRecord:
    """A directory that knows every contact: the benchmark measures tabs, not lookups."""

    def find_by_number(self, tenant: str, number: PhoneNumber) -> tuple[RecordRef, ...]:
        return ()

    def record(self, tenant: str, kind: RecordKind, record_id: str) -> KnownRecord:
        return KnownRecord(RecordRef(kind, record_id, f"Customer {record_id}"))

    def search(self, tenant: str, text: str, limit: int) -> tuple[KnownRecord, ...]:
        return ()


def contact(n: int) -> RecordRef:
    return RecordRef(RecordKind.CONTACT, f"003-{n % RECORDS:03d}", f"Customer {n}")


def desk_at(url: str, snapshots: bool = True) -> Desk:
    env = persistence_settings(url) | {"IS_SNAPSHOTTING_ENABLED": "y" if snapshots else "n"}
    return Desk(Store(env=env), directory=EveryRecord())


def shift(url: str, events: int, start: datetime) -> datetime:
    """Work tabs until the workspace holds `events` events; the time it ended."""
    at = start
    with desk_at(url) as desk, Progress(console=console) as progress:
        desk.create_tenant(CreateTenant(TENANT, name="Bench", at=at))
        desk.register_agent(RegisterAgent(TENANT, AGENT, name="Ada", at=at))
        task = progress.add_task("a shift of tabs", total=events)
        n = 0
        while (version := _version(desk)) < events:
            at += timedelta(seconds=1)
            view = desk.open_record(OpenRecord(TENANT, AGENT, record=contact(n), at=at))
            n += 1
            if n % 7 == 0 and view.tabs:
                tab = view.tabs[n % len(view.tabs)].tab_id
                desk.act_on_tab(
                    ActOnTab(TENANT, AGENT, tab=tab, action=TabAction.CLOSE, at=at)
                )
                desk.arrange(ArrangeWorkspace(TENANT, AGENT, reopen_closed_tab=True, at=at))
            progress.update(task, completed=version)
    return at


def _version(desk: Desk) -> int:
    """How many events the agent's workspace has."""
    workspace_id = Workspace.create_id(TENANT, AGENT)
    if workspace_id not in desk.store.repository:
        return 0
    return int(desk.store.repository.get(workspace_id).version)


def cold_start(url: str, snapshots: bool, at: datetime) -> float:
    """Seconds for a fresh application to open one more record."""
    with desk_at(url, snapshots) as desk:
        began = time.perf_counter()
        desk.open_record(OpenRecord(TENANT, AGENT, record=contact(10_001), at=at))
        return time.perf_counter() - began


def warm(url: str, at: datetime) -> tuple[list[float], list[float]]:
    """Seconds of each open and each focus, the workspace cached."""
    opens, focuses = [], []
    with desk_at(url) as desk:
        view = desk.workspace(TENANT, AGENT)
        for n in range(WARM):
            at += timedelta(seconds=1)
            began = time.perf_counter()
            view = desk.open_record(OpenRecord(TENANT, AGENT, record=contact(n), at=at))
            opens.append(time.perf_counter() - began)
            tab = view.tabs[n % len(view.tabs)].tab_id
            began = time.perf_counter()
            desk.act_on_tab(ActOnTab(TENANT, AGENT, tab=tab, action=TabAction.FOCUS, at=at))
            focuses.append(time.perf_counter() - began)
    return opens, focuses


def raw_read(url: str) -> float:
    """Seconds to read every stored event row of the workspace, no domain code."""
    with desk_at(url) as desk:
        began = time.perf_counter()
        rows = list(desk.store.recorder.select_events(Workspace.create_id(TENANT, AGENT)))
        elapsed = time.perf_counter() - began
    assert rows
    return elapsed


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.2f}"


def p99(samples: Sequence[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("CALLDESK_TEST_DATABASE_URL"))
    arguments = parser.parse_args(argv)
    table = Table(
        "store",
        "cold open,\nsnapshots ms",
        "cold open,\nno snapshots ms",
        "raw read of\nall events ms",
        "warm open\np50 / p99 ms",
        "warm focus\np50 / p99 ms",
        title=f"A workspace with {arguments.events:,} events of history "
        f"({platform.node()}, {os.cpu_count()} cores)",
    )
    start = datetime(2026, 11, 25, 9, tzinfo=UTC)
    with fresh_stores(arguments.postgres) as measured:
        for name, (url,) in measured:
            console.print(f"[bold]{name}[/]")
            at = shift(url, arguments.events, start)
            with_snapshots = cold_start(url, True, at + timedelta(minutes=1))
            without = cold_start(url, False, at + timedelta(minutes=2))
            raw = raw_read(url)
            opens, focuses = warm(url, at + timedelta(minutes=3))
            table.add_row(
                name,
                ms(with_snapshots),
                ms(without),
                ms(raw),
                f"{ms(statistics.median(opens))} / {ms(p99(opens))}",
                f"{ms(statistics.median(focuses))} / {ms(p99(focuses))}",
            )
    console.print(table)


if __name__ == "__main__":
    main()

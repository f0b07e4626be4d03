"""The composition every long-running command shares: the desk on its store, the job
locks that store calls for, and the one scheduler of the desk's time-driven jobs.

`calldesk serve` and the demos open it, attach their phone systems through it (so each
gets its jobs), and run its scheduler while they serve (ADR/0013).
"""

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import typer

from calldesk.adapters.cli.console import desk_session
from calldesk.adapters.job_locks import FileJobLocks, InProcessJobLocks, PostgresJobLocks
from calldesk.apps.desk import Desk
from calldesk.apps.schedules import DeskJobs, Scheduler
from calldesk.apps.settings import persistence_settings
from calldesk.ports.clock import Clock
from calldesk.ports.directory import RecordDirectory
from calldesk.ports.job_locks import JobLocks
from calldesk.ports.telephony import TelephonyAdapter


class Wiring:
    """A desk, its scheduler, and its phone systems' jobs."""

    def __init__(self, desk: Desk, scheduler: Scheduler) -> None:
        self.desk, self.scheduler = desk, scheduler
        self.jobs = DeskJobs(scheduler, desk)

    def attach(self, tenant: str, adapter: TelephonyAdapter, clock: Clock) -> None:
        """Attach the phone system to the desk, with its jobs."""
        self.desk.attach(tenant, adapter, clock)
        self.jobs.attached(tenant, adapter.vendor)

    def reconnected(self, tenant: str, vendor: str) -> Callable[[], None]:
        """What an adapter holding a connection calls after each (re)connection."""
        return lambda: self.jobs.reconnected(tenant, vendor)

    def running(self, clock: Clock) -> contextlib.AbstractContextManager[None]:
        """The scheduler ticking from this clock while the block runs."""
        return self.scheduler.running(clock)


@contextlib.contextmanager
def wired(
    context: typer.Context, directory: RecordDirectory | None = None
) -> Iterator[Wiring]:
    """The configured store's desk and scheduler; the job locks let go at the end."""
    with desk_session(context, directory) as desk:
        locks = job_locks_for(context.obj.database_url)
        try:
            yield Wiring(desk, Scheduler(locks))
        finally:
            locks.close()


def job_locks_for(database_url: str) -> JobLocks:
    """The locks that pick one process per job among those sharing this store."""
    settings = persistence_settings(database_url)
    if settings["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        return PostgresJobLocks(database_url)
    database = settings["SQLITE_DBNAME"]
    if database == ":memory:" or "mode=memory" in database:
        return InProcessJobLocks(database)
    return FileJobLocks.beside(Path(database))

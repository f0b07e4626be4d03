"""Job locks on the real stores: of two desks sharing one, each job runs in one only."""

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import psycopg
import pytest
from support.clock import Clock
from support.desk_driver import tenant_with_agent

from calldesk.adapters.cli.wiring import job_locks_for
from calldesk.adapters.job_locks import FileJobLocks, InProcessJobLocks, PostgresJobLocks
from calldesk.adapters.telephony.simulator import PhoneSimulator
from calldesk.apps.desk import Desk
from calldesk.apps.schedules import DeskJobs, Scheduler
from calldesk.ports.job_locks import JobLocks

EXPIRY = "deadlines/acme/simulator"
RECONCILIATION = "reconcile/acme/simulator"


@attrs.define
class Process:
    """One calldesk process: its desk on the shared store, its locks and scheduler, and
    what its jobs did."""

    name: str
    desk: Desk
    locks: JobLocks
    scheduler: Scheduler
    ran: list[tuple[str, str, datetime]]

    def expire_wrap_ups(self, tenant: str, vendor: str, at: datetime) -> int:
        self.ran.append((self.name, "expire", at))
        return self.desk.expire_wrap_ups(tenant, vendor, at)

    def fail_unconfirmed_commands(self, tenant: str, vendor: str, at: datetime) -> int:
        return self.desk.fail_unconfirmed_commands(tenant, vendor, at)

    def reconcile(self, tenant: str, vendor: str, at: datetime) -> tuple[int, int]:
        self.ran.append((self.name, "reconcile", at))
        return self.desk.reconcile(tenant, vendor, at)


@contextmanager
def two_processes(database_url: str, clock: Clock) -> Iterator[tuple[Process, Process]]:
    """Two desks on one store, the simulator attached to each, with the desk's jobs."""
    with Desk.at(database_url) as first:
        tenant_with_agent(first, clock())
    ran: list[tuple[str, str, datetime]] = []
    with ExitStack() as stack:
        processes = []
        for name in ("a", "b"):
            desk = stack.enter_context(Desk.at(database_url))
            locks = job_locks_for(database_url)
            stack.callback(locks.close)
            process = Process(name, desk, locks, Scheduler(locks), ran)
            desk.attach("acme", PhoneSimulator(clock(), None, lambda _: False), clock)
            DeskJobs(process.scheduler, process).attached("acme", "simulator")
            processes.append(process)
        yield processes[0], processes[1]


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/calldesk.db"
    return str(request.getfixturevalue("postgres_url"))


def test_two_processes_ticking_at_the_same_instants_run_each_job_once_a_turn(
    shared_url: str, clock: Clock
) -> None:
    with two_processes(shared_url, clock) as (a, b):
        for _ in range(5):
            now = clock.advance(1)
            a.scheduler.tick(now)
            b.scheduler.tick(now)

        assert [(who, job) for who, job, _ in a.ran] == [
            ("a", "expire"),
            ("a", "reconcile"),
            *[("a", "expire")] * 4,
        ]
        assert b.scheduler.scheduled() == [EXPIRY]  # its reconciliation was left to a

        a.locks.close()  # process a ends
        a.ran.clear()
        for _ in range(2):
            now = clock.advance(1)
            b.scheduler.tick(now)
        assert [(who, job) for who, job, _ in a.ran] == [("b", "expire")] * 2


def test_two_processes_ticking_at_once_in_threads_run_each_job_once_a_turn(
    shared_url: str, clock: Clock
) -> None:
    turns = 20
    with two_processes(shared_url, clock) as (a, b):
        instants = [clock.current + timedelta(seconds=s) for s in range(turns)]
        together = threading.Barrier(2, timeout=30)

        def ticking(process: Process) -> None:
            for now in instants:
                together.wait()
                process.scheduler.tick(now)

        threads = [threading.Thread(target=ticking, args=(p,)) for p in (a, b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        expired = [at for _, job, at in a.ran if job == "expire"]
        assert expired == instants
        runners = {
            job: {who for who, ran, _ in a.ran if ran == job}
            for job in ("expire", "reconcile")
        }
        assert [len(runners[job]) for job in runners] == [1, 1]  # each job has one
        assert [job for _, job, _ in a.ran].count("reconcile") == 1


def test_a_file_lock_is_held_against_another_process_until_it_ends(tmp_path: Path) -> None:
    locks = FileJobLocks.beside(tmp_path / "calldesk.db")
    assert locks.claim(EXPIRY)
    other = [
        sys.executable,
        "-c",
        "import sys; from pathlib import Path;"
        "from calldesk.adapters.job_locks import FileJobLocks;"
        "print(FileJobLocks(Path(sys.argv[1])).claim(sys.argv[2]))",
        str(locks.folder),
        EXPIRY,
    ]

    assert subprocess.run(other, capture_output=True, text=True).stdout == "False\n"
    assert locks.claim(EXPIRY)  # still this process's
    locks.release(EXPIRY)
    assert subprocess.run(other, capture_output=True, text=True).stdout == "True\n"
    assert sorted(p.name for p in locks.folder.iterdir()) == [
        "deadlines%2Facme%2Fsimulator.lock"
    ]


@pytest.mark.postgres
def test_a_postgres_lock_goes_with_its_session_and_is_taken_again(
    postgres_url: str,
) -> None:
    first, second = PostgresJobLocks(postgres_url), PostgresJobLocks(postgres_url)
    try:
        assert first.claim(EXPIRY)
        assert not second.claim(EXPIRY)
        assert second.claim(RECONCILIATION)  # one lock per job
        held = (
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
            (first.key(EXPIRY) & 0xFFFFFFFF,),
        )
        with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as admin:
            (pid,) = admin.execute(*held).fetchone() or (None,)
            admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
            assert admin.execute(*held).fetchone() is None  # the server ended it
        assert not first.claim(EXPIRY)  # its session is gone: it says so, at once
        assert second.claim(EXPIRY)
        assert not first.claim(EXPIRY)  # a new session, but the lock is taken
        second.release(EXPIRY)
        assert first.claim(EXPIRY)
    finally:
        first.close()
        second.close()


@pytest.mark.postgres
def test_desks_on_other_schemas_of_one_database_lock_their_own_jobs(
    postgres_url: str,
) -> None:
    other_schema = postgres_url.replace("schema=", "schema=other_")
    here, there = PostgresJobLocks(postgres_url), PostgresJobLocks(other_schema)
    try:
        assert here.claim(EXPIRY)
        assert there.claim(EXPIRY)
    finally:
        here.close()
        there.close()


def test_the_store_picks_its_locks(tmp_path: Path) -> None:
    assert isinstance(job_locks_for(f"sqlite:///{tmp_path}/c.db"), FileJobLocks)
    assert isinstance(job_locks_for("sqlite:///:memory:"), InProcessJobLocks)
    assert isinstance(job_locks_for("postgresql://u@127.0.0.1/calldesk"), PostgresJobLocks)
    in_memory, again = InProcessJobLocks(":memory:"), InProcessJobLocks(":memory:")
    assert in_memory.claim(EXPIRY)
    assert not again.claim(EXPIRY)
    in_memory.close()
    assert again.claim(EXPIRY)
    again.close()

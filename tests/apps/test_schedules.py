"""The scheduler: jobs at their turns, by an injected clock; the desk's jobs through it."""

import logging
import threading
from datetime import datetime, timedelta

import pytest
from support.clock import Clock
from support.telephony import ADA_NUMBER, desktop

from calldesk.adapters.telephony.simulator import Caller
from calldesk.apps.schedules import (
    RECONCILE_RETRY,
    DeskJobs,
    JobNameTaken,
    Scheduler,
)
from calldesk.apps.tenancy import SetWrapUpPolicy
from calldesk.domain.agents import AgentState
from calldesk.domain.call_states import CallState, Outcome
from calldesk.domain.tenants import WrapUpPolicy

SECOND = timedelta(seconds=1)


class Locks:
    """Job locks this test hands out: every job is this process's unless taken away."""

    def __init__(self) -> None:
        self.elsewhere: set[str] = set()
        self.released: list[str] = []

    def claim(self, job: str) -> bool:
        return job not in self.elsewhere

    def release(self, job: str) -> None:
        self.released.append(job)

    def close(self) -> None:
        pass


class Recorder:
    """A job's work that notes each turn, and raises while told to."""

    def __init__(self) -> None:
        self.turns: list[datetime] = []
        self.failing = False

    def __call__(self, at: datetime) -> None:
        self.turns.append(at)
        if self.failing:
            raise ConnectionError("the phone system does not answer")


def test_a_repeating_job_runs_at_the_first_tick_then_every_interval(clock: Clock) -> None:
    scheduler, work = Scheduler(Locks()), Recorder()
    scheduler.every("expire", SECOND, work)
    start = clock()

    ran = [scheduler.tick(clock.advance(0.25)) for _ in range(9)]

    assert ran.count(["expire"]) == 3
    assert work.turns == [start + timedelta(seconds=s) for s in (0.25, 1.25, 2.25)]


def test_a_one_off_runs_once_at_the_next_tick_however_often_it_was_asked(
    clock: Clock,
) -> None:
    scheduler, work = Scheduler(Locks()), Recorder()
    for _ in range(3):
        scheduler.once("reconcile", work, retry_every=SECOND)

    assert scheduler.tick(clock()) == ["reconcile"]
    assert scheduler.tick(clock.advance(5)) == []
    assert work.turns == [clock() - timedelta(seconds=5)]
    assert scheduler.scheduled() == []


def test_a_one_off_asked_for_while_it_runs_runs_once_more(clock: Clock) -> None:
    scheduler = Scheduler(Locks())
    turns: list[datetime] = []

    def reconcile(at: datetime) -> None:
        turns.append(at)
        if len(turns) == 1:  # the link dropped and came back meanwhile
            scheduler.once("reconcile", reconcile, retry_every=SECOND)

    scheduler.once("reconcile", reconcile, retry_every=SECOND)
    scheduler.tick(clock())
    scheduler.tick(clock.advance(0.2))
    scheduler.tick(clock.advance(0.2))

    assert len(turns) == 2


def test_a_job_that_raises_is_logged_and_runs_again_at_its_next_turn(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler, expire, reconcile = Scheduler(Locks()), Recorder(), Recorder()
    scheduler.every("expire", SECOND, expire)
    scheduler.once("reconcile", reconcile, retry_every=5 * SECOND)
    expire.failing = reconcile.failing = True

    with caplog.at_level(logging.INFO, logger="calldesk.apps.schedules"):
        assert scheduler.tick(clock()) == ["expire", "reconcile"]
        assert scheduler.tick(clock.advance(1)) == ["expire"]
        expire.failing = reconcile.failing = False
        assert scheduler.tick(clock.advance(4)) == ["expire", "reconcile"]
        assert scheduler.tick(clock.advance(5)) == ["expire"]

    assert len(reconcile.turns) == 2
    assert len(expire.turns) == 4
    failed = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.levelname, r.exc_info is not None) for r in failed] == [
        ("ERROR", True),  # the first failure of each, with its traceback
        ("ERROR", True),
        ("WARNING", False),  # then a line for each failure in a row
    ]
    assert "expire succeeded after 2 failures" in caplog.text


def test_a_job_another_process_holds_is_left_to_it(clock: Clock) -> None:
    locks = Locks()
    scheduler, expire, reconcile = Scheduler(locks), Recorder(), Recorder()
    scheduler.every("expire", SECOND, expire)
    scheduler.once("reconcile", reconcile, retry_every=SECOND)
    locks.elsewhere = {"expire", "reconcile"}

    assert scheduler.tick(clock()) == []
    assert scheduler.scheduled() == ["expire"]  # a repeating job waits for its turn
    locks.elsewhere.clear()  # the other process ended
    assert scheduler.tick(clock.advance(0.5)) == []
    assert scheduler.tick(clock.advance(0.5)) == ["expire"]
    assert reconcile.turns == []


def test_names_are_one_job_each_and_a_cancelled_job_lets_its_lock_go(
    clock: Clock,
) -> None:
    locks = Locks()
    scheduler, work = Scheduler(locks), Recorder()
    scheduler.every("expire", SECOND, work)

    with pytest.raises(JobNameTaken, match="'expire' is scheduled already"):
        scheduler.every("expire", SECOND, work)
    with pytest.raises(JobNameTaken, match="repeating job named 'expire'"):
        scheduler.once("expire", work, retry_every=SECOND)
    with pytest.raises(ValueError, match="must be positive"):
        scheduler.every("sync", timedelta(0), work)

    scheduler.cancel("expire")
    assert scheduler.tick(clock()) == []
    assert locks.released == ["expire"]


def test_the_runner_ticks_from_its_clock_survives_failures_and_stops(
    clock: Clock,
) -> None:
    scheduler = Scheduler(Locks())
    ticked = threading.Event()
    turns = 0

    def flaky(at: datetime) -> None:
        nonlocal turns
        turns += 1
        clock.advance(1)  # every look at the clock finds the next turn due
        if turns >= 3:
            ticked.set()
        raise RuntimeError("every turn fails")

    scheduler.every("flaky", SECOND, flaky)
    with scheduler.running(clock, every=0.01):
        assert ticked.wait(10), "the runner stopped ticking"
    settled = turns
    threading.Event().wait(0.1)
    assert turns == settled  # stopped: no turn after the block


def test_a_timed_wrap_up_ends_at_its_limit_by_the_scheduler(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        desk.desk.set_wrap_up_policy(
            SetWrapUpPolicy("acme", policy=WrapUpPolicy(limit_seconds=30), at=desk.now)
        )
        scheduler = Scheduler(Locks())
        DeskJobs(scheduler, desk.desk).attached("acme", "simulator")
        call = desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=10), talk_first=12)
        assert desk.state() is AgentState.WRAP_UP

        ran = []
        for _ in range(35):
            desk.simulator.advance(1)
            ran += scheduler.tick(desk.now)
            if desk.state() is not AgentState.WRAP_UP:
                break

        assert desk.state() is AgentState.AVAILABLE
        view = desk.call(call)
        assert (view.state, view.outcome) == (CallState.CLOSED, Outcome.COMPLETED)
        (entry,) = desk.desk.agent_call_log("acme", "a-17")
        assert entry.wrap_up_seconds == pytest.approx(30, abs=1)
        assert ran[0] == "deadlines/acme/simulator"
        assert ran.count("reconcile/acme/simulator") == 1


def test_a_phone_system_is_reconciled_when_attached_and_after_a_reconnect(
    clock: Clock,
) -> None:
    reconciled: list[tuple[str, str, datetime]] = []

    class Desk:
        def expire_wrap_ups(self, tenant: str, vendor: str, at: datetime) -> int:
            return 0

        def fail_unconfirmed_commands(self, tenant: str, vendor: str, at: datetime) -> int:
            return 0

        def reconcile(self, tenant: str, vendor: str, at: datetime) -> tuple[int, int]:
            reconciled.append((tenant, vendor, at))
            if len(reconciled) == 2:
                raise ConnectionError("baresip is not there yet")
            return 0, 0

    scheduler = Scheduler(Locks())
    jobs = DeskJobs(scheduler, Desk())
    jobs.attached("acme", "baresip")
    jobs.attached("acme", "baresip")  # attached again: still one job of each
    scheduler.tick(clock())
    jobs.reconnected("acme", "baresip")
    scheduler.tick(clock.advance(0.2))  # fails
    scheduler.tick(clock.advance(RECONCILE_RETRY.total_seconds()))

    assert [at for *_, at in reconciled] == [
        clock() - RECONCILE_RETRY - timedelta(seconds=0.2),
        clock() - RECONCILE_RETRY,
        clock(),
    ]
    assert scheduler.scheduled() == ["deadlines/acme/baresip"]

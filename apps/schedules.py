"""The one scheduler of "when time passes, do Y", and the desk's jobs today (ADR/0013).

Jobs are named, and run at their turns: a repeating job every interval, a one-off as
soon as possible (and again after its retry interval until it succeeds). `tick(now)`
runs what is due at `now`, so tests drive it with a clock of their own; `running`
ticks in a thread from a real clock while a command serves. A job that raises is
logged and runs again at its next turn; nothing a job does stops the scheduler. When
several processes share a store, the job's lock (ports/job_locks.py) picks the one
that runs it: a repeating job waits for its next turn elsewhere, a one-off is left to
the process that holds it.
"""

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Protocol

import attrs

from calldesk.ports.clock import Clock
from calldesk.ports.job_locks import JobLocks

log = logging.getLogger(__name__)

#: What a job does at its turn, given the instant of the turn.
Work = Callable[[datetime], object]

#: Seconds between the runner's looks at the clock: a one-off waits at most this long.
TICK_SECONDS = 0.2

#: Seconds the runner's stop waits for a job still running.
STOP_SECONDS = 10.0


class JobNameTaken(ValueError):
    """A job of this name is scheduled already; cancel it first or choose another."""


@attrs.define
class _Job:
    name: str
    work: Work
    every: timedelta  # between turns; for a one-off, between attempts
    repeats: bool
    due: datetime | None = None  # None: at the next tick
    asked: int = 1  # how often a one-off was asked for; a run answers those before it
    failures: int = 0


class Scheduler:
    """Named jobs and their turns; safe to schedule from any thread."""

    def __init__(self, locks: JobLocks) -> None:
        self._locks = locks
        self._jobs: dict[str, _Job] = {}
        self._table = threading.Lock()
        self._ticking = threading.Lock()  # one tick at a time, whoever calls it

    # Registration.

    def every(self, name: str, interval: timedelta, work: Work) -> None:
        """Run `work` at the next tick, then every `interval` after each turn."""
        if interval <= timedelta(0):
            raise ValueError(f"job {name}: the interval must be positive, not {interval}")
        with self._table:
            if name in self._jobs:
                raise JobNameTaken(f"a job named {name!r} is scheduled already")
            self._jobs[name] = _Job(name, work, interval, repeats=True)

    def once(self, name: str, work: Work, retry_every: timedelta) -> None:
        """Run `work` at the next tick, and after `retry_every` again until it does not
        raise. Asked again before it ran, it runs once; asked while it runs, once more
        after (what it ran for may have changed meanwhile)."""
        if retry_every <= timedelta(0):
            raise ValueError(f"job {name}: the retry must be positive, not {retry_every}")
        with self._table:
            pending = self._jobs.get(name)
            if pending is None:
                self._jobs[name] = _Job(name, work, retry_every, repeats=False)
                return
            if pending.repeats:
                raise JobNameTaken(f"a repeating job named {name!r} is scheduled already")
            pending.work, pending.every, pending.due = work, retry_every, None
            pending.asked += 1

    def cancel(self, name: str) -> None:
        """Forget the job and let another process take it; nothing if there is none."""
        with self._table:
            self._jobs.pop(name, None)
        self._locks.release(name)

    def scheduled(self) -> list[str]:
        """The names of the jobs waiting for their turn, in the order they were added."""
        with self._table:
            return list(self._jobs)

    # Turns.

    def tick(self, now: datetime) -> list[str]:
        """Run every job due at `now`, one after another; the names of those this
        process ran (whether or not they raised)."""
        with self._ticking:
            with self._table:
                due = [job for job in self._jobs.values() if _due(job, now)]
            return [job.name for job in due if self._turn(job, now)]

    def _turn(self, job: _Job, now: datetime) -> bool:
        """The job's turn: run it if this process holds it; whether it ran."""
        if not self._locks.claim(job.name):
            log.debug("job %s: another process holds it", job.name)
            self._after(job, now, done=not job.repeats, ran=False)
            return False
        asked = job.asked
        try:
            job.work(now)
        except Exception:
            job.failures += 1
            if job.failures == 1:
                log.exception("job %s failed; it runs again in %s", job.name, job.every)
            else:
                log.warning("job %s failed again (%d in a row)", job.name, job.failures)
            self._after(job, now, done=False, ran=True)
            return True
        if job.failures:
            log.info("job %s succeeded after %d failures", job.name, job.failures)
        job.failures = 0
        self._after(job, now, done=not job.repeats and job.asked == asked, ran=True)
        return True

    def _after(self, job: _Job, now: datetime, *, done: bool, ran: bool) -> None:
        with self._table:
            if self._jobs.get(job.name) is not job:
                return  # cancelled, or replaced, while it ran
            if done:
                del self._jobs[job.name]
            elif ran and not job.repeats and job.failures == 0:
                job.due = None  # asked again while it ran: at the next tick
            else:
                job.due = now + job.every

    # The runner.

    def run(self, clock: Clock, stop: threading.Event, every: float = TICK_SECONDS) -> None:
        """Tick from the clock every `every` seconds until `stop` is set."""
        while not stop.is_set():
            try:
                self.tick(clock.now())
            except Exception:  # a lock's store, a clock: never the end of the runner
                log.exception("the scheduler's tick failed; it ticks again")
            stop.wait(every)

    @contextlib.contextmanager
    def running(self, clock: Clock, every: float = TICK_SECONDS) -> Iterator[None]:
        """Tick in a thread of its own while the block runs; stopped as it ends."""
        stop = threading.Event()
        runner = threading.Thread(
            target=self.run, args=(clock, stop, every), name="calldesk-scheduler"
        )
        runner.daemon = True  # a job stuck in I/O never keeps the process alive
        runner.start()
        try:
            yield
        finally:
            stop.set()
            runner.join(STOP_SECONDS)


def _due(job: _Job, now: datetime) -> bool:
    return job.due is None or job.due <= now


class TimeDriven(Protocol):
    """What the desk does when time passes, for a tenant's phone system."""

    def expire_wrap_ups(self, tenant: str, vendor: str, at: datetime) -> int: ...

    def fail_unconfirmed_commands(self, tenant: str, vendor: str, at: datetime) -> int: ...

    def reconcile(self, tenant: str, vendor: str, at: datetime) -> tuple[int, int]: ...


#: How often a phone system's deadlines (timed wrap-ups, unconfirmed commands) are
#: looked at.
DEADLINES_EVERY = timedelta(seconds=1)
#: How soon a reconciliation that failed (the phone system unreachable) is tried again.
RECONCILE_RETRY = timedelta(seconds=5)


class DeskJobs:
    """The desk's time-driven reactions, as jobs of the scheduler, per phone system."""

    def __init__(self, scheduler: Scheduler, desk: TimeDriven) -> None:
        self._scheduler, self._desk = scheduler, desk

    @staticmethod
    def deadlines(tenant: str, vendor: str) -> str:
        """The name of the job that ends the phone system's wrap-ups at their limit and
        fails the commands it did not confirm in time."""
        return f"deadlines/{tenant}/{vendor}"

    @staticmethod
    def reconciliation(tenant: str, vendor: str) -> str:
        """The name of the job that compares the desk with the phone system."""
        return f"reconcile/{tenant}/{vendor}"

    def attached(self, tenant: str, vendor: str) -> None:
        """A phone system was attached: reconcile it now, and watch its deadlines from
        now on (once, however often it is attached)."""
        name = self.deadlines(tenant, vendor)
        if name not in self._scheduler.scheduled():
            desk = self._desk

            def passed(at: datetime) -> None:
                desk.expire_wrap_ups(tenant, vendor, at)
                desk.fail_unconfirmed_commands(tenant, vendor, at)

            self._scheduler.every(name, DEADLINES_EVERY, passed)
        self.reconnected(tenant, vendor)

    def reconnected(self, tenant: str, vendor: str) -> None:
        """The phone system's connection came back: what it said meanwhile is lost, so
        compare the desk with what it reports, once, soon."""
        desk = self._desk
        self._scheduler.once(
            self.reconciliation(tenant, vendor),
            lambda at: desk.reconcile(tenant, vendor, at),
            retry_every=RECONCILE_RETRY,
        )

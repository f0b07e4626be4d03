"""Job locks (ports/job_locks.py) for each store calldesk runs on (ADR/0013).

PostgreSQL, where several processes on several machines share the log: a session
advisory lock per job, on a connection of its own, which the server frees when the
session ends, however the process ended. SQLite, one machine: an flock on a file per
job beside the database file, which the kernel frees with the process. A database
that is no file (in memory) is one process's own: a lock in the process.
"""

import fcntl
import hashlib
import logging
import os
import threading
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg.conninfo import make_conninfo

from calldesk.apps.settings import persistence_settings

log = logging.getLogger(__name__)

#: Seconds to wait for PostgreSQL when (re)connecting; a turn missed is no harm.
CONNECT_TIMEOUT = 5


class PostgresJobLocks:
    """Session advisory locks: the server answers who runs a job, for every process."""

    def __init__(self, database_url: str) -> None:
        settings = persistence_settings(database_url)
        self._conninfo = make_conninfo(
            host=settings["POSTGRES_HOST"],
            port=settings["POSTGRES_PORT"],
            dbname=settings["POSTGRES_DBNAME"],
            user=settings["POSTGRES_USER"],
            password=settings["POSTGRES_PASSWORD"],
            connect_timeout=CONNECT_TIMEOUT,
        )
        # Advisory locks are the database's, not a schema's: desks on other schemas
        # of the same database have jobs of the same names.
        self._namespace = f"{settings['POSTGRES_SCHEMA']}/"
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self._held: set[str] = set()
        self._guard = threading.Lock()

    def key(self, job: str) -> int:
        """The advisory lock's number for the job: 64 bits of a hash of its name."""
        digest = hashlib.blake2b((self._namespace + job).encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big", signed=True)

    def claim(self, job: str) -> bool:
        with self._guard:
            try:
                connection = self._connected()
                if job in self._held:
                    connection.execute("SELECT 1")  # the session that holds it lives
                    return True
                row = connection.execute(
                    "SELECT pg_try_advisory_lock(%s)", (self.key(job),)
                ).fetchone()
            except psycopg.Error as error:
                log.warning("job locks: PostgreSQL does not answer (%s)", error)
                self._lose()
                return False
            if row is None or row[0] is not True:
                return False
            self._held.add(job)
            return True

    def release(self, job: str) -> None:
        with self._guard:
            if job not in self._held or self._connection is None:
                return
            self._held.discard(job)
            try:
                self._connection.execute("SELECT pg_advisory_unlock(%s)", (self.key(job),))
            except psycopg.Error:
                self._lose()  # the session is gone, and its locks with it

    def close(self) -> None:
        with self._guard:
            if self._held and self._connection is not None:
                # Ending the session frees its locks too, but only once the server has
                # ended it: unlocked now, another process takes over at its next turn.
                try:
                    self._connection.execute("SELECT pg_advisory_unlock_all()")
                except psycopg.Error:
                    log.debug("job locks: unlocking a broken session failed", exc_info=True)
            self._lose()

    def _connected(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._connection is None or self._connection.closed:
            self._held.clear()  # a new session holds nothing
            self._connection = psycopg.connect(self._conninfo, autocommit=True)
        return self._connection

    def _lose(self) -> None:
        """Close the session: the server frees what it held, so nothing is held."""
        self._held.clear()
        if self._connection is not None:
            try:
                self._connection.close()
            except psycopg.Error:
                log.debug("job locks: closing a broken session failed", exc_info=True)
            self._connection = None


class FileJobLocks:
    """An flock per job, on files in a folder beside the SQLite database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._held: dict[str, int] = {}
        self._guard = threading.Lock()

    @classmethod
    def beside(cls, database: Path) -> "FileJobLocks":
        """The locks of the jobs on this database file: in DATABASE.locks/."""
        return cls(database.with_name(database.name + ".locks"))

    def claim(self, job: str) -> bool:
        with self._guard:
            if job in self._held:
                return True
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                descriptor = os.open(
                    self.folder / f"{quote(job, safe='')}.lock",
                    os.O_RDWR | os.O_CREAT,
                    0o600,
                )
            except OSError as error:
                log.warning("job locks: cannot open %s's lock (%s)", job, error)
                return False
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held by another open file: another process, or desk
                os.close(descriptor)
                return False
            self._held[job] = descriptor
            return True

    def release(self, job: str) -> None:
        with self._guard:
            descriptor = self._held.pop(job, None)
            if descriptor is not None:
                os.close(descriptor)  # the flock goes with the last descriptor

    def close(self) -> None:
        with self._guard:
            for descriptor in self._held.values():
                os.close(descriptor)
            self._held.clear()


_process_holders: dict[tuple[str, str], object] = {}
_process_guard = threading.Lock()


class InProcessJobLocks:
    """Locks among the schedulers of this process on one database (`place`), for a
    store no other process can open."""

    def __init__(self, place: str) -> None:
        self._place = place
        self._me = object()

    def claim(self, job: str) -> bool:
        with _process_guard:
            holder = _process_holders.setdefault((self._place, job), self._me)
            return holder is self._me

    def release(self, job: str) -> None:
        with _process_guard:
            if _process_holders.get((self._place, job)) is self._me:
                del _process_holders[(self._place, job)]

    def close(self) -> None:
        with _process_guard:
            for key in [k for k, v in _process_holders.items() if v is self._me]:
                del _process_holders[key]

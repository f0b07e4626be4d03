"""Which process runs a scheduled job when several share one store (ADR/0013).

Every process that serves a store runs the same scheduler with the same jobs; a job's
lock says which of them does the job's work. A process keeps a lock it took until it
releases it, closes, or ends, so one process runs the job turn after turn and another
takes over at its next turn only once the first is gone.
"""

from typing import Protocol


class JobLocks(Protocol):
    """The locks of the jobs of one store, one holder for each at a time."""

    def claim(self, job: str) -> bool:
        """Whether this process runs the job at this turn: it holds the job's lock, or
        took it now. Never waits; False when another process holds the lock, or when
        the lock's own store cannot be reached (the job waits for its next turn)."""

    def release(self, job: str) -> None:
        """Let another process take the job; nothing when this process does not hold it."""

    def close(self) -> None:
        """Release every lock this process holds."""

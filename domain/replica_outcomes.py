"""What a device does with the server's answer to each operation it sent.

Treating every failure as temporary stalls the queue behind a bad operation
(Replicache #336); treating an unanswered request as done loses it (powersync-kotlin
#340). So every answer is classed (ADR/0024): transient ones are tried again later with
the queue's order kept, permanent ones are set aside with the server's message while the
queue moves on, conflicts go to the inbox, and a record the server no longer has (or
no longer lets the device see) is gone, as a server delete is.
"""

import enum
from datetime import datetime, timedelta

from calldesk.domain.errors import InvalidValue

FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(minutes=5)


class OutcomeClass(enum.Enum):
    APPLIED = "applied"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    CONFLICT = "conflict"
    GONE = "gone"
    SESSION_EXPIRED = "session-expired"  # renew the token once and send again


#: The server's problem types (adapters/http/problems.py) and what each means here.
_PROBLEMS = {
    "edit-conflict": OutcomeClass.CONFLICT,
    "delete-conflict": OutcomeClass.CONFLICT,
    "not-found": OutcomeClass.GONE,
    "record-refused": OutcomeClass.PERMANENT,
    "invalid-value": OutcomeClass.PERMANENT,
    "already-exists": OutcomeClass.PERMANENT,
    "refused": OutcomeClass.PERMANENT,
    "forbidden": OutcomeClass.PERMANENT,
}
_RETRIED_STATUSES = frozenset({408, 425, 429})


def classified(status: int | None, problem_type: str | None = None) -> OutcomeClass:
    """The class of an answer: its HTTP status (None when no answer came: a timeout, a
    lost connection) and its problem document's type."""
    if status is None:
        return OutcomeClass.TRANSIENT
    if not 100 <= status <= 599:
        raise InvalidValue(f"{status} is no HTTP status")
    if status < 300:
        return OutcomeClass.APPLIED
    if status == 401:
        return OutcomeClass.SESSION_EXPIRED
    if status >= 500 or status in _RETRIED_STATUSES:
        return OutcomeClass.TRANSIENT
    if problem_type in _PROBLEMS:
        return _PROBLEMS[problem_type]
    if status == 404:
        return OutcomeClass.GONE
    return OutcomeClass.PERMANENT


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after this many failed attempts: doubling from a second, at
    most five minutes, so a long outage costs a request every few minutes."""
    if attempts < 1:
        raise InvalidValue(f"a retry follows at least one attempt, not {attempts}")
    doublings = min(attempts - 1, 32)  # past the longest delay long before 32
    return min(FIRST_RETRY * (1 << doublings), LONGEST_RETRY)


def next_attempt_at(failed_at: datetime, attempts: int) -> datetime:
    """When an operation that failed transiently is sent again; persisted with it, so
    it is retried on time and not only at the next local write (powersync-native #15)."""
    return failed_at + retry_delay(attempts)

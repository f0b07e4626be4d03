"""What an auditor reads of a tenant's third-party apps: every refusal the proxy frame
or the server made, with its app, origin, agent and reason, and never a secret
(docs/proxy.md, ADR/0031).

One log per tenant, one event a refusal: the events themselves are the list, read in
pages by version, so the aggregate keeps nothing but its count.
"""

import enum
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from calldesk.domain.errors import DomainError
from calldesk.domain.identity import checked_text, stable_id

DETAIL_MAX_LENGTH = 200
ORIGIN_MAX_LENGTH = 300


class RefusalReason(enum.Enum):
    """Why a message or a request of an app was refused; the app sees no more."""

    WRONG_SOURCE = "wrong-source"
    WRONG_ORIGIN = "wrong-origin"
    UNKNOWN_APP = "unknown-app"
    NOT_RUNNABLE = "not-runnable"
    BAD_KEY = "bad-key"
    MALFORMED = "malformed"
    UNSUPPORTED_VERSION = "unsupported-version"
    CHANNEL_NOT_READY = "channel-not-ready"
    DUPLICATE_REQUEST_ID = "duplicate-request-id"
    ENDPOINT_NOT_ALLOWED = "endpoint-not-allowed"
    BAD_PATH = "bad-path"
    BAD_HEADER = "bad-header"
    TOO_LARGE = "too-large"
    RATE_LIMITED = "rate-limited"
    SCOPE_NOT_GRANTED = "scope-not-granted"
    SESSION_ENDED = "session-ended"


class RefusedWhere(enum.Enum):
    BROWSER = "browser"
    SERVER = "server"


class AppDenied(DomainError):
    """An app's request or handshake refused by its registration; the message is
    generic, the reason is the security event's."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RateLimited(AppDenied):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            RefusalReason.RATE_LIMITED,
            f"this app asked too often; try again in {retry_after_seconds} s",
        )
        self.retry_after_seconds = retry_after_seconds


class SecurityLog(Aggregate):
    """The refusals of one tenant's apps, in the order they were recorded."""

    TOPIC = "calldesk.app_refusals.SecurityLog"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.app_refusals.Event"

    class Refused(Event):
        """One refusal, or several alike in a row (`repeats` more than the first)."""

        TOPIC = "calldesk.app_refusals.Refused"
        app: str | None
        origin: str | None
        agent: str | None
        reason: RefusalReason
        where: RefusedWhere
        detail: str
        repeats: int

        def apply(self, log: "SecurityLog") -> None:
            log.count += 1

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_id("security-log", tenant)

    @event("Started", topic="calldesk.app_refusals.Started")
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.count = 0

    def record(
        self,
        app: str | None,
        origin: str | None,
        agent: str | None,
        reason: RefusalReason,
        where: RefusedWhere,
        detail: str,
        repeats: int,
        at: datetime,
    ) -> None:
        """Texts that arrive from a browser are cut to length and cleaned, never
        refused: a refusal is always recorded."""
        self.trigger_event(
            self.Refused,
            app=None if app is None else _printable(app, 64),
            origin=None if origin is None else _printable(origin, ORIGIN_MAX_LENGTH),
            agent=agent,
            reason=reason,
            where=where,
            detail=_printable(detail, DETAIL_MAX_LENGTH) if detail.strip() else "",
            repeats=repeats,
            timestamp=at,
        )


def _printable(text: str, max_length: int) -> str:
    cleaned = "".join(c if c.isprintable() else "?" for c in text[:max_length])
    return checked_text(cleaned or "?", "a refusal's text", max_length)

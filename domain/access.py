"""Bearer tokens: who a browser acts for, whose events it may watch, and until when.

A token is an opaque random secret held by one agent of one tenant. Only its SHA-256
digest ever reaches the store, and the token's id is derived from the digest, so the
secret itself finds its token and nothing else can (ADR/0009). A token may be a device's
of its agent (a laptop's or tablet's replica): it syncs the agent's records, and reaches
nothing else (ADR/0025).
"""

import enum
import hashlib
import re
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from calldesk.domain.errors import DomainError, InvalidValue
from calldesk.domain.identity import checked_slug, stable_id

SECRET_MIN_LENGTH = 32
SECRET_MAX_LENGTH = 200
#: Tokens always expire; a year is the longest a lost secret stays usable.
MAX_TOKEN_DAYS = 365
#: Beyond this many supervised agents, a supervisor is given all agents instead.
MAX_SUPERVISED = 500

#: What a bearer token may hold and still travel in an Authorization header (RFC 6750).
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")
_DIGEST = re.compile(r"[0-9a-f]{64}")


class Unauthorized(DomainError):
    """The bearer token does not let its holder in: unknown, expired or revoked."""


class Role(enum.Enum):
    """What a token's holder is to the other agents of the tenant."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    #: Manages the tenant's third-party apps (ADR/0031); watches no one but themselves.
    ADMINISTRATOR = "administrator"


class Area(enum.Enum):
    """What a request reaches, as far as tokens care (ADR/0025)."""

    #: CRM records: their schemas, reads, writes, history, change feed and batches.
    RECORDS = "records"
    #: Everything else of the agent's: presence, calls, dialing, the call log, the
    #: directory, the workspace, the feed and the agent's event stream.
    DESK = "desk"


def reaches(device: str | None, area: Area) -> bool:
    """A device token syncs its agent's records and nothing else: a stolen tablet's
    replica must not answer, dial or follow the agent's calls."""
    return device is None or area is Area.RECORDS


def checked_device(name: str) -> str:
    """A device's name, unique among its agent's devices, like "laptop-3"."""
    return checked_slug(name, "a device name")


def checked_secret(secret: str) -> str:
    """A secret good enough to issue: long enough not to be guessed, sendable as is."""
    if not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
        raise InvalidValue(
            f"a token secret is {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters "
            f"long, not {len(secret)}; make one with secrets.token_urlsafe(32)"
        )
    if not _TOKEN68.fullmatch(secret):
        raise InvalidValue(
            "a token secret may hold only letters, digits and - . _ ~ + / "
            "(with = at the end); make one with secrets.token_urlsafe(32)"
        )
    return secret


def token_digest(secret: str) -> str:
    """The hex SHA-256 of the secret: what is stored and looked up instead of it."""
    return hashlib.sha256(secret.encode()).hexdigest()


def watches(
    holder: str, role: Role, supervises: Collection[str], all_agents: bool, agent: str
) -> bool:
    """Whose event stream a token's holder may follow: their own, and a supervisor's
    agents. Always within the token's tenant."""
    if agent == holder:
        return True
    return role is Role.SUPERVISOR and (all_agents or agent in supervises)


def checked_supervision(
    agent: str,
    role: Role,
    supervises: Collection[str],
    all_agents: bool,
    device: str | None = None,
) -> tuple[str, ...]:
    """The agents a token supervises: none for an agent or a device; for a supervisor,
    a list of handles or every agent of the tenant, never both and never neither."""
    handles = tuple(checked_slug(handle, "a supervised agent") for handle in supervises)
    if device is not None and role is not Role.AGENT:
        raise InvalidValue(
            f"device {device} of {agent} syncs records and watches no one; "
            f"issue its token without --{role.value}"
        )
    if role is not Role.SUPERVISOR:
        if handles or all_agents:
            raise InvalidValue(
                f"an {role.value} token lets {agent} watch only themselves; "
                "issue a supervisor token to watch other agents"
            )
        return ()
    if all_agents and handles:
        raise InvalidValue(
            "a supervisor token watches either all agents or the listed ones, not both"
        )
    if not all_agents and not handles:
        raise InvalidValue(
            "a supervisor token needs the agents it supervises, or all agents"
        )
    if len(handles) > MAX_SUPERVISED:
        raise InvalidValue(
            f"{len(handles)} supervised agents listed; at most {MAX_SUPERVISED} "
            "are allowed, or give the supervisor all agents"
        )
    repeated = sorted({handle for handle in handles if handles.count(handle) > 1})
    if repeated:
        raise InvalidValue(f"supervised agents listed twice: {', '.join(repeated)}")
    return handles


def checked_lifetime(issued_at: datetime, expires_at: datetime) -> datetime:
    """When a token stops working: after it is issued, and within a year."""
    for name, value in (("issued_at", issued_at), ("expires_at", expires_at)):
        if value.utcoffset() is None:
            raise InvalidValue(f"{name} must be a timezone-aware date and time")
    if expires_at <= issued_at:
        raise InvalidValue(
            f"a token must expire after it is issued ({issued_at.isoformat()}), "
            f"not at {expires_at.isoformat()}"
        )
    if expires_at - issued_at > timedelta(days=MAX_TOKEN_DAYS):
        raise InvalidValue(
            f"a token expires at most {MAX_TOKEN_DAYS} days after it is issued; "
            "issue a new one when it runs out"
        )
    return expires_at


class AccessToken(Aggregate):
    """One bearer token of one agent, or of one device of the agent: its role, whom it
    watches, and its lifetime."""

    TOPIC = "calldesk.access.AccessToken"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.access.Event"

    class Issued(Event, Aggregate.Created):
        """Version 2 names the device a token is for; tokens issued before were all
        agents' own."""

        TOPIC = "calldesk.access.Issued"
        class_version = 2
        digest: str
        tenant: str
        agent: str
        role: Role
        supervises: tuple[str, ...]
        all_agents: bool
        expires_at: datetime
        device: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["device"] = None

    @staticmethod
    def create_id(digest: str) -> UUID:
        return stable_id("token", digest)

    @classmethod
    def issue(
        cls,
        digest: str,
        tenant: str,
        agent: str,
        role: Role,
        supervises: Collection[str],
        all_agents: bool,
        at: datetime,
        expires_at: datetime,
        device: str | None = None,
    ) -> "AccessToken":
        """A new token for the secret with this digest, once its grant passes the rules;
        with a device, the token is that device's, acting for its agent."""
        if not _DIGEST.fullmatch(digest):
            # Guards the one mistake that would store a secret: passing it for its digest.
            raise InvalidValue(
                "a token is issued with token_digest(secret), never the secret"
            )
        agent = checked_slug(agent, "an agent handle")
        if device is not None:
            device = checked_device(device)
        return cls(
            digest=digest,
            tenant=checked_slug(tenant, "a tenant"),
            agent=agent,
            role=role,
            supervises=checked_supervision(agent, role, supervises, all_agents, device),
            all_agents=all_agents,
            expires_at=checked_lifetime(at, expires_at),
            device=device,
            timestamp=at,
        )

    @event(Issued)
    def __init__(
        self,
        digest: str,
        tenant: str,
        agent: str,
        role: Role,
        supervises: tuple[str, ...],
        all_agents: bool,
        expires_at: datetime,
        device: str | None,
        timestamp: datetime,
    ) -> None:
        self.digest = digest
        self.tenant = tenant
        self.agent = agent
        self.role = role
        self.supervises = tuple(supervises)
        self.all_agents = all_agents
        self.device = device
        self.issued_at = timestamp
        self.expires_at = expires_at
        self.revoked_at: datetime | None = None

    def __str__(self) -> str:
        if self.device is not None:
            return (
                f"the token of device {self.device} of agent {self.agent} "
                f"in tenant {self.tenant}"
            )
        return f"the token of agent {self.agent} in tenant {self.tenant}"

    def check(self, at: datetime) -> None:
        """Refuses a token that no longer lets its holder in; the instant of expiry is
        already too late."""
        if self.revoked_at is not None:
            raise Unauthorized(
                f"{self} was revoked at {self.revoked_at.isoformat()}; issue a new one"
            )
        if at >= self.expires_at:
            raise Unauthorized(
                f"{self} expired at {self.expires_at.isoformat()}; issue a new one"
            )

    def may_watch(self, agent: str) -> bool:
        return watches(self.agent, self.role, self.supervises, self.all_agents, agent)

    def revoke(self, at: datetime) -> None:
        """Stop the token for good; revoking it again changes nothing."""
        if self.revoked_at is None:
            self._revoked(timestamp=at)

    @event("Revoked", topic="calldesk.access.Revoked")
    def _revoked(self, timestamp: datetime) -> None:
        self.revoked_at = timestamp


class AgentTokens(Aggregate):
    """The ids of the tokens issued to one agent and its devices: what lists them, as
    a token is otherwise found only by its secret (ADR/0025)."""

    TOPIC = "calldesk.access.AgentTokens"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.access.AgentTokensEvent"

    @staticmethod
    def create_id(tenant: str, agent: str) -> UUID:
        return stable_id("agent-tokens", tenant, agent)

    @event("Started", topic="calldesk.access.AgentTokensStarted")
    def __init__(self, tenant: str, agent: str) -> None:
        self.tenant = tenant
        self.agent = agent
        self.token_ids: list[UUID] = []

    def __str__(self) -> str:
        return f"the tokens of agent {self.agent} in tenant {self.tenant}"

    def add(self, token: AccessToken) -> None:
        self._token_added(token_id=token.id)

    @event("TokenAdded", topic="calldesk.access.TokenAdded")
    def _token_added(self, token_id: UUID) -> None:
        self.token_ids.append(token_id)

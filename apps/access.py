"""Use cases of access: issue, list and revoke the bearer tokens of an agent and of its
devices, and authenticate one.

The secret arrives beside the command, never in it, so it cannot be logged or stored
with the command; only its digest goes further (ADR/0009, ADR/0025).
"""

from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.persistence import IntegrityError

from calldesk.apps.aggregates import agent_named
from calldesk.apps.client_apps import AppGrant, ClientApps
from calldesk.apps.commands import AgentCommand, TenantCommand, instant
from calldesk.apps.unit_of_work import Service, UnitOfWork, writes
from calldesk.domain.access import (
    SECRET_MAX_LENGTH,
    SECRET_MIN_LENGTH,
    AccessToken,
    AgentTokens,
    Area,
    Role,
    Unauthorized,
    checked_device,
    checked_secret,
    reaches,
    token_digest,
    watches,
)
from calldesk.domain.errors import AlreadyExists, InvalidValue, NotFound
from calldesk.domain.identity import checked_slug

#: The one answer to every token that does not let its holder in: which of the three
#: it was would tell a guesser that a secret exists.
NOT_AUTHENTICATED = "the bearer token is unknown, expired or revoked"


def _handles(_: Any, __: Any, value: tuple[str, ...]) -> None:
    for handle in value:
        checked_slug(handle, "a supervised agent")


def _device(_: Any, __: Any, value: str | None) -> None:
    if value is not None:
        checked_device(value)


@attrs.frozen
class IssueToken(AgentCommand):
    """A token for this agent, or for one of its devices; the secret is passed to
    issue_token beside it."""

    role: Role = attrs.field(
        default=Role.AGENT, validator=attrs.validators.instance_of(Role)
    )
    supervises: tuple[str, ...] = attrs.field(default=(), validator=_handles)
    all_agents: bool = False
    expires_at: datetime = attrs.field(validator=instant, kw_only=True)
    device: str | None = attrs.field(default=None, validator=_device, kw_only=True)


@attrs.frozen
class RevokeToken(TenantCommand):
    """Stop a token of this tenant; the secret is passed to revoke_token beside it."""


@attrs.frozen
class TokenView:
    """A token as the CLI shows it: everything but its secret and digest. Its id, a
    uuid5 of the digest, reveals neither."""

    tenant: str
    agent: str
    role: Role
    supervises: tuple[str, ...]
    all_agents: bool
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    version: int
    device: str | None
    token_id: str

    @classmethod
    def of(cls, token: AccessToken) -> "TokenView":
        return cls(
            tenant=token.tenant,
            agent=token.agent,
            role=token.role,
            supervises=tuple(token.supervises),
            all_agents=token.all_agents,
            issued_at=token.issued_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            version=token.version,
            device=token.device,
            token_id=str(token.id),
        )


@attrs.frozen
class Principal:
    """Who a request comes from: one agent of one tenant, or one device of the agent,
    whom it may watch, and until when its token lets it in (a stream that outlives
    its request ends then)."""

    tenant: str
    agent: str
    role: Role
    supervises: tuple[str, ...]
    all_agents: bool
    device: str | None = None
    expires_at: datetime = attrs.field(kw_only=True)
    #: The agent's token this came with, directly or through an app session.
    token_id: UUID | None = attrs.field(default=None, kw_only=True)
    #: Set for an app session: the request is the app's, within its registration.
    app: AppGrant | None = attrs.field(default=None, kw_only=True)

    def may_watch(self, agent: str) -> bool:
        """Within the principal's tenant only: handles of other tenants mean nothing."""
        return watches(self.agent, self.role, self.supervises, self.all_agents, agent)

    def may_reach(self, area: Area) -> bool:
        """A device's token reaches its agent's records only (ADR/0025)."""
        return reaches(self.device, area)


class Access(Service):
    """Bearer tokens: issued per agent or per device, listed, revoked, and checked on
    every request, as are the app sessions opened under them (ADR/0031)."""

    def __init__(self, work: UnitOfWork, app_sessions: ClientApps) -> None:
        super().__init__(work)
        self.app_sessions = app_sessions

    @writes
    def issue_token(self, command: IssueToken, secret: str) -> TokenView:
        """A token for an agent of the tenant, or for one of its devices, and for agents
        it supervises by name; listed with the agent's other tokens."""
        token = AccessToken.issue(
            token_digest(checked_secret(secret)),
            command.tenant,
            command.agent,
            command.role,
            command.supervises,
            command.all_agents,
            command.at,
            command.expires_at,
            command.device,
        )
        for handle in (command.agent, *command.supervises):
            agent_named(self.work, command.tenant, handle)
        exists = "this secret is already a token; make a new secret"
        if self.work.exists(token.id):
            raise AlreadyExists(exists)
        listed_id = AgentTokens.create_id(command.tenant, command.agent)
        listed = self.work.find(AgentTokens, listed_id) or AgentTokens(
            tenant=command.tenant, agent=command.agent
        )
        listed.add(token)
        try:
            self.work.save(token, listed)  # one transaction: never a token unlisted
        except IntegrityError:
            raise AlreadyExists(exists) from None
        return TokenView.of(token)

    def tokens(self, tenant: str, agent: str) -> tuple[TokenView, ...]:
        """The agent's tokens and its devices', revoked and expired too, oldest first;
        those issued before tokens were listed (ADR/0025) are not among them."""
        agent_named(self.work, tenant, agent)
        listed = self.work.find(AgentTokens, AgentTokens.create_id(tenant, agent))
        if listed is None:
            return ()
        missing = f"a token of {listed} is missing"
        return tuple(
            TokenView.of(self.work.load(AccessToken, token_id, missing))
            for token_id in listed.token_ids
        )

    @writes
    def revoke_token(self, command: RevokeToken, secret: str) -> TokenView:
        token = self.work.change(
            lambda: self._token(command.tenant, secret),
            lambda token: token.revoke(command.at),
        )
        return TokenView.of(token)

    def authenticate(self, secret: str, at: datetime) -> Principal:
        """The principal of a token that lets its holder in at this instant.

        Refused with one message whatever the reason; a secret of the wrong length is
        refused without asking the store.
        """
        if at.utcoffset() is None:
            raise InvalidValue("at must be a timezone-aware date and time")
        if not SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH:
            raise Unauthorized(NOT_AUTHENTICATED)
        digest = token_digest(secret)
        token = self.work.find(AccessToken, AccessToken.create_id(digest))
        try:
            if token is None:
                return self._app_principal(digest, at)
            token.check(at)
        except Unauthorized:
            raise Unauthorized(NOT_AUTHENTICATED) from None
        return Principal(
            tenant=token.tenant,
            agent=token.agent,
            role=token.role,
            supervises=tuple(token.supervises),
            all_agents=token.all_agents,
            device=token.device,
            expires_at=token.expires_at,
            token_id=token.id,
        )

    def _app_principal(self, digest: str, at: datetime) -> Principal:
        """An app session acts for its agent, as an agent and never as a supervisor,
        and only within its app's registration."""
        session = self.app_sessions.session_of(digest, at)
        if session is None:
            raise Unauthorized(NOT_AUTHENTICATED)
        return Principal(
            tenant=session.tenant,
            agent=session.agent,
            role=Role.AGENT,
            supervises=(),
            all_agents=False,
            expires_at=session.expires_at,
            token_id=session.token_id,
            app=AppGrant(session.app, session.id, session.origin),
        )

    def _token(self, tenant: str, secret: str) -> AccessToken:
        checked_slug(tenant, "a tenant")
        missing = f"no token with this secret in tenant {tenant}"
        token_id = AccessToken.create_id(token_digest(checked_secret(secret)))
        token = self.work.load(AccessToken, token_id, missing)
        if token.tenant != tenant:
            raise NotFound(missing)
        return token

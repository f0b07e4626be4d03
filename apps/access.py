"""Use cases of access: issue and revoke an agent's bearer tokens, and authenticate one.

The secret arrives beside the command, never in it, so it cannot be logged or stored
with the command; only its digest goes further (ADR/0009).
"""

from datetime import datetime
from typing import Any

import attrs

from calldesk.apps.aggregates import agent_named
from calldesk.apps.commands import AgentCommand, TenantCommand, instant
from calldesk.apps.unit_of_work import Service, writes
from calldesk.domain.access import (
    SECRET_MAX_LENGTH,
    SECRET_MIN_LENGTH,
    AccessToken,
    Role,
    Unauthorized,
    checked_secret,
    token_digest,
    watches,
)
from calldesk.domain.errors import InvalidValue, NotFound
from calldesk.domain.identity import checked_slug

#: The one answer to every token that does not let its holder in: which of the three
#: it was would tell a guesser that a secret exists.
NOT_AUTHENTICATED = "the bearer token is unknown, expired or revoked"


def _handles(_: Any, __: Any, value: tuple[str, ...]) -> None:
    for handle in value:
        checked_slug(handle, "a supervised agent")


@attrs.frozen
class IssueToken(AgentCommand):
    """A token for this agent; the secret is passed to issue_token beside it."""

    role: Role = attrs.field(
        default=Role.AGENT, validator=attrs.validators.instance_of(Role)
    )
    supervises: tuple[str, ...] = attrs.field(default=(), validator=_handles)
    all_agents: bool = False
    expires_at: datetime = attrs.field(validator=instant, kw_only=True)


@attrs.frozen
class RevokeToken(TenantCommand):
    """Stop a token of this tenant; the secret is passed to revoke_token beside it."""


@attrs.frozen
class TokenView:
    """A token as the CLI shows it: everything but its secret and digest."""

    tenant: str
    agent: str
    role: Role
    supervises: tuple[str, ...]
    all_agents: bool
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    version: int

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
        )


@attrs.frozen
class Principal:
    """Who a request comes from: one agent of one tenant, and whom it may watch."""

    tenant: str
    agent: str
    role: Role
    supervises: tuple[str, ...]
    all_agents: bool

    def may_watch(self, agent: str) -> bool:
        """Within the principal's tenant only: handles of other tenants mean nothing."""
        return watches(self.agent, self.role, self.supervises, self.all_agents, agent)


class Access(Service):
    """Bearer tokens: issued per agent, revoked, and checked on every request."""

    @writes
    def issue_token(self, command: IssueToken, secret: str) -> TokenView:
        """A token for an agent of the tenant, and for agents it supervises by name."""
        token = AccessToken.issue(
            token_digest(checked_secret(secret)),
            command.tenant,
            command.agent,
            command.role,
            command.supervises,
            command.all_agents,
            command.at,
            command.expires_at,
        )
        for handle in (command.agent, *command.supervises):
            agent_named(self.work, command.tenant, handle)
        return TokenView.of(
            self.work.create(token, "this secret is already a token; make a new secret")
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
        token = self.work.find(AccessToken, AccessToken.create_id(token_digest(secret)))
        if token is None:
            raise Unauthorized(NOT_AUTHENTICATED)
        try:
            token.check(at)
        except Unauthorized:
            raise Unauthorized(NOT_AUTHENTICATED) from None
        return Principal(
            tenant=token.tenant,
            agent=token.agent,
            role=token.role,
            supervises=tuple(token.supervises),
            all_agents=token.all_agents,
        )

    def _token(self, tenant: str, secret: str) -> AccessToken:
        checked_slug(tenant, "a tenant")
        missing = f"no token with this secret in tenant {tenant}"
        token_id = AccessToken.create_id(token_digest(checked_secret(secret)))
        token = self.work.load(AccessToken, token_id, missing)
        if token.tenant != tenant:
            raise NotFound(missing)
        return token

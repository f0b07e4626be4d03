"""Who is asking: the bearer token's principal, and what it may touch.

Checked before any handler runs, the same way on every route: `who` (the token's
principal), and for commands `acting` (the token's own agent, in the path).
"""

from typing import Any

import attrs
from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath

from calldesk.adapters.http.problems import Forbidden
from calldesk.apps.access import Principal
from calldesk.apps.desk import Desk
from calldesk.domain.access import Unauthorized
from calldesk.ports.clock import Clock


def principal(request: Request[Any, Any, Any]) -> Principal:
    """The token's principal; every request is scoped to its tenant and agent."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        raise Unauthorized("send a bearer token: Authorization: Bearer <token>")
    desk: Desk = request.app.state.desk
    clock: Clock = request.app.state.clock
    return desk.authenticate(secret.strip(), clock.now())


def acting_as(who: Principal, agent: str) -> str:
    """Commands are the token's own agent's: a supervisor watches, never acts."""
    if agent != who.agent:
        raise Forbidden(f"this token acts for agent {who.agent} only, not {agent}")
    return agent


def watching(who: Principal, agent: str) -> str:
    if not who.may_watch(agent):
        raise Forbidden(f"this token may not watch agent {agent}")
    return agent


@attrs.frozen
class AgentAction:
    """Who acts (the token's own agent), in which tenant, and when: the fields every
    agent's command starts with."""

    fields: dict[str, Any]


def acting(
    request: Request[Any, Any, Any], who: NamedDependency[Principal], agent: FromPath[str]
) -> AgentAction:
    """The path's agent, which must be the token's own, stamped with the connector's
    clock."""
    clock: Clock = request.app.state.clock
    return AgentAction(
        {"tenant": who.tenant, "agent": acting_as(who, agent), "at": clock.now()}
    )


Acting = NamedDependency[AgentAction]

"""Who is asking: the bearer token's principal, and what it may touch."""

from typing import Any

from litestar import Request

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

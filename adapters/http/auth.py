"""Who is asking: the bearer token's principal, and what it may touch.

Checked before any handler runs and before its body is decoded, the same way on every
route: `who` (the token's principal), what the route reaches (a device's token reaches
records only, ADR/0025), and for commands `acting` (the token's own agent, in the path).
"""

import asyncio
from typing import Any

import attrs
from litestar import Request
from litestar.di import NamedDependency
from litestar.params import FromPath

from calldesk.adapters.http.front_door import STATE_CHANGING
from calldesk.adapters.http.problems import Forbidden
from calldesk.adapters.http.strict_bodies import checked_body
from calldesk.apps.access import Principal
from calldesk.apps.desk import Desk
from calldesk.domain.access import Area, Unauthorized
from calldesk.ports.clock import Clock

#: The parameters by which a handler names who is asking: its route takes a token.
ASKING = frozenset({"who", "acting", "about"})

#: The key of a router's or route's `opt` that says whether a request made with an app
#: session may reach it: by default when the app's registration names it (ADR/0031);
#: never (False) for the apps' own routes and the streams; `OWN_SESSION` for the route
#: by which a session ends itself.
PROXIABLE = "proxiable"
OWN_SESSION = "own-session"

#: The key of a router's or route's `opt` that says what it reaches; a route that does
#: not say reaches the agent's desk, so a new route is closed to devices until it says.
AREA = "area"


async def checked_first(request: Request[Any, Any, Any]) -> None:
    """Before anything else of a route that takes a token, in this order: the token,
    what the route reaches, the agent of the path (its own to act on, one it may watch
    to read), the body."""
    handler = request.route_handler
    if not ASKING & handler.parsed_fn_signature.parameters.keys():
        return  # pages, the schema, health, webhooks (signed), metrics
    request.state.who = await asyncio.to_thread(admitted, request)
    data = handler.parsed_data_field
    checked_body(await request.body(), None if data is None else data.annotation)


def admitted(request: Request[Any, Any, Any]) -> Principal:
    """The token's principal if it lets its holder into the route now: checked before
    the handler, and again while a stream the route serves lasts (StreamSession)."""
    who = _authenticated(request)
    if who.app is not None:
        proxied(request, who)
    reaching(who, request.route_handler.opt.get(AREA, Area.DESK))
    agent = request.path_params.get("agent")
    if agent is not None:
        changing = request.method in STATE_CHANGING
        (acting_as if changing else watching)(who, agent)
    return who


def _authenticated(request: Request[Any, Any, Any]) -> Principal:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret:
        raise Unauthorized("send a bearer token: Authorization: Bearer <token>")
    desk: Desk = request.app.state.desk
    clock: Clock = request.app.state.clock
    return desk.authenticate(secret.strip(), clock.now())


def proxied(request: Request[Any, Any, Any], who: Principal) -> None:
    """A request of an app session goes where its registration lets it, and nowhere
    else: the server checks again what the proxy frame checked (docs/proxy.md)."""
    assert who.app is not None
    proxiable = request.route_handler.opt.get(PROXIABLE, True)
    if proxiable == OWN_SESSION:
        return
    query = request.scope.get("query_string", b"")
    path = request.scope.get("raw_path", request.scope["path"].encode()).decode("latin-1")
    desk: Desk = request.app.state.desk
    clock: Clock = request.app.state.clock
    desk.check_app_request(
        who.tenant,
        who.agent,
        who.app,
        request.method,
        f"{path}?{query.decode('latin-1')}" if query else path,
        clock.now(),
        # An app acts for its own agent only: asking about another is recorded too.
        reachable=proxiable is True
        and request.path_params.get("agent", who.agent) == who.agent,
    )


def principal(request: Request[Any, Any, Any]) -> Principal:
    """The token's principal, as checked first; every request is scoped to its tenant
    and agent."""
    who: Principal = request.state.who
    return who


def reaching(who: Principal, area: Area) -> None:
    """A device's token syncs its agent's records; the phone, the calls and the rest
    of the desk take the agent's own token (ADR/0025)."""
    if not who.may_reach(area):
        raise Forbidden(
            f"this token is device {who.device}'s of agent {who.agent}, and a device "
            "token syncs records only: schemas, records and their history, the change "
            "feed and batches; this route takes the agent's own token"
        )


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
    """The path's agent, the token's own (checked first), stamped with the connector's
    clock."""
    clock: Clock = request.app.state.clock
    return AgentAction({"tenant": who.tenant, "agent": agent, "at": clock.now()})


Acting = NamedDependency[AgentAction]

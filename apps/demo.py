"""The demo's script: a tenant, an agent, and a shift's presence changes, for real.

It runs against the configured store like any client would, and is safe to run again:
what exists is reused, and the agent's round trip starts from whatever state it is in.
"""

from collections.abc import Callable, Iterator
from datetime import datetime

from calldesk.apps.desk import Desk
from calldesk.apps.presence import (
    AgentView,
    GoAvailable,
    GoNotReady,
    LogIn,
    LogOut,
    RegisterAgent,
)
from calldesk.apps.tenancy import CreateTenant
from calldesk.domain.errors import NotFound

DEMO_TENANT = "demo"
DEMO_AGENT = "a-17"


def presence_round_trip(
    desk: Desk, now: Callable[[], datetime]
) -> Iterator[tuple[str, AgentView]]:
    """Each step's caption and the agent as it stands after it."""
    try:
        desk.tenant(DEMO_TENANT)
    except NotFound:
        desk.create_tenant(CreateTenant(DEMO_TENANT, name="Demo Inc.", at=now()))
    try:
        yield "found", desk.agent(DEMO_TENANT, DEMO_AGENT)
    except NotFound:
        command = RegisterAgent(DEMO_TENANT, DEMO_AGENT, name="Ada Lovelace", at=now())
        yield "registered", desk.register_agent(command)
    yield "logged in", desk.log_in(LogIn(DEMO_TENANT, DEMO_AGENT, at=now()))
    yield "ready", desk.go_available(GoAvailable(DEMO_TENANT, DEMO_AGENT, at=now()))
    lunch = GoNotReady(DEMO_TENANT, DEMO_AGENT, reason="lunch", at=now())
    yield "off to lunch", desk.go_not_ready(lunch)
    yield "back", desk.go_available(GoAvailable(DEMO_TENANT, DEMO_AGENT, at=now()))
    yield "logged out", desk.log_out(LogOut(DEMO_TENANT, DEMO_AGENT, at=now()))

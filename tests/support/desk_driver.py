"""Drives a Desk the way every edge does: commands in, views out, the clock passed in."""

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


def tenant_with_agent(
    desk: Desk, at: datetime, tenant: str = "acme", agent: str = "a-17"
) -> AgentView:
    desk.create_tenant(CreateTenant(tenant, name=tenant.title(), at=at))
    return desk.register_agent(RegisterAgent(tenant, agent, name="Ada Lovelace", at=at))


def log_in(
    desk: Desk, at: datetime, tenant: str = "acme", agent: str = "a-17"
) -> AgentView:
    return desk.log_in(LogIn(tenant, agent, at=at))


def ready(desk: Desk, at: datetime, tenant: str = "acme", agent: str = "a-17") -> AgentView:
    return desk.go_available(GoAvailable(tenant, agent, at=at))


def not_ready(
    desk: Desk, reason: str, at: datetime, tenant: str = "acme", agent: str = "a-17"
) -> AgentView:
    return desk.go_not_ready(GoNotReady(tenant, agent, reason=reason, at=at))


def log_out(
    desk: Desk, at: datetime, tenant: str = "acme", agent: str = "a-17"
) -> AgentView:
    return desk.log_out(LogOut(tenant, agent, at=at))

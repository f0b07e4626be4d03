"""The aggregates every service reads, found by their natural keys.

A wrong tenant looks exactly like an unknown id: each lookup names what is missing in
the asker's own tenant and never says that it exists elsewhere.
"""

from datetime import datetime
from uuid import UUID

from calldesk.apps.unit_of_work import UnitOfWork
from calldesk.domain.agents import Agent
from calldesk.domain.calls import Call
from calldesk.domain.errors import InvalidValue, NotFound
from calldesk.domain.identity import checked_slug
from calldesk.domain.telephony_links import TelephonyLink
from calldesk.domain.tenants import Tenant
from calldesk.domain.workspace import Workspace


def tenant_named(work: UnitOfWork, slug: str) -> Tenant:
    checked_slug(slug, "a tenant")
    return work.load(Tenant, Tenant.create_id(slug), f"no tenant {slug}")


def agent_named(work: UnitOfWork, tenant: str, handle: str) -> Agent:
    checked_slug(tenant, "a tenant")
    checked_slug(handle, "an agent handle")
    return work.load(
        Agent, Agent.create_id(tenant, handle), f"no agent {handle} in tenant {tenant}"
    )


def call_id(call: str) -> UUID:
    try:
        return UUID(call)
    except ValueError:
        raise InvalidValue(f"{call!r} is not a call id") from None


def call_in(work: UnitOfWork, tenant: str, call: str) -> Call:
    found = work.find(Call, call_id(call))
    if found is None or found.tenant != tenant:
        raise NotFound(f"no call {call} in tenant {tenant}")
    return found


def workspace_of(work: UnitOfWork, tenant: str, agent: str, at: datetime) -> Workspace:
    """The agent's workspace, started empty the first time it is needed."""
    found = work.find(Workspace, Workspace.create_id(tenant, agent))
    return found or Workspace.start(tenant, agent, at)


def link_of(work: UnitOfWork, tenant: str, vendor: str, at: datetime) -> TelephonyLink:
    """The tenant's link with a phone system, started the first time it is heard."""
    found = work.find(TelephonyLink, TelephonyLink.create_id(tenant, vendor))
    return found or TelephonyLink(tenant=tenant, vendor=vendor, timestamp=at)

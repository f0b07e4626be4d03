"""An agent's softphone advanced event by event from the log equals the softphone read
as of each position: also for a call that rang someone else first, for a call that
ended, and from before the agent existed (SQLite and a real PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import pytest
from support.desk_driver import log_in, ready, tenant_with_agent

from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.domain.errors import NotFound
from calldesk.domain.signals import CallSignal, Party, SignalKind

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
K = SignalKind


def signal(
    n: int, kind: SignalKind, agent: str | None = None, **more: object
) -> CallSignal:
    at = START + timedelta(seconds=10 * n)
    return CallSignal("pbx", f"e-{n}", "c-1", kind, at, agent=agent, **more)  # type: ignore[arg-type]


def test_a_call_that_rang_another_agent_first_is_followed_from_its_offer_on(
    desk: Desk,
) -> None:
    tenant_with_agent(desk, START, agent="a-1")
    desk.register_agent(RegisterAgent("acme", "a-2", name="Bo", at=START))
    for agent in ("a-1", "a-2"):
        log_in(desk, START, agent=agent)
        ready(desk, START, agent=agent)
    start = desk.head()
    projection = desk.projection("acme", "a-2", start)
    script = [
        signal(0, K.QUEUED),
        signal(1, K.OFFERED, "a-1"),
        signal(2, K.OFFER_REJECTED, "a-1"),
        signal(3, K.OFFERED, "a-2"),
        signal(4, K.CONNECTED, "a-2"),
        signal(5, K.ENDED, ended_by=Party.CUSTOMER),
    ]
    for heard in script:
        desk.hear("acme", heard, heard.occurred_at)
    concerning = desk.log.read_concerning("acme", "a-2", start, 100)
    first_of_the_call = next(e for e in concerning if e.topic.startswith("calldesk.call."))
    assert first_of_the_call.originator_version > 1  # it rang a-1 before a-2 saw it
    for logged in concerning:
        projection.apply(logged)
        assert projection.view() == desk.softphone("acme", "a-2", as_of=logged.position)
    assert projection.view() == desk.softphone("acme", "a-2")


def test_a_projection_from_before_the_agent_existed_starts_at_its_registration(
    desk: Desk,
) -> None:
    tenant_with_agent(desk, START, agent="a-1")
    before = desk.head()
    desk.register_agent(RegisterAgent("acme", "a-2", name="Bo", at=START))
    log_in(desk, START, agent="a-2")
    projection = desk.projection("acme", "a-2", before)
    assert projection.view() is None
    with pytest.raises(NotFound):
        desk.softphone("acme", "a-2", as_of=before)
    for logged in desk.log.read_concerning("acme", "a-2", before, 100):
        projection.apply(logged)
    assert projection.view() == desk.softphone("acme", "a-2")
    with pytest.raises(NotFound):  # an agent that never existed, at any position
        desk.projection("acme", "a-99", desk.head())

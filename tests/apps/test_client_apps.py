"""Third-party apps through the desk, on SQLite and PostgreSQL: whom their changes
concern, what survives a restart, and how an auditor pages through the refusals
(docs/proxy.md, ADR/0031)."""

import secrets
from datetime import timedelta
from uuid import UUID

from support.client_apps import APP_ORIGIN, installed_app
from support.clock import Clock
from support.desk_driver import tenant_with_agent

from calldesk.apps.access import IssueToken
from calldesk.apps.app_refusals import ReportRefusal
from calldesk.apps.client_apps import AppCommand, OpenAppSession, UninstallApp
from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.domain.app_refusals import RefusalReason, RefusedWhere


def topics_for(desk: Desk, agent: str, after: int) -> list[str]:
    return [e.topic for e in desk.log.read_concerning("acme", agent, after, 100)]


def test_an_apps_changes_reach_the_consoles_of_the_agents_it_was_installed_for(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    desk.register_agent(RegisterAgent("acme", "b-2", name="Bea", at=clock()))
    installed_app(desk, clock())
    head = desk.head()
    desk.suspend_app(AppCommand("acme", app="order-lookup", at=clock.advance()))
    assert topics_for(desk, "a-17", head) == ["calldesk.client_app.StatusChanged"]
    assert topics_for(desk, "b-2", head) == []
    head = desk.head()
    command = UninstallApp("acme", app="order-lookup", agent="a-17", at=clock.advance())
    desk.uninstall_app(command)
    assert topics_for(desk, "a-17", head) == ["calldesk.client_app.Uninstalled"]


def test_an_app_session_outlives_a_restart_and_its_registration_too(
    desk: Desk, database_url: str, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    key = installed_app(desk, clock())
    token = secrets.token_urlsafe(32)
    at = clock()
    issued = desk.issue_token(
        IssueToken("acme", "a-17", at=at, expires_at=at + timedelta(days=1)), token
    )
    secret = secrets.token_urlsafe(32)
    opening = OpenAppSession(
        "acme",
        agent="a-17",
        app="order-lookup",
        origin=APP_ORIGIN,
        token_id=UUID(issued.token_id),
        at=clock.advance(),
    )
    view = desk.open_app_session(opening, key, secret)
    assert view.expires_at == opening.at + timedelta(hours=1)
    with Desk.at(database_url) as restarted:
        who = restarted.authenticate(secret, clock.advance())
        assert who.app is not None
        assert (who.agent, who.app.app, who.app.origin) == (
            "a-17",
            "order-lookup",
            APP_ORIGIN,
        )
        assert restarted.app("acme", "order-lookup") == desk.app("acme", "order-lookup")


def test_an_auditor_pages_through_the_refusals_oldest_first(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    for n in range(5):
        desk.record_app_refusal(
            ReportRefusal(
                "acme",
                app="order-lookup",
                origin=f"https://evil-{n}.example.com",
                agent="a-17",
                reason=RefusalReason.WRONG_ORIGIN,
                where=RefusedWhere.BROWSER,
                detail="hello from a frame that is not registered",
                at=clock.advance(),
            )
        )
    first = desk.app_refusals("acme", after=0, limit=2)
    second = desk.app_refusals("acme", after=first.cursor, limit=2)
    third = desk.app_refusals("acme", after=second.cursor, limit=2)
    origins = [r.origin for page in (first, second, third) for r in page.refusals]
    assert origins == [f"https://evil-{n}.example.com" for n in range(5)]
    assert desk.app_refusals("acme", after=third.cursor).refusals == ()
    assert desk.app_refusals("other", after=0).refusals == ()


def test_what_a_browser_reports_is_cut_and_cleaned_never_refused(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    desk.record_app_refusal(
        ReportRefusal(
            "acme",
            app="x\x00y",
            origin="https://e.example.com\r\nX: 1" + "a" * 500,
            agent="a-17",
            reason=RefusalReason.MALFORMED,
            where=RefusedWhere.BROWSER,
            detail="\u202e" + "d" * 1000,
            at=clock(),
        )
    )
    (refusal,) = desk.app_refusals("acme").refusals
    assert refusal.app == "x?y"
    assert refusal.origin is not None
    assert "\r" not in refusal.origin
    assert len(refusal.origin) <= 300
    assert len(refusal.detail) <= 200


def test_a_flood_of_refusals_from_one_agent_is_counted_not_written_one_by_one(
    desk: Desk, clock: Clock
) -> None:
    tenant_with_agent(desk, clock())
    at = clock()
    for n in range(200):
        desk.record_app_refusal(
            ReportRefusal(
                "acme",
                app=None,
                origin=f"https://forger-{n}.example.com",
                agent="a-17",
                reason=RefusalReason.WRONG_ORIGIN,
                where=RefusedWhere.BROWSER,
                at=at,
            )
        )
    refusals = desk.app_refusals("acme", limit=500).refusals
    assert len(refusals) == 61  # 60 one by one, then one line for the rest
    assert refusals[-1].reason is RefusalReason.WRONG_ORIGIN
    assert refusals[-1].origin is None
    desk.record_app_refusal(
        ReportRefusal(
            "acme",
            app="order-lookup",
            origin="http://127.0.0.1:8766",
            agent="a-17",
            reason=RefusalReason.ENDPOINT_NOT_ALLOWED,
            where=RefusedWhere.SERVER,
            at=at,
        )
    )
    (server,) = desk.app_refusals("acme", after=refusals[-1].position).refusals
    assert server.origin == "http://127.0.0.1:8766"  # the browser's flood hides nothing

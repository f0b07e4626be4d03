"""What the proxy frame and the server refused of a tenant's apps: recorded as
security events, alike ones coalesced, and listed for an auditor (docs/proxy.md,
ADR/0031)."""

import threading
from datetime import datetime, timedelta

import attrs

from calldesk.apps.commands import TenantCommand
from calldesk.apps.unit_of_work import Service, UnitOfWork
from calldesk.domain.app_refusals import RefusalReason, RefusedWhere, SecurityLog
from calldesk.domain.identity import checked_slug
from calldesk.domain.rate_limits import RequestBudget

#: Alike refusals (same app, origin, agent, reason, place) are recorded once in this
#: long, the next with how many were left out: a flood of forged messages cannot
#: flood the log.
REFUSALS_COALESCED_FOR = timedelta(seconds=10)
MAX_REFUSALS_PAGE = 500
#: Past this many refusals a minute for one agent in one place (a forged-message
#: flood, with a new origin in each), alike ones are counted together whatever their
#: origin.
MAX_SEPARATE_REFUSALS_PER_MINUTE = 60
FLOODED = "more than 60 refusals a minute for this agent here: counted together"
#: Beyond this many remembered kinds of refusal, those older than the window go.
MAX_REMEMBERED = 10_000


@attrs.frozen
class Refusal:
    """A recorded refusal: an auditor's line."""

    position: int
    at: datetime
    app: str | None
    origin: str | None
    agent: str | None
    reason: RefusalReason
    where: RefusedWhere
    detail: str
    repeats: int


@attrs.frozen
class RefusalsPage:
    refusals: tuple[Refusal, ...]
    #: Where the next page starts (`after`).
    cursor: int


@attrs.frozen
class ReportRefusal(TenantCommand):
    app: str | None
    origin: str | None
    agent: str | None
    reason: RefusalReason
    where: RefusedWhere
    detail: str = ""


class AppRefusals(Service):
    """The security log of each tenant's apps."""

    def __init__(self, work: UnitOfWork) -> None:
        super().__init__(work)
        self._coalesced: dict[tuple[object, ...], tuple[datetime, int]] = {}
        self._budgets: dict[tuple[str, str | None, RefusedWhere], RequestBudget] = {}
        self._memory = threading.Lock()

    def record(self, report: ReportRefusal) -> None:
        with self.work.writing():
            self.recorded(report)

    def recorded(self, report: ReportRefusal) -> None:
        """Within a command that holds the desk already."""
        with self._memory:
            # The proxy's reports and the server's own are counted apart: reports a
            # browser floods in never hide what the server refused.
            budget = self._budgets.setdefault(
                (report.tenant, report.agent, report.where),
                RequestBudget.full(MAX_SEPARATE_REFUSALS_PER_MINUTE, report.at),
            )
            if budget.take(report.at) is not None:
                report = attrs.evolve(report, origin=None, detail=FLOODED)
            alike = (
                report.tenant,
                report.app,
                report.origin,
                report.agent,
                report.reason,
                report.where,
            )
            if len(self._coalesced) > MAX_REMEMBERED:
                self._forget_before(report.at - REFUSALS_COALESCED_FOR)
            last = self._coalesced.get(alike)
            if last is not None and report.at - last[0] < REFUSALS_COALESCED_FOR:
                self._coalesced[alike] = (last[0], last[1] + 1)
                return
            repeats = 0 if last is None else last[1]
            self._coalesced[alike] = (report.at, 0)
        log_id = SecurityLog.create_id(report.tenant)
        self.work.change(
            lambda: self.work.find(SecurityLog, log_id) or SecurityLog(report.tenant),
            lambda log: log.record(
                report.app,
                report.origin,
                report.agent,
                report.reason,
                report.where,
                report.detail,
                repeats,
                report.at,
            ),
        )

    def _forget_before(self, moment: datetime) -> None:
        for alike, (at, _) in list(self._coalesced.items()):
            if at < moment:
                del self._coalesced[alike]

    def page(self, tenant: str, after: int = 0, limit: int = 100) -> RefusalsPage:
        """The tenant's refusals after the cursor, oldest first."""
        checked_slug(tenant, "a tenant")
        limit = max(1, min(limit, MAX_REFUSALS_PAGE))
        events = self.work.store.events.get(
            SecurityLog.create_id(tenant), gt=max(after, 1), limit=limit
        )
        refusals = tuple(
            Refusal(
                position=event.originator_version,
                at=event.timestamp,
                app=event.app,
                origin=event.origin,
                agent=event.agent,
                reason=event.reason,
                where=event.where,
                detail=event.detail,
                repeats=event.repeats,
            )
            for event in events
            if isinstance(event, SecurityLog.Refused)
        )
        cursor = refusals[-1].position if refusals else max(after, 1)
        return RefusalsPage(refusals, cursor)

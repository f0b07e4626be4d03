"""The call log as a read model: per agent and per record, newest first, paged."""

from uuid import UUID

from calldesk.apps.aggregates import agent_named
from calldesk.apps.call_views import CallLogEntry
from calldesk.apps.unit_of_work import Service
from calldesk.domain.call_logs import CallLogBook
from calldesk.domain.calls import Call
from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import checked_slug
from calldesk.domain.records import RecordRef

PAGE_MAX = 100


class CallLogs(Service):
    """Every call's entry, in the log of each agent it rang and of its record."""

    SNAPSHOTS = {CallLogBook: 100}  # noqa: RUF012 (a book grows with every call)

    def agent_call_log(
        self, tenant: str, agent: str, limit: int = 20, offset: int = 0
    ) -> list[CallLogEntry]:
        agent_named(self.work, tenant, agent)
        return self._page(tenant, f"agent:{agent}", limit, offset)

    def record_call_log(
        self, tenant: str, record: RecordRef, limit: int = 20, offset: int = 0
    ) -> list[CallLogEntry]:
        checked_slug(tenant, "a tenant")
        return self._page(
            tenant, f"record:{record.kind.value}:{record.record_id}", limit, offset
        )

    def _page(self, tenant: str, owner: str, limit: int, offset: int) -> list[CallLogEntry]:
        if not 1 <= limit <= PAGE_MAX or offset < 0:
            raise InvalidValue(f"a page holds 1 to {PAGE_MAX} entries, from offset 0 on")
        book = self.work.find(CallLogBook, CallLogBook.create_id(tenant, owner))
        if book is None:
            return []
        newest_first = list(reversed(book.calls))[offset : offset + limit]
        return [
            CallLogEntry.of(self.work.load(Call, UUID(call), f"no call {call}"))
            for call in newest_first
        ]

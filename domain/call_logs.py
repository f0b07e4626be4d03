"""Where each closed call is listed: one call-log book per agent and per record.

The log entry itself is derived from the call's history when read; the book only keeps
which calls belong to whom, newest last, written once per call in the same save that
marks the call logged, so no call is listed twice.
"""

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from calldesk.domain.identity import stable_id


class CallLogBook(Aggregate):
    TOPIC = "calldesk.calllog.CallLogBook"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.calllog.Event"

    @staticmethod
    def create_id(tenant: str, owner: str) -> UUID:
        """owner is "agent:<handle>" or "record:<kind>:<id>"."""
        return stable_id("call-log", tenant, owner)

    @event("Opened", topic="calldesk.calllog.Opened")
    def __init__(self, tenant: str, owner: str, timestamp: datetime) -> None:
        self.tenant = tenant
        self.owner = owner
        self.calls: tuple[str, ...] = ()

    def add(self, call: str, at: datetime) -> None:
        if call not in self.calls:
            self._added(call=call, timestamp=at)

    @event("CallAdded", topic="calldesk.calllog.CallAdded")
    def _added(self, call: str, timestamp: datetime) -> None:
        self.calls = (*self.calls, call)

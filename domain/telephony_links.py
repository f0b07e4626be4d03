"""The link between a tenant and one phone system: which calls it has open.

When an adapter reconnects, it reports the calls it sees; the calls calldesk still has
open on this link but the phone system no longer reports have ended while the link was
down, and are ended here with reason unknown (cti-anchors P1, P5).
"""

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from calldesk.domain.identity import stable_id


class TelephonyLink(Aggregate):
    TOPIC = "calldesk.link.TelephonyLink"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.link.Event"

    @staticmethod
    def create_id(tenant: str, vendor: str) -> UUID:
        return stable_id("link", tenant, vendor)

    @event("Created", topic="calldesk.link.Created")
    def __init__(self, tenant: str, vendor: str, timestamp: datetime) -> None:
        self.tenant = tenant
        self.vendor = vendor
        self.open_calls: tuple[str, ...] = ()
        self.reconciled_at: datetime | None = None

    def call_opened(self, call: str, at: datetime) -> None:
        if call not in self.open_calls:
            self._call_opened(call=call, timestamp=at)

    def call_closed(self, call: str, at: datetime) -> None:
        if call in self.open_calls:
            self._call_closed(call=call, timestamp=at)

    def reconciled(self, ended: int, discovered: int, at: datetime) -> None:
        """Records that a snapshot was compared, and how many calls it corrected."""
        self._reconciled(ended=ended, discovered=discovered, timestamp=at)

    @event("CallOpened", topic="calldesk.link.CallOpened")
    def _call_opened(self, call: str, timestamp: datetime) -> None:
        self.open_calls = (*self.open_calls, call)

    @event("CallClosed", topic="calldesk.link.CallClosed")
    def _call_closed(self, call: str, timestamp: datetime) -> None:
        self.open_calls = tuple(c for c in self.open_calls if c != call)

    @event("Reconciled", topic="calldesk.link.Reconciled")
    def _reconciled(self, ended: int, discovered: int, timestamp: datetime) -> None:
        self.reconciled_at = timestamp

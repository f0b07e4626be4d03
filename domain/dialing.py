"""Click-to-dial: an agent's request to place a call, before the phone system has one.

The request is its own aggregate, keyed by the command id, so a double click or a
retried request lands on the same one and places one call (cti-anchors P8). The call
itself exists once the phone system reports it dialing, naming this command id.
"""

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from calldesk.domain.identity import stable_id
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordRef


class DialRequest(Aggregate):
    TOPIC = "calldesk.dial.DialRequest"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.dial.Event"

    @staticmethod
    def create_id(tenant: str, command_id: str) -> UUID:
        return stable_id("dial", tenant, command_id)

    @event("Requested", topic="calldesk.dial.Requested")
    def __init__(
        self,
        tenant: str,
        command_id: str,
        agent: str,
        number: PhoneNumber,
        record: RecordRef | None,
        timestamp: datetime,
    ) -> None:
        self.tenant = tenant
        self.command_id = command_id
        self.agent = agent
        self.number = number
        self.record = record
        self.failure: str | None = None

    def fail(self, reason: str, at: datetime) -> None:
        if self.failure is None:
            self._failed(reason=reason, timestamp=at)

    @event("Failed", topic="calldesk.dial.Failed")
    def _failed(self, reason: str, timestamp: datetime) -> None:
        self.failure = reason

"""calldesk's device replica, for apps that embed it: a tenant's records on a laptop or
tablet, read and written with or without a network, synced both ways (ADR/0024).

    replica = open_replica("replica.sqlite", "http://127.0.0.1:8080", token)
    row = replica.edits.create(RecordKind.CONTACT, {"last_name": "Byron"}, now)
    replica.sync()
    replica.state.replica(now)  # up to date, pending, needs attention, ...
"""

from calldesk.adapters.replica.opening import open_replica
from calldesk.apps.replica import Replica
from calldesk.apps.replica_edits import Mode
from calldesk.apps.replica_state import RecordLine
from calldesk.apps.replica_sync import RunReport
from calldesk.domain.errors import InvalidValue, NotFound, Refused
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_merge import Choice, Resolution
from calldesk.domain.replica_status import RecordState, ReplicaState, ReplicaStatus

__all__ = [
    "Choice",
    "InvalidValue",
    "Mode",
    "NotFound",
    "RecordKind",
    "RecordLine",
    "RecordState",
    "Refused",
    "Replica",
    "ReplicaState",
    "ReplicaStatus",
    "Resolution",
    "RunReport",
    "open_replica",
]

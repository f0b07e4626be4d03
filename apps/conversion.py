"""All conversion between calldesk's attrs types and plain data, in one cattrs converter.

The same converter serves the edges (JSON in and out of the CLI and, later, HTTP) and the
event store, where each value type inside an event or snapshot is written through a
cattrs-backed eventsourcing Transcoding under a stable name (ADR/0003).
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import attrs
from cattrs.preconf.json import make_converter
from eventsourcing.persistence import JSONTranscoder, Transcoding

from calldesk.domain.access import Role
from calldesk.domain.agents import AgentState, CallWork, Pick, Presence, Work
from calldesk.domain.app_paths import Endpoint, Method, Scope
from calldesk.domain.app_refusals import RefusalReason, RefusedWhere
from calldesk.domain.call_commands import CommandKind, PendingCommand
from calldesk.domain.call_states import CallState, Offer, OfferState, Outcome, SignalMeta
from calldesk.domain.client_apps import AppStatus, Installation
from calldesk.domain.crm_records import Author, FieldChange
from calldesk.domain.drafts import Draft, DraftState
from calldesk.domain.feed_batches import ItemResult, PublishedBatch
from calldesk.domain.feed_items import Content, ItemType, StatusChange, Visibility
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.record_feed import FeedItem
from calldesk.domain.record_fields import FieldDefinition, FieldType, FieldValue
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.domain.signals import Direction, Party, SignalKind
from calldesk.domain.tenants import NotReadyReason, QuickConnect, WrapUpPolicy
from calldesk.domain.workspace_tabs import CloseCause, TabKind, WorkspaceTabs

converter = make_converter(forbid_extra_keys=True)


def _strict(kind: type) -> Any:
    """A structure hook that takes only a value of exactly this kind, never coerces."""

    def structure(value: object, _: type) -> object:
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return structure


for _kind in (str, int, bool):
    converter.register_structure_hook(_kind, _strict(_kind))

# A duration is its exact count of microseconds: a float of seconds would round.
converter.register_unstructure_hook(
    timedelta, lambda value: value // timedelta(microseconds=1)
)
converter.register_structure_hook(timedelta, lambda value, _: timedelta(microseconds=value))


def _field_value(value: object, _: object) -> FieldValue:
    """A record field's value is JSON's own: text, a number, true or false, or null."""
    if value is not None and type(value) not in (str, int, float, bool):
        raise TypeError(
            f"a field value is text, a number, true, false or null, not {value!r}"
        )
    return value  # type: ignore[return-value]


converter.register_structure_hook(FieldValue, _field_value)

#: Every value type that can sit inside a stored event or snapshot, by its stored name.
#: A name, once written, is forever: rename the class freely, never the name.
STORED_VALUE_TYPES: Mapping[str, type] = {
    "calldesk.NotReadyReason": NotReadyReason,
    "calldesk.QuickConnect": QuickConnect,
    "calldesk.Presence": Presence,
    "calldesk.Work": Work,
    "calldesk.AgentState": AgentState,
    "calldesk.RecordKind": RecordKind,
    "calldesk.RecordRef": RecordRef,
    "calldesk.PhoneNumber": PhoneNumber,
    "calldesk.Pick": Pick,
    "calldesk.CallWork": CallWork,
    "calldesk.WrapUpPolicy": WrapUpPolicy,
    "calldesk.CallState": CallState,
    "calldesk.Outcome": Outcome,
    "calldesk.OfferState": OfferState,
    "calldesk.CommandKind": CommandKind,
    "calldesk.SignalKind": SignalKind,
    "calldesk.Direction": Direction,
    "calldesk.Party": Party,
    "calldesk.SignalMeta": SignalMeta,
    "calldesk.Offer": Offer,
    "calldesk.PendingCommand": PendingCommand,
    "calldesk.timedelta": timedelta,
    "calldesk.Role": Role,
    "calldesk.ItemType": ItemType,
    "calldesk.Visibility": Visibility,
    "calldesk.StatusChange": StatusChange,
    "calldesk.Content": Content,
    "calldesk.FeedItem": FeedItem,
    "calldesk.DraftState": DraftState,
    "calldesk.Draft": Draft,
    "calldesk.ItemResult": ItemResult,
    "calldesk.PublishedBatch": PublishedBatch,
    "calldesk.TabKind": TabKind,
    "calldesk.CloseCause": CloseCause,
    "calldesk.WorkspaceTabs": WorkspaceTabs,
    "calldesk.FieldType": FieldType,
    "calldesk.FieldDefinition": FieldDefinition,
    "calldesk.Author": Author,
    "calldesk.FieldChange": FieldChange,
    "calldesk.Method": Method,
    "calldesk.Scope": Scope,
    "calldesk.Endpoint": Endpoint,
    "calldesk.AppStatus": AppStatus,
    "calldesk.Installation": Installation,
    "calldesk.RefusalReason": RefusalReason,
    "calldesk.RefusedWhere": RefusedWhere,
}


@attrs.frozen
class CattrsTranscoding(Transcoding):
    """Writes one value type as the plain data the converter makes of it."""

    type: type
    name: str

    def encode(self, obj: Any) -> Any:
        return converter.unstructure(obj, self.type)

    def decode(self, data: Any) -> Any:
        return converter.structure(data, self.type)


def register_stored_value_types(transcoder: JSONTranscoder) -> None:
    for name, value_type in STORED_VALUE_TYPES.items():
        transcoder.register(CattrsTranscoding(value_type, name))

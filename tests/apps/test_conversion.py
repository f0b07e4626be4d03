"""Every value type that can sit in a stored event comes back exactly as it went in."""

import enum
from datetime import UTC, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from calldesk.apps.conversion import STORED_VALUE_TYPES
from calldesk.apps.store import Store
from calldesk.domain.agents import CallWork, Pick, Presence, Work
from calldesk.domain.app_paths import Endpoint, Method, Scope
from calldesk.domain.call_commands import CommandKind, PendingCommand
from calldesk.domain.call_states import Offer, OfferState, SignalMeta
from calldesk.domain.client_apps import Installation
from calldesk.domain.crm_records import AUTHOR_KINDS, Author, FieldChange
from calldesk.domain.drafts import Draft, DraftState
from calldesk.domain.feed_batches import ItemResult, PublishedBatch
from calldesk.domain.feed_items import Content, ItemType, StatusChange, Visibility
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.record_feed import FeedItem
from calldesk.domain.record_fields import FieldDefinition
from calldesk.domain.record_schemas import STANDARD_FIELDS
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.domain.signals import SignalKind
from calldesk.domain.tenants import NotReadyReason, QuickConnect, WrapUpPolicy
from calldesk.domain.workspace_tabs import (
    CloseCause,
    PrimaryTab,
    Subtab,
    TabKind,
    WorkspaceTabs,
)

codes = st.from_regex(r"[a-z0-9](?:[a-z0-9._-]{0,30}[a-z0-9])?", fullmatch=True)
labels = st.text(
    st.characters(blacklist_categories=["Cc", "Cs", "Zs", "Zl", "Zp"]),
    min_size=1,
    max_size=80,
)
instants = st.datetimes(timezones=st.just(UTC))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)
    ),
    max_leaves=8,
)

#: Types whose fields have rules the default strategies would break.
STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    NotReadyReason: st.builds(NotReadyReason, code=codes, label=labels),
    RecordRef: st.builds(
        RecordRef, kind=st.sampled_from(RecordKind), record_id=codes, title=labels
    ),
    PhoneNumber: st.builds(
        PhoneNumber,
        e164=st.from_regex(r"\+[1-9][0-9]{1,14}", fullmatch=True),
        extension=st.none() | st.from_regex(r"[0-9]{1,10}", fullmatch=True),
    ),
    WrapUpPolicy: st.builds(
        WrapUpPolicy, limit_seconds=st.none() | st.integers(0, 24 * 3600)
    ),
    timedelta: st.timedeltas(),
}
STRATEGIES |= {
    QuickConnect: st.builds(QuickConnect, label=labels, number=STRATEGIES[PhoneNumber]),
    Pick: st.builds(
        Pick, st.sampled_from(Presence), st.none() | STRATEGIES[NotReadyReason]
    ),
    CallWork: st.builds(CallWork, codes, st.sampled_from(Work)),
    SignalMeta: st.builds(
        SignalMeta,
        signal_id=codes,
        kind=st.sampled_from(SignalKind),
        occurred_at=instants,
        command_id=st.none() | codes,
        vendor_kind=st.none() | labels,
        raw=st.dictionaries(st.text(), json_values, max_size=4),
    ),
    Offer: st.builds(
        Offer, codes, st.sampled_from(OfferState), instants, st.none() | instants
    ),
    PendingCommand: st.builds(
        PendingCommand,
        codes,
        st.sampled_from(CommandKind),
        codes,
        st.none() | labels,
        instants,
    ),
}

STRATEGIES[StatusChange] = st.builds(
    lambda statuses: StatusChange(*statuses),
    st.lists(codes, min_size=2, max_size=2, unique=True),
)
STRATEGIES[Content] = st.builds(
    Content,
    text=st.text(max_size=40),
    status_change=st.none() | STRATEGIES[StatusChange],
    attachment=st.none() | codes,
    call=st.none() | codes,
)
STRATEGIES |= {
    FeedItem: st.builds(
        FeedItem,
        id=codes,
        draft=codes,
        batch=codes,
        position=st.integers(0, 500),
        author=codes,
        item_type=st.sampled_from(ItemType),
        visibility=st.sampled_from(Visibility),
        content=STRATEGIES[Content],
        published_at=instants,
    ),
    Draft: st.builds(
        Draft,
        id=codes,
        item_type=st.sampled_from(ItemType),
        visibility=st.sampled_from(Visibility),
        content=STRATEGIES[Content],
        state=st.sampled_from(DraftState),
        close_asked=st.booleans(),
        feed_item=st.none() | codes,
    ),
    ItemResult: st.builds(
        ItemResult, draft=codes, feed_item=st.none() | codes, problem=st.none() | labels
    ),
}
STRATEGIES[PublishedBatch] = st.builds(
    PublishedBatch, fingerprint=codes, results=st.tuples(STRATEGIES[ItemResult])
)

subtabs = st.builds(
    Subtab,
    tab_id=codes,
    record=STRATEGIES[RecordRef],
    label=labels,
    highlighted=st.booleans(),
    unsaved=st.booleans(),
    close_requested=st.none() | st.sampled_from(CloseCause),
)
primary_tabs = st.builds(
    PrimaryTab,
    tab_id=codes,
    kind=st.sampled_from(TabKind),
    label=labels,
    record=st.none() | STRATEGIES[RecordRef],
    url=st.none() | st.just("https://billing.example.com/invoices/42"),
    matches=st.lists(STRATEGIES[RecordRef], max_size=2).map(tuple),
    subtabs=st.lists(subtabs, max_size=2).map(tuple),
    pinned=st.booleans(),
    call=st.none() | codes,
)
STRATEGIES[WorkspaceTabs] = st.builds(
    WorkspaceTabs,
    open=st.lists(primary_tabs, max_size=2).map(tuple),
    focused=st.none() | codes,
    focus_stack=st.lists(codes, max_size=3).map(tuple),
    recency=st.lists(codes, max_size=3).map(tuple),
    closed=st.lists(primary_tabs, max_size=1).map(tuple),
    numbered=st.integers(0, 10_000),
)

field_values = (
    st.none()
    | st.text(max_size=20)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
)
STRATEGIES |= {
    FieldDefinition: st.sampled_from(
        [field for fields in STANDARD_FIELDS.values() for field in fields]
    ),
    Author: st.builds(
        Author, kind=st.sampled_from([k for k in AUTHOR_KINDS if k != "device"]), name=codes
    )
    | st.builds(Author.of_device, agent=codes, device=codes),
    FieldChange: st.builds(FieldChange, field=codes, old=field_values, new=field_values),
}

STRATEGIES |= {
    Endpoint: st.builds(
        Endpoint,
        method=st.sampled_from(Method),
        path=st.sampled_from(["/records/contact/{id}", "/agents/{agent}/calls"]),
        scope=st.sampled_from(Scope),
    ),
    Installation: st.builds(
        Installation,
        agent=codes,
        parameters=st.dictionaries(codes, labels, max_size=3),
        scopes=st.frozensets(st.sampled_from(Scope)),
    ),
}


def values_of(value_type: type) -> st.SearchStrategy[Any]:
    if issubclass(value_type, enum.Enum):
        return st.sampled_from(value_type)
    if value_type not in STRATEGIES:
        raise AssertionError(f"no strategy for {value_type}: add one with the new type")
    return STRATEGIES[value_type]


stored_values = st.one_of([values_of(t) for t in STORED_VALUE_TYPES.values()])


@given(stored_values)
def test_stored_values_round_trip_through_the_applications_transcoder(
    value: object,
) -> None:
    transcoder = Store(env={}).construct_transcoder()
    assert transcoder.decode(transcoder.encode({"value": value})) == {"value": value}


def test_stored_names_are_calldesk_names_and_never_shared() -> None:
    assert all(name.startswith("calldesk.") for name in STORED_VALUE_TYPES)
    assert len(set(STORED_VALUE_TYPES.values())) == len(STORED_VALUE_TYPES)

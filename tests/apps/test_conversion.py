"""Every value type that can sit in a stored event comes back exactly as it went in."""

import enum

from hypothesis import given
from hypothesis import strategies as st

from calldesk.apps.application import DeskApplication
from calldesk.apps.conversion import STORED_VALUE_TYPES
from calldesk.domain.phone_numbers import PhoneNumber
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.domain.tenants import NotReadyReason

codes = st.from_regex(r"[a-z0-9](?:[a-z0-9._-]{0,30}[a-z0-9])?", fullmatch=True)
labels = st.text(
    st.characters(blacklist_categories=["Cc", "Cs", "Zs", "Zl", "Zp"]),
    min_size=1,
    max_size=80,
)


def values_of(value_type: type) -> st.SearchStrategy[object]:
    if issubclass(value_type, enum.Enum):
        return st.sampled_from(value_type)
    if value_type is NotReadyReason:
        return st.builds(NotReadyReason, code=codes, label=labels)
    if value_type is RecordRef:
        return st.builds(
            RecordRef, kind=st.sampled_from(RecordKind), record_id=codes, title=labels
        )
    if value_type is PhoneNumber:
        return st.builds(
            PhoneNumber,
            e164=st.from_regex(r"\+[1-9][0-9]{1,14}", fullmatch=True),
            extension=st.none() | st.from_regex(r"[0-9]{1,10}", fullmatch=True),
        )
    raise AssertionError(f"no strategy for {value_type}: add one with the new type")


stored_values = st.one_of([values_of(t) for t in STORED_VALUE_TYPES.values()])


@given(stored_values)
def test_stored_values_round_trip_through_the_applications_transcoder(
    value: object,
) -> None:
    transcoder = DeskApplication(env={}).construct_transcoder()
    assert transcoder.decode(transcoder.encode({"value": value})) == {"value": value}


def test_stored_names_are_calldesk_names_and_never_shared() -> None:
    assert all(name.startswith("calldesk.") for name in STORED_VALUE_TYPES)
    assert len(set(STORED_VALUE_TYPES.values())) == len(STORED_VALUE_TYPES)

"""A pull never reverts the device's own write, and never brings back its delete."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calldesk.domain.errors import InvalidValue
from calldesk.domain.replica_checkpoints import PulledRow, pulled_row

VERSIONS = st.integers(1, 50)


@given(pulled=VERSIONS, known=VERSIONS)
def test_a_row_older_than_the_devices_own_write_is_stale(pulled, known):
    fate = pulled_row(pulled, known, in_flight=False)
    assert fate is (PulledRow.STALE if pulled < known else PulledRow.APPLY)


@given(pulled=VERSIONS, known=st.none() | VERSIONS)
def test_a_row_of_a_record_whose_write_is_unanswered_waits(pulled, known):
    assert pulled_row(pulled, known, in_flight=True) is PulledRow.WAIT


@given(pulled=VERSIONS)
def test_a_record_the_device_never_had_is_applied(pulled):
    assert pulled_row(pulled, None, in_flight=False) is PulledRow.APPLY


def test_the_echo_of_the_devices_own_write_is_applied():
    """It carries the server's computed fields (L86); its values are the device's."""
    assert pulled_row(4, 4, in_flight=False) is PulledRow.APPLY


def test_a_deleted_record_read_before_the_delete_does_not_come_back():
    """Created, synced, deleted, synced quickly (WatermelonDB #649): the delete's
    answer made version 2; the page read before it still holds version 1."""
    assert pulled_row(1, 2, in_flight=False) is PulledRow.STALE


def test_versions_below_one_are_refused():
    with pytest.raises(InvalidValue, match="start at 1"):
        pulled_row(0, None, in_flight=False)
    with pytest.raises(InvalidValue, match="start at 1"):
        pulled_row(1, 0, in_flight=False)

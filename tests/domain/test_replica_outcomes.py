"""Every answer to an operation is classed, and transient ones are retried on time."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calldesk.domain.errors import InvalidValue
from calldesk.domain.replica_outcomes import (
    FIRST_RETRY,
    LONGEST_RETRY,
    OutcomeClass,
    classified,
    next_attempt_at,
    retry_delay,
)


@pytest.mark.parametrize(
    ("status", "problem", "outcome"),
    [
        (None, None, OutcomeClass.TRANSIENT),
        (200, None, OutcomeClass.APPLIED),
        (201, None, OutcomeClass.APPLIED),
        (401, "unauthorized", OutcomeClass.SESSION_EXPIRED),
        (409, "edit-conflict", OutcomeClass.CONFLICT),
        (409, "delete-conflict", OutcomeClass.CONFLICT),
        (404, "not-found", OutcomeClass.GONE),
        (404, None, OutcomeClass.GONE),
        (422, "record-refused", OutcomeClass.PERMANENT),
        (422, "invalid-value", OutcomeClass.PERMANENT),
        (409, "already-exists", OutcomeClass.PERMANENT),
        (409, "refused", OutcomeClass.PERMANENT),
        (403, "forbidden", OutcomeClass.PERMANENT),
        (400, None, OutcomeClass.PERMANENT),
        (429, None, OutcomeClass.TRANSIENT),
        (408, None, OutcomeClass.TRANSIENT),
        (500, None, OutcomeClass.TRANSIENT),
        (503, "edit-conflict", OutcomeClass.TRANSIENT),
    ],
)
def test_an_answer_is_classed_by_its_status_and_problem_type(status, problem, outcome):
    assert classified(status, problem) is outcome


def test_what_is_no_http_status_is_refused():
    with pytest.raises(InvalidValue, match="is no HTTP status"):
        classified(700)


def test_a_retry_waits_a_second_then_doubles_up_to_five_minutes():
    delays = [retry_delay(attempts) for attempts in range(1, 12)]
    assert delays[:4] == [timedelta(seconds=s) for s in (1, 2, 4, 8)]
    assert delays[-1] == LONGEST_RETRY


@given(attempts=st.integers(1, 10_000))
def test_a_retry_never_waits_less_than_a_second_nor_more_than_five_minutes(attempts):
    assert FIRST_RETRY <= retry_delay(attempts) <= LONGEST_RETRY
    assert retry_delay(attempts) <= retry_delay(attempts + 1)


def test_the_next_attempt_is_a_time_to_persist():
    failed = datetime(2026, 12, 4, 9, tzinfo=UTC)
    assert next_attempt_at(failed, 3) == failed + timedelta(seconds=4)


def test_a_retry_follows_an_attempt():
    with pytest.raises(InvalidValue, match="at least one attempt"):
        retry_delay(0)

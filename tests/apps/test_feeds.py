"""Composing drafts and publishing them as one batch, through the application."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from support.clock import Clock
from support.desk_driver import tenant_with_agent
from support.telephony import ADA, ADA_NUMBER, CASE, StaticDirectory, desktop

from calldesk.adapters.telephony.simulator import Caller
from calldesk.apps.desk import Desk
from calldesk.apps.feeds import (
    AssignRecordQueue,
    DraftCommand,
    EditDraft,
    MoveDraft,
    OpenDraft,
    PublishDrafts,
)
from calldesk.domain.errors import DomainError, InvalidValue, NotFound, Refused
from calldesk.domain.feed_items import CONTENT_MAX_LENGTH, ItemType, StatusChange
from calldesk.domain.records import RecordRef

START = datetime(2026, 11, 25, 9, tzinfo=UTC)


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    with Desk.at(database_url, directory=StaticDirectory()) as opened:
        tenant_with_agent(opened, START)
        tenant_with_agent(opened, START, tenant="globex", agent="g-1")
        yield opened


def on(record: RecordRef, **fields: object) -> dict[str, Any]:
    return {"kind": record.kind, "record_id": record.record_id, "at": START, **fields}


def compose(desk: Desk, record: RecordRef, *texts: tuple[ItemType, str]) -> list[str]:
    drafts = []
    for item_type, text in texts:
        opened = desk.open_draft(
            OpenDraft("acme", "a-17", **on(record), item_type=item_type)
        )
        desk.edit_draft(
            EditDraft("acme", "a-17", **on(record), draft=opened.draft, text=text)
        )
        drafts.append(opened.draft)
    return drafts


def test_drafts_composed_apart_publish_together_in_their_order(desk: Desk) -> None:
    note, post, email = compose(
        desk,
        ADA,
        (ItemType.INTERNAL_NOTE, "Prefers email"),
        (ItemType.TEXT_POST, "Refund approved"),
        (ItemType.EMAIL, "Dear Ada, your refund is on its way."),
    )
    assert desk.feed("acme", ADA.kind, ADA.record_id).items == ()  # nothing published
    desk.move_draft(MoveDraft("acme", "a-17", **on(ADA), draft=email, position=0))

    published = desk.publish(
        PublishDrafts("acme", "a-17", **on(ADA), key="batch-1", drafts=(email, note, post))
    )

    assert [r.draft for r in published.outcome.results] == [email, note, post]
    feed = desk.feed("acme", ADA.kind, ADA.record_id).items
    assert [item.content.text for item in feed] == [
        "Dear Ada, your refund is on its way.",
        "Prefers email",
        "Refund approved",
    ]
    assert published.publisher.drafts == ()
    assert published.publisher.unpublished == {}


def test_a_retried_batch_publishes_once_and_answers_the_same(desk: Desk) -> None:
    drafts = tuple(compose(desk, ADA, (ItemType.TEXT_POST, "Called back")))
    command = PublishDrafts("acme", "a-17", **on(ADA), key="batch-1", drafts=drafts)
    first = desk.publish(command)
    head = desk.head()

    again = desk.publish(command)

    assert again.outcome.results == first.outcome.results
    assert again.outcome.repeated
    assert desk.head() == head
    assert len(desk.feed("acme", ADA.kind, ADA.record_id).items) == 1


def test_a_status_change_publishes_with_the_record_status_in_one_save(desk: Desk) -> None:
    opened = desk.open_draft(
        OpenDraft("acme", "a-17", **on(CASE), item_type=ItemType.STATUS_CHANGE)
    )
    change = StatusChange("new", "solved")
    desk.edit_draft(
        EditDraft("acme", "a-17", **on(CASE), draft=opened.draft, status_change=change)
    )
    published = desk.publish(
        PublishDrafts("acme", "a-17", **on(CASE), key="k", drafts=(opened.draft,))
    )
    assert published.publisher.status == "solved"
    assert desk.publisher("acme", "a-17", CASE.kind, CASE.record_id).status == "solved"


@pytest.mark.parametrize(
    ("case", "refused", "attempt"),
    [
        (
            "another tenant's record",
            NotFound,
            lambda d: d.open_draft(
                OpenDraft("globex", "g-1", **on(ADA), item_type=ItemType.TEXT_POST)
            ),
        ),
        (
            "an empty batch",
            Refused,
            lambda d: d.publish(
                PublishDrafts("acme", "a-17", **on(ADA), key="k", drafts=())
            ),
        ),
        (
            "oversized content",
            InvalidValue,
            lambda d: d.edit_draft(
                EditDraft(
                    "acme",
                    "a-17",
                    **on(ADA),
                    draft=compose(d, ADA, (ItemType.TEXT_POST, "x"))[0],
                    text="x" * (CONTENT_MAX_LENGTH + 1),
                )
            ),
        ),
        (
            "an unknown draft",
            NotFound,
            lambda d: d.close_draft(DraftCommand("acme", "a-17", **on(ADA), draft="nope")),
        ),
    ],
)
def test_bad_requests_are_refused_and_publish_nothing(
    desk: Desk, case: str, refused: type[DomainError], attempt: object
) -> None:
    with pytest.raises(refused):
        attempt(desk)  # type: ignore[operator]
    assert desk.feed("acme", ADA.kind, ADA.record_id).items == (), case


def test_publish_and_next_moves_on_to_the_next_record_of_the_queue(desk: Desk) -> None:
    desk.assign_record_queue(
        AssignRecordQueue("acme", "a-17", records=(ADA, CASE), at=START)
    )
    drafts = tuple(compose(desk, ADA, (ItemType.TEXT_POST, "Done with Ada")))

    published = desk.publish(
        PublishDrafts("acme", "a-17", **on(ADA), key="k", drafts=drafts, then_next=True)
    )

    assert published.next_record == CASE
    assert desk.record_queue("acme", "a-17").records == (CASE,)
    workspace = desk.workspace("acme", "a-17")
    assert workspace.tabs[-1].record == CASE
    assert workspace.focused in workspace.tabs[-1].views
    assert desk.publisher("acme", "a-17", CASE.kind, CASE.record_id).drafts == ()


def test_reusing_a_key_for_other_drafts_is_refused(desk: Desk) -> None:
    first = tuple(compose(desk, ADA, (ItemType.TEXT_POST, "One")))
    desk.publish(PublishDrafts("acme", "a-17", **on(ADA), key="k", drafts=first))
    second = tuple(compose(desk, ADA, (ItemType.TEXT_POST, "Two")))
    head = desk.head()
    with pytest.raises(Refused, match="idempotency key"):
        desk.publish(PublishDrafts("acme", "a-17", **on(ADA), key="k", drafts=second))
    assert desk.head() == head


def test_an_ended_call_leaves_its_log_as_a_draft_on_the_callers_record(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        call_id = desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=30), talk_first=5)
        desk.simulator.advance(60)
        desk.wrap_up(desk.call(call_id))

        drafts = desk.desk.publisher("acme", "a-17", ADA.kind, ADA.record_id).drafts

        assert [d.item_type for d in drafts] == [ItemType.CALL_LOG]
        assert drafts[0].content.call == desk.call(call_id).call
        assert ADA_NUMBER in drafts[0].content.text

"""The publisher and the record's feed by example: each rule of the issue, once, plainly."""

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from support.aggregate_store import aggregate_store

from calldesk.domain.drafts import (
    DraftCloseNotAsked,
    DraftNotFound,
    DraftNotOpen,
    DraftNotSaved,
    DraftState,
)
from calldesk.domain.errors import InvalidValue
from calldesk.domain.feed import Publisher
from calldesk.domain.feed_batches import (
    BatchNotPublishable,
    IdempotencyKeyReused,
    PublisherChanged,
)
from calldesk.domain.feed_items import (
    CONTENT_MAX_LENGTH,
    Content,
    ContentDoesNotFit,
    ContentTooLong,
    ItemType,
    StatusChange,
    UnknownItemType,
    Visibility,
    VisibilityNotAllowed,
)
from calldesk.domain.identity import stable_id
from calldesk.domain.record_feed import (
    MAX_BATCH_ITEMS,
    BatchAlreadyPublished,
    BatchTooLarge,
    EmptyBatch,
    Feed,
    RecordNotFound,
    StatusNotCurrent,
    feed_page,
)
from calldesk.domain.records import RecordKind

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LATER = START + timedelta(minutes=5)
EMAIL, NOTE, STATUS = ItemType.EMAIL, ItemType.INTERNAL_NOTE, ItemType.STATUS_CHANGE


def case_feed(tenant: str = "acme", record: str = "42") -> Feed:
    return Feed.start(tenant, RecordKind.CASE, record, "pending", START)


def publisher_on(feed: Feed, agent: str = "a-1") -> Publisher:
    return Publisher.start(feed.tenant, agent, feed, START)


def written(publisher: Publisher, kind: ItemType, text: str) -> str:
    draft = publisher.open_draft(kind, START)
    publisher.edit(draft, Content(text=text), START)
    return draft


def resolving(publisher: Publisher, from_status: str = "pending") -> str:
    draft = publisher.open_draft(STATUS, START)
    publisher.edit(
        draft, Content(status_change=StatusChange(from_status, "resolved")), START
    )
    return draft


def nothing_recorded(*aggregates: Publisher | Feed) -> bool:
    return all(aggregate.collect_events() == [] for aggregate in aggregates)


def settled(*aggregates: Publisher | Feed) -> None:
    for aggregate in aggregates:
        aggregate.collect_events()


# Composing.


def test_opening_a_second_draft_leaves_the_first_unpublished_and_unchanged() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    email = written(publisher, EMAIL, "Your refund is on its way.")
    note = publisher.open_draft(NOTE, START)
    assert [d.id for d in publisher.open_drafts] == [email, note]
    assert publisher.draft(email).content.text == "Your refund is on its way."
    assert feed.items == []


def test_draft_ids_derive_from_the_publisher_and_a_counter() -> None:
    feed = case_feed()
    first, again = publisher_on(feed), publisher_on(feed)
    colleague = publisher_on(feed, "a-2")
    ids = [p.open_draft(NOTE, START) for p in (first, again, colleague)]
    assert ids[0] == ids[1] == str(stable_id("draft", str(first.id), "1"))
    assert ids[2] != ids[0]
    assert first.open_draft(NOTE, START) == str(stable_id("draft", str(first.id), "2"))


def test_the_indicators_count_open_drafts_by_type() -> None:
    publisher = publisher_on(case_feed())
    written(publisher, NOTE, "one")
    written(publisher, NOTE, "two")
    kept = written(publisher, EMAIL, "later")
    publisher.close(kept, START)
    publisher.keep_for_later(kept, START)
    publisher.open_draft(ItemType.ATTACHMENT, START)
    assert publisher.unpublished_by_type == {NOTE: 2, ItemType.ATTACHMENT: 1}


def test_an_email_reaches_everyone_and_a_note_only_agents() -> None:
    publisher = publisher_on(case_feed())
    assert (
        publisher.draft(publisher.open_draft(EMAIL, START)).visibility
        is Visibility.EVERYONE
    )
    post = publisher.open_draft(ItemType.TEXT_POST, START)
    assert publisher.draft(post).visibility is Visibility.INTERNAL
    with pytest.raises(
        VisibilityNotAllowed, match="an email is always visible to everyone"
    ):
        publisher.open_draft(EMAIL, START, Visibility.INTERNAL)
    note = publisher.open_draft(NOTE, START)
    with pytest.raises(VisibilityNotAllowed):
        publisher.edit(note, Content(text="hi"), START, Visibility.EVERYONE)


def test_bad_content_is_refused_before_anything_is_recorded() -> None:
    publisher = publisher_on(case_feed())
    note = publisher.open_draft(NOTE, START)
    settled(publisher)
    with pytest.raises(ContentTooLong, match=f"at most {CONTENT_MAX_LENGTH}"):
        publisher.edit(note, Content(text="x" * (CONTENT_MAX_LENGTH + 1)), START)
    with pytest.raises(ContentDoesNotFit, match="internal note items have no status"):
        publisher.edit(note, Content(status_change=StatusChange("pending", "new")), START)
    with pytest.raises(UnknownItemType, match="no feed item type is called 'tweet'"):
        ItemType.named("tweet")
    with pytest.raises(InvalidValue, match="it is pending already"):
        StatusChange("pending", "pending")
    with pytest.raises(DraftNotFound):
        publisher.edit("d-404", Content(text="hi"), START)
    assert publisher.collect_events() == []
    assert publisher.draft(note).content == Content()


def test_dragging_a_draft_changes_the_order_it_is_published_in() -> None:
    publisher = publisher_on(case_feed())
    first, second, third = (written(publisher, NOTE, t) for t in ("1", "2", "3"))
    publisher.move(third, 0, START)
    assert publisher.order == [third, first, second]
    with pytest.raises(InvalidValue, match="positions 0 to 2, not 3"):
        publisher.move(first, 3, START)


# Closing.


def test_closing_an_empty_draft_discards_it_without_asking() -> None:
    publisher = publisher_on(case_feed())
    draft = publisher.open_draft(NOTE, START)
    assert publisher.close(draft, START) is False
    assert publisher.draft(draft).state is DraftState.DISCARDED
    assert publisher.open_drafts == ()


def test_closing_a_draft_with_content_asks_and_records_the_question_and_the_answer() -> (
    None
):
    publisher = publisher_on(case_feed())
    draft = written(publisher, NOTE, "half a thought")
    settled(publisher)
    assert publisher.close(draft, START) is True
    assert publisher.close(draft, START) is True
    publisher.cancel_close(draft, START)
    events = publisher.collect_events()
    assert [type(e).__name__ for e in events] == ["DraftCloseAsked", "DraftCloseCancelled"]
    assert publisher.draft(draft).state is DraftState.OPEN
    with pytest.raises(DraftCloseNotAsked):
        publisher.confirm_close(draft, START)
    publisher.close(draft, START)
    publisher.confirm_close(draft, START)
    assert publisher.draft(draft).state is DraftState.DISCARDED


def test_a_draft_kept_for_later_skips_the_next_batch_and_comes_back_last() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    kept = written(publisher, EMAIL, "not yet")
    note = written(publisher, NOTE, "now")
    publisher.close(kept, START)
    publisher.keep_for_later(kept, START)
    with pytest.raises(DraftNotOpen, match="bring it back first"):
        publisher.edit(kept, Content(text="edited"), START)
    publisher.publish(feed, "k-1", [note], START)
    assert [i.draft for i in feed.items] == [note]
    other = written(publisher, NOTE, "next")
    publisher.restore(kept, START)
    assert publisher.order == [other, kept]
    with pytest.raises(DraftNotSaved):
        publisher.restore(kept, START)


# Publishing.


def test_publish_sends_every_open_draft_in_their_order_as_one_event() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    email = written(publisher, EMAIL, "Resolved, see the article.")
    note = written(publisher, NOTE, "Customer was patient.")
    status = resolving(publisher)
    publisher.move(status, 0, START)
    settled(feed, publisher)
    outcome = publisher.publish(feed, "k-1", [status, email, note], LATER)
    assert [r.draft for r in outcome.results] == [status, email, note]
    assert [i.id for i in feed.items] == [
        str(stable_id("feed-item", str(publisher.id), "k-1", str(n))) for n in range(3)
    ]
    assert [i.draft for i in feed.items] == [status, email, note]
    assert feed.status == "resolved"
    [published] = feed.collect_events()
    assert type(published).__name__ == "ItemsPublished"
    assert [type(e).__name__ for e in publisher.collect_events()] == ["BatchPublished"]
    assert publisher.open_drafts == ()
    assert publisher.draft(email).state is DraftState.PUBLISHED
    assert {i.published_at for i in feed.items} == {LATER}


def test_status_changes_in_one_batch_chain_from_the_record_status() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    resolving(publisher)
    reopen = publisher.open_draft(STATUS, START)
    publisher.edit(reopen, Content(status_change=StatusChange("resolved", "new")), START)
    publisher.publish(feed, "k-1", publisher.order, START)
    assert feed.status == "new"


def test_an_atomic_batch_with_a_draft_not_ready_publishes_nothing() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    written(publisher, NOTE, "ready")
    publisher.open_draft(EMAIL, START)
    resolving(publisher, from_status="new")
    settled(feed, publisher)
    with pytest.raises(BatchNotPublishable) as refused:
        publisher.publish(feed, "k-1", publisher.order, START)
    assert str(refused.value) == (
        "nothing was published, because 2. email: it is empty; 3. status change: "
        "it changes the status from new, but the record is pending now"
    )
    assert [r.problem is None for r in refused.value.results] == [True, False, False]
    assert feed.items == []
    assert nothing_recorded(feed, publisher)
    assert len(publisher.open_drafts) == 3


def test_a_per_item_batch_publishes_the_ready_drafts_and_answers_each_in_order() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    note = written(publisher, NOTE, "ready")
    empty = publisher.open_draft(EMAIL, START)
    status = resolving(publisher)
    outcome = publisher.publish(
        feed, "k-1", publisher.order, START, atomic=False, then_next=True
    )
    assert [(r.draft, r.feed_item is not None) for r in outcome.results] == [
        (note, True),
        (empty, False),
        (status, True),
    ]
    assert outcome.results[1].problem == "it is empty"
    assert [i.position for i in feed.items] == [0, 2]
    assert publisher.order == [empty]
    assert outcome.move_on is False, "a draft left behind keeps the agent on the record"


def test_the_same_batch_sent_twice_publishes_once_and_answers_the_same() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    shown = [written(publisher, NOTE, "once")]
    first = publisher.publish(feed, "k-1", shown, START)
    settled(feed, publisher)
    again = publisher.publish(feed, "k-1", shown, LATER, then_next=True)
    assert again.results == first.results
    assert (first.repeated, again.repeated, again.move_on) == (False, True, True)
    assert nothing_recorded(feed, publisher)
    assert len(feed.items) == 1


def test_a_key_reused_for_other_drafts_or_changed_content_is_refused() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    note = written(publisher, NOTE, "ready")
    empty = publisher.open_draft(EMAIL, START)
    publisher.publish(feed, "k-1", [note, empty], START, atomic=False)
    publisher.edit(empty, Content(text="now ready"), START)
    settled(feed, publisher)
    with pytest.raises(IdempotencyKeyReused, match="'k-1' already published another"):
        publisher.publish(feed, "k-1", [note, empty], START, atomic=False)
    with pytest.raises(IdempotencyKeyReused):
        publisher.publish(feed, "k-1", [empty], START)
    assert nothing_recorded(feed, publisher)
    publisher.publish(feed, "k-2", [empty], START)
    assert [i.draft for i in feed.items] == [note, empty]


def test_a_batch_refused_whole_leaves_its_key_free_for_the_fixed_batch() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    draft = publisher.open_draft(NOTE, START)
    with pytest.raises(BatchNotPublishable):
        publisher.publish(feed, "k-1", [draft], START)
    publisher.edit(draft, Content(text="fixed"), START)
    assert publisher.publish(feed, "k-1", [draft], START).results[0].feed_item


def test_publishing_nothing_or_what_another_tab_did_not_show_is_refused() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    with pytest.raises(EmptyBatch):
        publisher.publish(feed, "k-1", [], START)
    seen = written(publisher, NOTE, "seen")
    written(publisher, NOTE, "opened in another tab")
    with pytest.raises(PublisherChanged, match="look at them again"):
        publisher.publish(feed, "k-1", [seen], START)
    assert feed.items == []


def test_a_batch_of_more_than_500_drafts_is_refused_whole() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    for n in range(MAX_BATCH_ITEMS + 1):
        written(publisher, NOTE, f"note {n}")
    with pytest.raises(BatchTooLarge, match="at most 500"):
        publisher.publish(feed, "k-1", publisher.order, START)
    last = publisher.order[-1]
    publisher.close(last, START)
    publisher.keep_for_later(last, START)
    assert len(publisher.publish(feed, "k-1", publisher.order, START).results) == 500


def test_one_draft_can_be_published_alone_and_the_others_stay() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    email = written(publisher, EMAIL, "now")
    note = written(publisher, NOTE, "later")
    publisher.publish_draft(feed, "k-1", note, START)
    assert [i.draft for i in feed.items] == [note]
    assert publisher.order == [email]
    with pytest.raises(DraftNotOpen, match="stays as it was published"):
        publisher.edit(note, Content(text="changed"), START)


def test_drafts_never_reach_a_record_of_another_tenant() -> None:
    feed = case_feed()
    with pytest.raises(RecordNotFound):
        Publisher.start("globex", "a-1", feed, START)
    publisher = publisher_on(feed)
    written(publisher, NOTE, "for case 42")
    elsewhere = case_feed("globex")
    settled(elsewhere, publisher)
    with pytest.raises(RecordNotFound):
        publisher.publish(elsewhere, "k-1", publisher.order, START)
    with pytest.raises(RecordNotFound):
        publisher.publish(case_feed(record="43"), "k-1", publisher.order, START)
    assert nothing_recorded(elsewhere, publisher)


def test_a_status_change_of_a_colleague_makes_an_older_draft_stale() -> None:
    feed = case_feed()
    mine, theirs = publisher_on(feed), publisher_on(feed, "a-2")
    resolving(mine)
    resolving(theirs)
    theirs.publish(feed, "k-1", theirs.order, START)
    with pytest.raises(BatchNotPublishable, match="the record is resolved now"):
        mine.publish(feed, "k-1", mine.order, START)


# Call logs.


def test_a_call_log_arrives_once_per_call_ready_for_notes() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    draft = publisher.receive_call_log("c-1", "Inbound call, 3 min", START)
    settled(publisher)
    assert publisher.receive_call_log("c-1", "Inbound call, 3 min", LATER) == draft
    assert publisher.collect_events() == []
    logged = publisher.draft(draft)
    assert (logged.item_type, logged.visibility) == (ItemType.CALL_LOG, Visibility.INTERNAL)
    publisher.edit(draft, Content(text="Inbound call, 3 min. Wants a refund."), START)
    assert publisher.draft(draft).content.call == "c-1"
    with pytest.raises(ContentDoesNotFit, match="logs call c-1, not c-2"):
        publisher.edit(draft, Content(text="x", call="c-2"), START)
    publisher.publish(feed, "k-1", [draft], START)
    assert feed.items[0].content.call == "c-1"


# The record's feed: a read model.


def test_the_feed_reads_newest_batch_first_each_in_its_drafts_order() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    for key, texts in (("k-1", ("a", "b")), ("k-2", ("c", "d"))):
        for text in texts:
            written(publisher, NOTE, text)
        publisher.publish(feed, key, publisher.order, START)
    page = feed_page(feed)
    assert [i.content.text for i in page.items] == ["c", "d", "a", "b"]
    assert page.next_after is None


def test_the_feed_filters_by_type_and_visibility() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    written(publisher, EMAIL, "to the customer")
    written(publisher, NOTE, "to colleagues")
    post = written(publisher, ItemType.TEXT_POST, "shared")
    publisher.edit(post, Content(text="shared"), START, Visibility.EVERYONE)
    publisher.publish(feed, "k-1", publisher.order, START)
    public = feed_page(feed, visibility=Visibility.EVERYONE)
    assert [i.content.text for i in public.items] == ["to the customer", "shared"]
    notes = feed_page(feed, types={NOTE})
    assert [i.content.text for i in notes.items] == ["to colleagues"]


def test_pages_follow_on_from_the_last_item_read_even_as_new_batches_arrive() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    for n in range(5):
        written(publisher, NOTE, f"n{n}")
    publisher.publish(feed, "k-1", publisher.order, START)
    first = feed_page(feed, limit=2)
    written(publisher, NOTE, "newer")
    publisher.publish(feed, "k-2", publisher.order, START)
    second = feed_page(feed, after=first.next_after, limit=2)
    third = feed_page(feed, after=second.next_after, limit=2)
    assert [i.content.text for i in first.items + second.items + third.items] == [
        f"n{n}" for n in range(5)
    ]
    assert third.next_after is None
    with pytest.raises(InvalidValue, match="1 to 100 items"):
        feed_page(feed, limit=0)
    with pytest.raises(InvalidValue, match="start from the top"):
        feed_page(feed, after="no-such-item")


def test_the_feed_refuses_a_batch_twice_or_a_status_change_from_another_status() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    written(publisher, NOTE, "once")
    publisher.publish(feed, "k-1", publisher.order, START)
    with pytest.raises(BatchAlreadyPublished):
        feed.publish(feed.items, START)
    change = Content(status_change=StatusChange("new", "resolved"))
    stale = [attrs.evolve(feed.items[0], id="x", batch="other", content=change)]
    with pytest.raises(StatusNotCurrent):
        feed.publish(stale, START)
    with pytest.raises(EmptyBatch):
        feed.publish([], START)


# Stored: both aggregates in one save, read back equal.


def test_publisher_and_feed_saved_together_read_back_equal_and_from_snapshots() -> None:
    feed = case_feed()
    publisher = publisher_on(feed)
    written(publisher, EMAIL, "hello")
    resolving(publisher)
    kept = written(publisher, NOTE, "later")
    publisher.close(kept, START)
    publisher.keep_for_later(kept, START)
    publisher.receive_call_log("c-1", "Outbound call, 1 min", START)
    publisher.publish(feed, "k-1", publisher.order, START, atomic=False)
    store = aggregate_store()
    store.save(publisher, feed)
    for aggregate in (publisher, feed):
        assert vars(store.repository.get(aggregate.id)) == vars(aggregate)
        store.take_snapshot(aggregate.id)
        assert vars(store.repository.get(aggregate.id)) == vars(aggregate)

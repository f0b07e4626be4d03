"""The publisher and its record's feed, driven at random against a plain reference model.

An agent opens, edits, reorders and closes drafts (asked, then confirmed, kept for later
or cancelled), brings saved ones back, receives call logs, and publishes: all at once or
per item, some drafts not ready, retries with the same key, stale views from another
tab, single drafts. Another agent changes the record's status meanwhile, so a status
change composed earlier can go stale. After every step the real aggregates must agree
with the model and with their own replayed events; each example ends by storing them,
reading them back and snapshotting them: in memory, and in a smaller run through a
SQLite file and a PostgreSQL schema.
"""

import itertools
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.domain import CanMutateAggregate
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from support.aggregate_store import AggregateStore, aggregate_store
from support.publisher_model import (
    ASKED,
    DISCARDED,
    RECORDED,
    STILL_ASKED,
    UNCHANGED,
    ModelOutcome,
    ReferencePublisher,
)

from calldesk.domain.drafts import Draft, DraftState
from calldesk.domain.errors import DomainError
from calldesk.domain.feed import Publisher
from calldesk.domain.feed_batches import BatchOutcome
from calldesk.domain.feed_items import Content, ItemType, StatusChange, Visibility
from calldesk.domain.record_feed import Feed, FeedItem
from calldesk.domain.records import RecordKind

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AGENT, COLLEAGUE = "a-1", "a-2"
STATUSES = ("new", "pending", "resolved")
#: Texts an agent types; TOO_LONG stands for one past the limit (short in reports).
TOO_LONG = "<10,001 characters>"
TEXTS = ("", "  ", "Called the customer back.", "Refund sent.", "Refund sent.", TOO_LONG)
ATTACHMENTS = (None, "article:kb-12", "file:invoice.pdf")
#: Status changes; CURRENT stands for one from the status the record will have when
#: the drafts before it in the batch are published: the batch chains them.
CURRENT = "from the current status"
CHANGES = (None, CURRENT, CURRENT, *itertools.permutations(STATUSES, 2))
VISIBILITIES = (None, "internal", "everyone")
NOT_RESENT, AT_ONCE, AFTER_A_FIX = "not resent", "resent at once", "resent after a fix"
RESENDS = (NOT_RESENT, NOT_RESENT, AT_ONCE, AFTER_A_FIX)
#: Status changes twice as often: two in one batch must chain.
KINDS = (*ItemType, ItemType.STATUS_CHANGE)
KEYS = ("k-1", "k-2", "k-3")
CALLS = ("c-1", "c-2")
UNKNOWN_DRAFT = "no-such-draft"
#: Which drafts a command is aimed at: mostly open ones, sometimes any, even unknown.
AIMS = ("open", "open", "open", "any")
#: Mostly the batch as it is; sometimes as another tab saw it before a change.
VIEWS = ("as shown", "as shown", "as shown", "stale")


def says(draft: Draft | FeedItem) -> tuple[Any, ...]:
    change = draft.content.status_change
    return (
        draft.item_type.value,
        draft.visibility.value,
        draft.content.text,
        None if change is None else (change.from_status, change.to_status),
        draft.content.attachment,
        draft.content.call,
    )


def _described(outcome: BatchOutcome, atomic: bool) -> str:
    """How a publish went, for the statistics of a run (--hypothesis-show-statistics)."""
    if outcome.repeated:
        return "publish repeated"
    published = sum(r.feed_item is not None for r in outcome.results)
    mode = "atomic" if atomic else "per item"
    return f"published {mode}: {min(published, 3)}+ of {min(len(outcome.results), 3)}+"


def _chained(items: list[FeedItem]) -> bool:
    return sum(i.content.status_change is not None for i in items) > 1


def replayed(events: list[CanMutateAggregate[Any]]) -> Any:
    aggregate = None
    for recorded in events:
        aggregate = recorded.mutate(aggregate)
    return aggregate


class PublisherMachine(RuleBasedStateMachine):
    """One agent's publisher on case 42, a colleague's, and the case's feed."""

    #: Where teardown stores the aggregates; None: a store in memory of its own.
    store: AggregateStore | None = None
    tenants = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        # A tenant of its own per example: examples may share one store.
        tenant = f"tenant-{next(self.tenants)}"
        self.feed = Feed.start(tenant, RecordKind.CASE, "42", STATUSES[0], self.now)
        self.publisher = Publisher.start(tenant, AGENT, self.feed, self.now)
        self.colleague = Publisher.start(tenant, COLLEAGUE, self.feed, self.now)
        self.model = ReferencePublisher(str(self.publisher.id), AGENT, STATUSES[0])
        self.aggregates = (self.publisher, self.colleague, self.feed)
        self.recorded: dict[Any, list[CanMutateAggregate[Any]]] = {
            a.id: [] for a in self.aggregates
        }
        self.collect()
        self.fresh_keys = itertools.count(1)
        self.last_publish: Callable[[], tuple[Any, Any, bool]] | None = None
        self.last_ids: tuple[str, ...] = ()

    def collect(self) -> dict[Any, list[CanMutateAggregate[Any]]]:
        """What the last step recorded, per aggregate; kept for the replay checks."""
        new = {a.id: list(a.collect_events()) for a in self.aggregates}
        for aggregate_id, events in new.items():
            self.recorded[aggregate_id] += events
        return new

    def count_recorded(self) -> int:
        return sum(len(events) for events in self.collect().values())

    def step(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def aim(self, aim: str, pick: int) -> str:
        if aim == "open" and self.model.order:
            return self.model.order[pick % len(self.model.order)]
        known = [*self.model.drafts, UNKNOWN_DRAFT]
        return known[pick % len(known)]

    def expect(self, expected: Any, command: Callable[[], Any]) -> Any:
        """Run the command; a refusal the model foresaw raises it and records nothing."""
        if isinstance(expected, type) and issubclass(expected, DomainError):
            with pytest.raises(expected):
                command()
            assert self.count_recorded() == 0, "a refused command recorded something"
            return None
        return command()

    # Composing.

    @rule(
        kind=st.sampled_from(KINDS),
        visibility=st.sampled_from(VISIBILITIES),
        types=st.sampled_from((True, True, False)),
    )
    def the_agent_opens_a_draft(
        self, kind: ItemType, visibility: str | None, types: bool
    ) -> None:
        """A new draft, left empty or at once given what its type needs to publish."""
        expected = self.model.open(kind.value, visibility)
        chosen = None if visibility is None else Visibility(visibility)
        draft = self.expect(
            expected, lambda: self.publisher.open_draft(kind, self.step(), chosen)
        )
        if draft is None:
            return
        assert draft == expected
        assert self.count_recorded() == 1
        if types:
            self.edit(
                draft,
                "Refund sent.",
                CURRENT if kind is ItemType.STATUS_CHANGE else None,
                ATTACHMENTS[1] if kind is ItemType.ATTACHMENT else None,
                None,
            )

    @rule(kinds=st.lists(st.sampled_from(KINDS), min_size=2, max_size=5))
    def the_agent_composes_several_drafts(self, kinds: list[ItemType]) -> None:
        """The seed's scenario: an email, a note, a status change..., side by side."""
        for kind in kinds:
            self.the_agent_opens_a_draft(kind, None, types=True)

    @rule(call=st.sampled_from(CALLS), long=st.booleans())
    def a_call_ends_and_its_log_arrives(self, call: str, long: bool) -> None:
        summary = "x" * 10_001 if long else f"Inbound call {call}, 3 min"
        before = call in self.model.calls
        expected = self.model.call_log(call, summary)
        draft = self.expect(
            expected, lambda: self.publisher.receive_call_log(call, summary, self.step())
        )
        if draft is not None:
            assert draft == expected
            assert self.count_recorded() == int(not before)

    @rule(
        aim=st.sampled_from(AIMS),
        pick=st.integers(0, 50),
        text=st.sampled_from(TEXTS),
        change=st.sampled_from(CHANGES),
        attachment=st.sampled_from(ATTACHMENTS),
        visibility=st.sampled_from(VISIBILITIES),
        fitting=st.booleans(),
    )
    def the_agent_edits_a_draft(
        self,
        aim: str,
        pick: int,
        text: str,
        change: tuple[str, str] | str | None,
        attachment: str | None,
        visibility: str | None,
        fitting: bool,
    ) -> None:
        draft_id = self.aim(aim, pick)
        kind = self.model.drafts[draft_id].type if draft_id in self.model.drafts else ""
        if fitting:
            change = change if kind == "status-change" else None
            attachment = attachment if kind == "attachment" else None
        self.edit(draft_id, text, change, attachment, visibility)

    def edit(
        self,
        draft_id: str,
        text: str,
        change: tuple[str, str] | str | None,
        attachment: str | None,
        visibility: str | None,
    ) -> None:
        text = "x" * 10_001 if text == TOO_LONG else text
        if change == CURRENT:
            status = self.model.status_before(draft_id) or STATUSES[0]
            change = (status, next(s for s in STATUSES if s != status))
        assert not isinstance(change, str)
        expected = self.model.edit(draft_id, text, change, attachment, visibility)

        def edit() -> None:
            content = Content(
                text=text,
                status_change=None if change is None else StatusChange(*change),
                attachment=attachment,
            )
            chosen = None if visibility is None else Visibility(visibility)
            self.publisher.edit(draft_id, content, self.step(), chosen)

        self.expect(expected, edit)
        if expected in (RECORDED, UNCHANGED):
            assert self.count_recorded() == int(expected == RECORDED)

    @rule(aim=st.sampled_from(AIMS), pick=st.integers(0, 50), place=st.integers(0, 50))
    def the_agent_drags_a_draft(self, aim: str, pick: int, place: int) -> None:
        """To any place in the batch, or just outside it at either end."""
        draft_id = self.aim(aim, pick)
        places = [-1, *range(len(self.model.order) + 1)]
        position = places[place % len(places)]
        expected = self.model.move(draft_id, position)
        self.expect(expected, lambda: self.publisher.move(draft_id, position, self.step()))
        if expected in (RECORDED, UNCHANGED):
            assert self.count_recorded() == int(expected == RECORDED)

    # Closing.

    @rule(aim=st.sampled_from(AIMS), pick=st.integers(0, 50))
    def the_agent_closes_a_draft(self, aim: str, pick: int) -> None:
        self.close(self.aim(aim, pick))

    def close(self, draft_id: str) -> None:
        expected = self.model.close(draft_id)
        asked = self.expect(expected, lambda: self.publisher.close(draft_id, self.step()))
        if expected in (DISCARDED, ASKED, STILL_ASKED):
            assert asked is (expected != DISCARDED)
            assert self.count_recorded() == int(expected != STILL_ASKED)

    @rule(
        aim=st.sampled_from(AIMS),
        pick=st.integers(0, 50),
        answer=st.sampled_from(("confirm", "keep", "cancel")),
    )
    def the_agent_answers_the_close_question(
        self, aim: str, pick: int, answer: str
    ) -> None:
        asked = [d for d in self.model.order if self.model.drafts[d].asked]
        draft_id = (
            asked[pick % len(asked)] if asked and aim == "open" else self.aim(aim, pick)
        )
        self.answer(draft_id, answer)

    def answer(self, draft_id: str, answer: str) -> None:
        expected = self.model.answer(draft_id, answer)
        command = {
            "confirm": self.publisher.confirm_close,
            "keep": self.publisher.keep_for_later,
            "cancel": self.publisher.cancel_close,
        }[answer]
        self.expect(expected, lambda: command(draft_id, self.step()))
        if expected == RECORDED:
            assert self.count_recorded() == 1

    @rule(saved=st.booleans(), pick=st.integers(0, 50))
    def the_agent_brings_a_draft_back(self, saved: bool, pick: int) -> None:
        pool = self.model.saved if saved and self.model.saved else [*self.model.drafts]
        draft_id = pool[pick % len(pool)] if pool else UNKNOWN_DRAFT
        expected = self.model.restore(draft_id)
        self.expect(expected, lambda: self.publisher.restore(draft_id, self.step()))
        if expected == RECORDED:
            assert self.count_recorded() == 1

    # Publishing.

    def key(self, key: str, fresh: bool) -> str:
        return f"fresh-{next(self.fresh_keys)}" if fresh else key

    def check_publish(
        self, expected: Any, command: Callable[[], BatchOutcome], atomic: bool
    ) -> None:
        """One result per draft in order; a retry publishes nothing; an atomic batch
        publishes all of it, and the feed shows the published items in one event."""
        outcome = self.expect(expected, command)
        if outcome is None:
            event(f"publish refused: {expected.__name__}")
            return
        assert isinstance(expected, ModelOutcome)
        event(_described(outcome, atomic))
        results = tuple(
            (r.draft, r.feed_item, r.problem is not None) for r in outcome.results
        )
        assert results == expected.results, "one result per draft, in the batch's order"
        assert (outcome.repeated, outcome.move_on) == (expected.repeated, expected.move_on)
        new = self.collect()
        if outcome.repeated:
            assert not any(new.values()), "a retry published again"
            return
        assert len(new[self.publisher.id]) == 1
        published = [r.feed_item for r in outcome.results if r.feed_item is not None]
        if atomic:
            assert len(published) == len(outcome.results), "an atomic batch went halfway"
        feed_events = new[self.feed.id]
        if not published:
            assert feed_events == []
            return
        [batch] = feed_events
        assert [item.id for item in batch.items] == published  # type: ignore[attr-defined]
        if _chained(batch.items):  # type: ignore[attr-defined]
            event("published status changes chained in one batch")

    @rule(
        key=st.sampled_from(KEYS),
        fresh=st.booleans(),
        atomic=st.booleans(),
        then_next=st.booleans(),
        view=st.sampled_from(VIEWS),
        resent=st.sampled_from(RESENDS),
        tidy=st.booleans(),
    )
    def the_agent_publishes_every_open_draft(
        self,
        key: str,
        fresh: bool,
        atomic: bool,
        then_next: bool,
        view: str,
        resent: str,
        tidy: bool,
    ) -> None:
        """Publish or Publish and next; tidy, the agent first sets aside (closes, or
        keeps for later) every draft not ready, so the whole batch can go."""
        for draft_id in self.model.not_ready() if tidy else ():
            self.close(draft_id)
            if draft_id in self.model.order:
                self.answer(draft_id, "keep")
        key = self.key(key, fresh)
        shown = tuple(self.publisher.order)
        if view == "stale":
            shown = shown[:-1] if shown else (UNKNOWN_DRAFT,)
        self.last_ids = shown

        def publish() -> tuple[Any, Any, bool]:
            expected = self.model.publish(key, shown, atomic, then_next)
            at = self.step()
            return (
                expected,
                lambda: self.publisher.publish(
                    self.feed, key, shown, at, atomic=atomic, then_next=then_next
                ),
                atomic,
            )

        self.send(publish, resent)

    @rule(
        key=st.sampled_from(KEYS),
        fresh=st.booleans(),
        aim=st.sampled_from(AIMS),
        pick=st.integers(0, 50),
        resent=st.sampled_from(RESENDS),
    )
    def the_agent_publishes_one_draft(
        self, key: str, fresh: bool, aim: str, pick: int, resent: str
    ) -> None:
        key, draft_id = self.key(key, fresh), self.aim(aim, pick)
        self.last_ids = (draft_id,)

        def publish() -> tuple[Any, Any, bool]:
            expected = self.model.publish_one(key, draft_id)
            at = self.step()
            return (
                expected,
                lambda: self.publisher.publish_draft(self.feed, key, draft_id, at),
                True,
            )

        self.send(publish, resent)

    def send(self, publish: Callable[[], tuple[Any, Any, bool]], resent: str) -> None:
        """Send a publish; then perhaps again at once, as when its answer timed out, or
        after fixing one of its drafts left open, under the same key."""
        self.last_publish = publish
        self.check_publish(*publish())
        if resent == AFTER_A_FIX:
            self.fix_a_draft_left_open(0)
        if resent != NOT_RESENT:
            self.check_publish(*publish())

    @precondition(lambda self: self.last_publish is not None)
    @rule()
    def the_same_publish_arrives_again(self) -> None:
        """A retry after a timeout, or the same click from a second tab."""
        assert self.last_publish is not None
        self.check_publish(*self.last_publish())

    @precondition(lambda self: self.last_publish is not None)
    @rule(pick=st.integers(0, 50))
    def the_agent_fixes_a_draft_and_resends_under_the_same_key(self, pick: int) -> None:
        """A client that reuses its key after changing the batch: refused, once the key
        published something, since the same key must always mean the same batch."""
        assert self.last_publish is not None
        self.fix_a_draft_left_open(pick)
        self.check_publish(*self.last_publish())

    def fix_a_draft_left_open(self, pick: int) -> None:
        still_open = [d for d in self.last_ids if d in self.model.order]
        if still_open:
            draft_id = still_open[pick % len(still_open)]
            kind = self.model.drafts[draft_id].type
            attachment = ATTACHMENTS[2] if kind == "attachment" else None
            change = CURRENT if kind == "status-change" else None
            self.edit(draft_id, "Refund sent twice.", change, attachment, None)

    @rule(to=st.sampled_from(STATUSES))
    def a_colleague_changes_the_status(self, to: str) -> None:
        status = self.feed.status
        if status is None or status == to:
            return
        at = self.step()
        draft = self.colleague.open_draft(ItemType.STATUS_CHANGE, at)
        self.colleague.edit(draft, Content(status_change=StatusChange(status, to)), at)
        key = f"colleague-{next(self.fresh_keys)}"
        outcome = self.colleague.publish(self.feed, key, (draft,), at)
        [result] = outcome.results
        assert result.feed_item is not None
        self.model.published_elsewhere(
            result.feed_item, draft, COLLEAGUE, says(self.colleague.draft(draft))
        )
        self.collect()

    # What holds after every step.

    @invariant()
    def every_draft_agrees_with_the_model(self) -> None:
        model, publisher = self.model, self.publisher
        assert list(publisher.order) == model.order
        assert list(publisher.saved) == model.saved
        assert set(publisher.drafts) == set(model.drafts)
        for draft_id, expected in model.drafts.items():
            draft = publisher.drafts[draft_id]
            assert says(draft) == expected.says()
            assert draft.state.value == {"saved": "saved-for-later"}.get(
                expected.state, expected.state
            )
            assert draft.close_asked == expected.asked

    @invariant()
    def the_indicators_count_open_drafts_by_type(self) -> None:
        counts = {kind.value: n for kind, n in self.publisher.unpublished_by_type.items()}
        assert counts == dict(self.model.counts())

    @invariant()
    def the_feed_agrees_with_the_model(self) -> None:
        items = [(i.id, i.draft, i.author, says(i)) for i in self.feed.items]
        assert items == [(i.id, i.draft, i.author, i.says) for i in self.model.feed]
        assert self.feed.status == self.model.status

    @invariant()
    def no_draft_is_lost_or_published_twice(self) -> None:
        publisher = self.publisher
        by_state = Counter(d.state for d in publisher.drafts.values())
        assert by_state[DraftState.OPEN] == len(publisher.order)
        assert by_state[DraftState.SAVED] == len(publisher.saved)
        mine = [i for i in self.feed.items if i.author == AGENT]
        assert len({i.draft for i in mine}) == len(mine)
        assert by_state[DraftState.PUBLISHED] == len(mine)
        for item in mine:
            draft = publisher.drafts[item.draft]
            assert draft.feed_item == item.id
            assert says(draft) == says(item)

    @invariant()
    def each_batch_shows_whole_and_in_its_drafts_order(self) -> None:
        batches = [
            list(g) for _, g in itertools.groupby(self.feed.items, lambda i: i.batch)
        ]
        assert len({b[0].batch for b in batches}) == len(batches), "a batch was split"
        for batch in batches:
            positions = [item.position for item in batch]
            assert positions == sorted(set(positions))

    @invariant()
    def replaying_the_events_gives_the_same_aggregates(self) -> None:
        for aggregate in self.aggregates:
            again = replayed(self.recorded[aggregate.id])
            assert again.version == aggregate.version
            assert vars(again) == vars(aggregate)

    def teardown(self) -> None:
        """The same round trip through a store: events written, read back, snapshotted."""
        store = aggregate_store() if self.store is None else self.store
        for aggregate in self.aggregates:
            store.save(*self.recorded[aggregate.id])
            assert vars(store.repository.get(aggregate.id)) == vars(aggregate)
            store.take_snapshot(aggregate.id)
            assert vars(store.repository.get(aggregate.id)) == vars(aggregate)


TestPublisherMachine = PublisherMachine.TestCase
# The interesting runs are long (a per-item batch with a failure, a fix, the same key
# again; status changes chained in one batch): more runs than the profile's default.
TestPublisherMachine.settings = settings(max_examples=max(settings().max_examples, 200))


def test_publishers_and_feeds_come_back_the_same_from_each_store_and_its_snapshots(
    database_url: str,
) -> None:
    # Fewer examples than in memory: each one writes to and reads from a real store,
    # and these two runs (SQLite and PostgreSQL) must stay a few seconds in all.
    with aggregate_store(database_url) as store:
        machine = type("Machine", (PublisherMachine,), {"store": store})
        run_state_machine_as_test(machine, settings=settings(max_examples=25))

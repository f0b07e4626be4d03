"""The publisher: an agent's drafts on one record, composed side by side, published at once.

The agent opens any number of drafts (an email, two notes, a status change), edits and
reorders them, and publishes them all with one click, in their order, as one batch
(seed 002, §1.G and claims). Drafts are the agent's own until then: opening one never
publishes, saves or clears another, and the record's feed changes only when a batch
is published, in the same save as the publisher (``save(publisher, feed)``).

A batch carries an idempotency key, so a retry after a timeout or the same click from a
second tab publishes once and answers what the first did. By default a batch is all or
nothing; a per-item batch publishes what is ready and answers one result per draft,
like Salesforce's Connect REST batch API.
"""

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from calldesk.domain.drafts import (
    Draft,
    DraftCloseNotAsked,
    DraftNotFound,
    DraftNotSaved,
    DraftState,
)
from calldesk.domain.errors import InvalidValue
from calldesk.domain.feed_batches import (
    BatchNotPublishable,
    BatchOutcome,
    IdempotencyKeyReused,
    ItemResult,
    PublishedBatch,
    PublisherChanged,
    batch_results,
    checked_key,
    feed_items,
    fingerprint,
    outcome,
    refusal,
)
from calldesk.domain.feed_items import (
    Content,
    ContentDoesNotFit,
    ItemType,
    Visibility,
    checked_fit,
    checked_visibility,
    default_visibility,
)
from calldesk.domain.identity import checked_slug, stable_id
from calldesk.domain.record_feed import (
    MAX_BATCH_ITEMS,
    BatchTooLarge,
    EmptyBatch,
    Feed,
    RecordNotFound,
)
from calldesk.domain.records import RecordKind


class Publisher(Aggregate):
    """The drafts of one agent on one record of a tenant."""

    TOPIC = "calldesk.publisher.Publisher"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.publisher.Event"

    @staticmethod
    def create_id(tenant: str, agent: str, kind: RecordKind, record_id: str) -> UUID:
        return stable_id("publisher", tenant, agent, kind.value, record_id)

    @classmethod
    def start(cls, tenant: str, agent: str, feed: Feed, at: datetime) -> "Publisher":
        """The agent's empty publisher on the record whose feed this is."""
        if feed.tenant != tenant:
            raise RecordNotFound(f"no {feed} in tenant {tenant}")
        return cls(
            tenant=tenant,
            agent=checked_slug(agent, "an agent handle"),
            kind=feed.kind,
            record_id=feed.record_id,
            timestamp=at,
        )

    @event("Started", topic="calldesk.publisher.Started")
    def __init__(
        self, tenant: str, agent: str, kind: RecordKind, record_id: str, timestamp: datetime
    ) -> None:
        self.tenant = tenant
        self.agent = agent
        self.kind = kind
        self.record_id = record_id
        self.opened = 0
        self.drafts: dict[str, Draft] = {}
        # Lists, not tuples: JSON has no tuple, and a snapshot must restore state equal.
        self.order: list[str] = []
        self.saved: list[str] = []
        self.calls: dict[str, str] = {}
        self.batches: dict[str, PublishedBatch] = {}

    def __str__(self) -> str:
        return f"the publisher of agent {self.agent} on {self.kind.value} {self.record_id}"

    # What the agent sees.

    @property
    def open_drafts(self) -> tuple[Draft, ...]:
        """The next batch, in its order: position 0 is published first."""
        return tuple(self.drafts[d] for d in self.order)

    @property
    def saved_drafts(self) -> tuple[Draft, ...]:
        return tuple(self.drafts[d] for d in self.saved)

    @property
    def unpublished_by_type(self) -> dict[ItemType, int]:
        """The indicators on the publish button: how many open drafts of each type."""
        return dict(Counter(draft.item_type for draft in self.open_drafts))

    def draft(self, draft_id: str) -> Draft:
        try:
            return self.drafts[draft_id]
        except KeyError:
            raise DraftNotFound(f"no draft {draft_id} in {self}") from None

    # Composing.

    def open_draft(
        self, item_type: ItemType, at: datetime, visibility: Visibility | None = None
    ) -> str:
        """A new empty draft last in the batch; the others stay as they are."""
        visibility = checked_visibility(
            item_type, visibility or default_visibility(item_type)
        )
        draft = self._next_draft_id()
        self._draft_opened(
            draft=draft, item_type=item_type, visibility=visibility, timestamp=at
        )
        return draft

    def receive_call_log(self, call: str, summary: str, at: datetime) -> str:
        """The log of a call that ended, as a draft ready for the agent's notes; once per
        call, however often the end of the call is heard."""
        known = self.calls.get(call)
        if known is not None:
            return known
        content = Content(text=summary, call=call)
        draft = self._next_draft_id()
        self._call_log_arrived(draft=draft, content=content, timestamp=at)
        return draft

    def edit(
        self,
        draft_id: str,
        content: Content,
        at: datetime,
        visibility: Visibility | None = None,
    ) -> None:
        """The draft now says this; a call log keeps the call it logs."""
        draft = self._open(draft_id)
        if draft.item_type is ItemType.CALL_LOG:
            if content.call not in (None, draft.content.call):
                raise ContentDoesNotFit(
                    f"draft {draft_id} logs call {draft.content.call}, not {content.call}"
                )
            content = attrs.evolve(content, call=draft.content.call)
        checked_fit(draft.item_type, content)
        visibility = checked_visibility(draft.item_type, visibility or draft.visibility)
        if (content, visibility) != (draft.content, draft.visibility):
            self._draft_edited(
                draft=draft_id, content=content, visibility=visibility, timestamp=at
            )

    def move(self, draft_id: str, position: int, at: datetime) -> None:
        """Drag a draft to another place in the batch."""
        self._open(draft_id)
        if not 0 <= position < len(self.order):
            raise InvalidValue(
                f"draft {draft_id} can move to positions 0 to {len(self.order) - 1}, "
                f"not {position}"
            )
        if self.order[position] != draft_id:
            self._draft_moved(draft=draft_id, position=position, timestamp=at)

    # Closing: a draft with content asks first (seed 002, L380-L382).

    def close(self, draft_id: str, at: datetime) -> bool:
        """Close a draft; True when it has content and the agent must answer first:
        confirm (lose it), keep it for later, or cancel."""
        draft = self._open(draft_id)
        if draft.close_asked:
            return True
        if draft.content.is_blank:
            self._draft_discarded(draft=draft_id, timestamp=at)
            return False
        self._draft_close_asked(draft=draft_id, timestamp=at)
        return True

    def confirm_close(self, draft_id: str, at: datetime) -> None:
        """The agent gives up the draft and what it says."""
        self._asked(draft_id)
        self._draft_discarded(draft=draft_id, timestamp=at)

    def keep_for_later(self, draft_id: str, at: datetime) -> None:
        """The draft leaves the next batch and waits, unchanged, to be brought back."""
        self._asked(draft_id)
        self._draft_kept_for_later(draft=draft_id, timestamp=at)

    def cancel_close(self, draft_id: str, at: datetime) -> None:
        self._asked(draft_id)
        self._draft_close_cancelled(draft=draft_id, timestamp=at)

    def restore(self, draft_id: str, at: datetime) -> None:
        """A draft kept for later comes back, last in the batch."""
        draft = self.draft(draft_id)
        if draft.state is not DraftState.SAVED:
            raise DraftNotSaved(
                f"draft {draft_id} is {draft.state.value}, not kept for later"
            )
        self._draft_restored(draft=draft_id, timestamp=at)

    # Publishing.

    def publish(
        self,
        feed: Feed,
        key: str,
        drafts: Sequence[str],
        at: datetime,
        *,
        atomic: bool = True,
        then_next: bool = False,
    ) -> BatchOutcome:
        """Publish every open draft, in order, as one batch with this idempotency key.

        ``drafts`` are the open drafts in the order the agent saw them: a batch publishes
        what was shown, so a draft opened or moved meanwhile in another tab is refused
        rather than published unseen. ``atomic=False`` publishes the ready drafts and
        leaves the others open, each with its result.
        """
        return self._publish(feed, key, tuple(drafts), at, atomic, then_next, whole=True)

    def publish_draft(
        self, feed: Feed, key: str, draft_id: str, at: datetime
    ) -> BatchOutcome:
        """Publish one open draft alone; the others stay as they are."""
        return self._publish(feed, key, (draft_id,), at, True, False, whole=False)

    def _publish(
        self,
        feed: Feed,
        key: str,
        ids: tuple[str, ...],
        at: datetime,
        atomic: bool,
        then_next: bool,
        whole: bool,
    ) -> BatchOutcome:
        if feed.id != Feed.create_id(self.tenant, self.kind, self.record_id):
            raise RecordNotFound(f"the drafts of {self} are not for {feed}")
        key = checked_key(key)
        asked = fingerprint(ids, self.drafts, atomic)
        known = self.batches.get(key)
        if known is not None:
            if known.fingerprint != asked:
                raise IdempotencyKeyReused(
                    f"idempotency key {key!r} already published another batch; "
                    "send this one with a new key"
                )
            return outcome(key, known.results, then_next, repeated=True)
        batch = self._whole_batch(ids) if whole else (self._open(ids[0]),)
        results = batch_results(str(self.id), key, batch, feed.status)
        refused = refusal(batch, results)
        if atomic and refused is not None:
            raise BatchNotPublishable(refused, results)
        items = feed_items(str(self.id), self.agent, key, batch, results, at)
        if items:
            feed.publish(items, at)
        self._batch_published(
            key=key,
            fingerprint=asked,
            atomic=atomic,
            then_next=then_next,
            results=results,
            timestamp=at,
        )
        return outcome(key, results, then_next, repeated=False)

    def _whole_batch(self, ids: tuple[str, ...]) -> tuple[Draft, ...]:
        if not self.order:
            raise EmptyBatch(f"{self} has no open draft to publish")
        if list(ids) != self.order:
            raise PublisherChanged(
                f"the open drafts of {self} changed since they were shown; "
                "look at them again and publish"
            )
        if len(ids) > MAX_BATCH_ITEMS:
            raise BatchTooLarge(
                f"{len(ids)} open drafts; a batch publishes at most {MAX_BATCH_ITEMS}: "
                "keep some for later and publish them next"
            )
        return self.open_drafts

    # Rules shared by the commands.

    def _next_draft_id(self) -> str:
        return str(stable_id("draft", str(self.id), str(self.opened + 1)))

    def _open(self, draft_id: str) -> Draft:
        return self.draft(draft_id).checked_open()

    def _asked(self, draft_id: str) -> None:
        if not self._open(draft_id).close_asked:
            raise DraftCloseNotAsked(
                f"draft {draft_id} is not waiting for an answer; close it first"
            )

    # Events: each body only changes state, and runs again on every replay.

    @event("DraftOpened", topic="calldesk.publisher.DraftOpened")
    def _draft_opened(
        self, draft: str, item_type: ItemType, visibility: Visibility, timestamp: datetime
    ) -> None:
        self._add(Draft(draft, item_type, visibility, Content()))

    @event("CallLogArrived", topic="calldesk.publisher.CallLogArrived")
    def _call_log_arrived(self, draft: str, content: Content, timestamp: datetime) -> None:
        self._add(Draft(draft, ItemType.CALL_LOG, Visibility.INTERNAL, content))
        assert content.call is not None
        self.calls[content.call] = draft

    @event("DraftEdited", topic="calldesk.publisher.DraftEdited")
    def _draft_edited(
        self, draft: str, content: Content, visibility: Visibility, timestamp: datetime
    ) -> None:
        self._change(draft, content=content, visibility=visibility)

    @event("DraftMoved", topic="calldesk.publisher.DraftMoved")
    def _draft_moved(self, draft: str, position: int, timestamp: datetime) -> None:
        others = [d for d in self.order if d != draft]
        self.order = [*others[:position], draft, *others[position:]]

    @event("DraftCloseAsked", topic="calldesk.publisher.DraftCloseAsked")
    def _draft_close_asked(self, draft: str, timestamp: datetime) -> None:
        self._change(draft, close_asked=True)

    @event("DraftCloseCancelled", topic="calldesk.publisher.DraftCloseCancelled")
    def _draft_close_cancelled(self, draft: str, timestamp: datetime) -> None:
        self._change(draft, close_asked=False)

    @event("DraftDiscarded", topic="calldesk.publisher.DraftDiscarded")
    def _draft_discarded(self, draft: str, timestamp: datetime) -> None:
        self._change(draft, state=DraftState.DISCARDED, close_asked=False)
        self.order = [d for d in self.order if d != draft]

    @event("DraftKeptForLater", topic="calldesk.publisher.DraftKeptForLater")
    def _draft_kept_for_later(self, draft: str, timestamp: datetime) -> None:
        self._change(draft, state=DraftState.SAVED, close_asked=False)
        self.order = [d for d in self.order if d != draft]
        self.saved = [*self.saved, draft]

    @event("DraftRestored", topic="calldesk.publisher.DraftRestored")
    def _draft_restored(self, draft: str, timestamp: datetime) -> None:
        self._change(draft, state=DraftState.OPEN)
        self.saved = [d for d in self.saved if d != draft]
        self.order = [*self.order, draft]

    @event("BatchPublished", topic="calldesk.publisher.BatchPublished")
    def _batch_published(
        self,
        key: str,
        fingerprint: str,
        atomic: bool,
        then_next: bool,
        results: tuple[ItemResult, ...],
        timestamp: datetime,
    ) -> None:
        results = tuple(results)
        published = {r.draft: r.feed_item for r in results if r.feed_item is not None}
        for draft, feed_item in published.items():
            self._change(
                draft, state=DraftState.PUBLISHED, close_asked=False, feed_item=feed_item
            )
        self.order = [d for d in self.order if d not in published]
        self.batches[key] = PublishedBatch(fingerprint, results)

    def _add(self, draft: Draft) -> None:
        self.opened += 1
        self.drafts[draft.id] = draft
        self.order = [*self.order, draft.id]

    def _change(self, draft: str, **changes: Any) -> None:
        self.drafts[draft] = attrs.evolve(self.drafts[draft], **changes)

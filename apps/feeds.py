"""The publisher and the record's feed as use cases: drafts in, batches out, one save each.

A record's feed is created the first time one of its drafts is opened, with the status
the record directory gives the record; a record the directory does not know in the
tenant is not found, so nobody drafts on another tenant's record. Publishing saves the
publisher and the feed together: the feed never shows part of a batch.
"""

from collections.abc import Callable
from datetime import datetime

import attrs
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from calldesk.apps.aggregates import agent_named, tenant_named, workspace_of
from calldesk.apps.commands import AgentCommand
from calldesk.apps.unit_of_work import CONFLICT_ATTEMPTS, ConcurrentChange, Service, writes
from calldesk.domain.drafts import Draft
from calldesk.domain.feed import Publisher
from calldesk.domain.feed_batches import BatchOutcome
from calldesk.domain.feed_items import Content, ItemType, StatusChange, Visibility
from calldesk.domain.record_feed import (
    DEFAULT_PAGE_SIZE,
    Feed,
    FeedPage,
    RecordNotFound,
    feed_page,
)
from calldesk.domain.record_queue import RecordQueue, RecordQueueView
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.ports.directory import KnownRecord


@attrs.frozen
class RecordCommand(AgentCommand):
    """A command of an agent about one record of the tenant."""

    kind: RecordKind
    record_id: str


@attrs.frozen
class OpenDraft(RecordCommand):
    item_type: ItemType
    visibility: Visibility | None = None


@attrs.frozen
class EditDraft(RecordCommand):
    draft: str
    text: str = ""
    visibility: Visibility | None = None
    status_change: StatusChange | None = None
    attachment: str | None = None


@attrs.frozen
class MoveDraft(RecordCommand):
    draft: str
    position: int


@attrs.frozen
class DraftCommand(RecordCommand):
    """Close a draft, answer the question closing it asked, or bring it back."""

    draft: str


@attrs.frozen
class PublishDrafts(RecordCommand):
    """Publish the open drafts shown to the agent, in that order, under `key`."""

    key: str
    drafts: tuple[str, ...]
    atomic: bool = True
    then_next: bool = False


@attrs.frozen
class PublishDraft(RecordCommand):
    key: str
    draft: str


@attrs.frozen
class PublisherView:
    """What the publisher shows: the next batch in order, the drafts kept for later,
    and how many unpublished drafts of each type."""

    tenant: str
    agent: str
    record: RecordRef
    drafts: tuple[Draft, ...]
    saved: tuple[Draft, ...]
    unpublished: dict[str, int]
    status: str | None

    @classmethod
    def of(cls, publisher: Publisher, feed: Feed, record: RecordRef) -> "PublisherView":
        return cls(
            tenant=publisher.tenant,
            agent=publisher.agent,
            record=record,
            drafts=publisher.open_drafts,
            saved=publisher.saved_drafts,
            unpublished={t.value: n for t, n in publisher.unpublished_by_type.items()},
            status=feed.status,
        )


@attrs.frozen
class DraftOpened:
    draft: str
    publisher: PublisherView


@attrs.frozen
class CloseAnswer:
    """Whether the draft closed, or the agent must first confirm, keep it, or cancel."""

    asked: bool
    publisher: PublisherView


@attrs.frozen
class Published:
    """What a publish did; with "publish and next", the record the agent moved on to
    (opened in their workspace), or None when their queue is empty."""

    outcome: BatchOutcome
    publisher: PublisherView
    next_record: RecordRef | None = None


@attrs.frozen
class AssignRecordQueue(AgentCommand):
    """The records an agent works through, in order ("publish and next" moves on)."""

    records: tuple[RecordRef, ...]


class Publishing(Service):
    """Drafts per agent and record; the records' feeds."""

    SNAPSHOTS = {Publisher: 50, Feed: 50}  # noqa: RUF012 (both grow with every draft)

    @writes
    def open_draft(self, command: OpenDraft) -> DraftOpened:
        opened: list[str] = []

        def open_one(publisher: Publisher, _: Feed) -> None:
            opened.append(
                publisher.open_draft(command.item_type, command.at, command.visibility)
            )

        view = self._compose(command, open_one)
        return DraftOpened(opened[-1], view)

    @writes
    def edit_draft(self, command: EditDraft) -> PublisherView:
        content = Content(
            text=command.text,
            status_change=command.status_change,
            attachment=command.attachment,
        )
        return self._compose(
            command,
            lambda p, _: p.edit(command.draft, content, command.at, command.visibility),
        )

    @writes
    def move_draft(self, command: MoveDraft) -> PublisherView:
        return self._compose(
            command, lambda p, _: p.move(command.draft, command.position, command.at)
        )

    @writes
    def close_draft(self, command: DraftCommand) -> CloseAnswer:
        asked: list[bool] = []
        view = self._compose(
            command, lambda p, _: asked.append(p.close(command.draft, command.at))
        )
        return CloseAnswer(asked[-1], view)

    @writes
    def confirm_close(self, command: DraftCommand) -> PublisherView:
        return self._compose(
            command, lambda p, _: p.confirm_close(command.draft, command.at)
        )

    @writes
    def keep_for_later(self, command: DraftCommand) -> PublisherView:
        return self._compose(
            command, lambda p, _: p.keep_for_later(command.draft, command.at)
        )

    @writes
    def cancel_close(self, command: DraftCommand) -> PublisherView:
        return self._compose(
            command, lambda p, _: p.cancel_close(command.draft, command.at)
        )

    @writes
    def restore_draft(self, command: DraftCommand) -> PublisherView:
        return self._compose(command, lambda p, _: p.restore(command.draft, command.at))

    @writes
    def publish(self, command: PublishDrafts) -> Published:
        outcomes: list[BatchOutcome] = []
        next_records: list[RecordRef | None] = []

        def publish_all(publisher: Publisher, feed: Feed) -> list[Aggregate]:
            outcome = publisher.publish(
                feed,
                command.key,
                command.drafts,
                command.at,
                atomic=command.atomic,
                then_next=command.then_next,
            )
            outcomes.append(outcome)
            if not outcome.move_on:
                return []
            finished = self._known(command.tenant, command.kind, command.record_id).ref
            moved = self._next_in_queue(command, finished)
            next_records.append(moved[0])
            return moved[1]

        view = self._compose(command, publish_all)
        return Published(outcomes[-1], view, next_records[-1] if next_records else None)

    @writes
    def assign_record_queue(self, command: AssignRecordQueue) -> RecordQueueView:
        for record in command.records:
            self._known(command.tenant, record.kind, record.record_id)
        agent_named(self.work, command.tenant, command.agent)
        queue = self.work.change(
            lambda: self._queue(command.tenant, command.agent, command.at),
            lambda q: q.assign(command.records, command.at),
        )
        return queue.view()

    def record_queue(self, tenant: str, agent: str) -> RecordQueueView:
        agent_named(self.work, tenant, agent)
        found = self.work.find(RecordQueue, RecordQueue.create_id(tenant, agent))
        return RecordQueueView(tenant, agent, (), None) if found is None else found.view()

    @writes
    def publish_draft(self, command: PublishDraft) -> Published:
        outcomes: list[BatchOutcome] = []

        def publish_one(publisher: Publisher, feed: Feed) -> None:
            outcomes.append(
                publisher.publish_draft(feed, command.key, command.draft, command.at)
            )

        view = self._compose(command, publish_one)
        return Published(outcomes[-1], view)

    # Queries.

    def publisher(
        self, tenant: str, agent: str, kind: RecordKind, record_id: str
    ) -> PublisherView:
        """The agent's drafts on the record (none yet, when it never opened one)."""
        known = self._known(tenant, kind, record_id)
        agent_named(self.work, tenant, agent)
        feed = self.work.find(Feed, Feed.create_id(tenant, kind, record_id))
        publisher = self.work.find(
            Publisher, Publisher.create_id(tenant, agent, kind, record_id)
        )
        if feed is None or publisher is None:
            status = known.status if feed is None else feed.status
            return PublisherView(tenant, agent, known.ref, (), (), {}, status)
        return PublisherView.of(publisher, feed, known.ref)

    def feed(
        self,
        tenant: str,
        kind: RecordKind,
        record_id: str,
        *,
        types: frozenset[ItemType] | None = None,
        visibility: Visibility | None = None,
        after: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> FeedPage:
        """The record's published items, newest batch first, filtered, a page at a time."""
        self._known(tenant, kind, record_id)
        feed = self.work.find(Feed, Feed.create_id(tenant, kind, record_id))
        if feed is None:
            return FeedPage((), None)
        return feed_page(feed, types=types, visibility=visibility, after=after, limit=limit)

    # How a change is made.

    def _next_in_queue(
        self, command: RecordCommand, finished: RecordRef
    ) -> tuple[RecordRef | None, list[Aggregate]]:
        """The agent's queue moves past the finished record; the next opens as a tab."""
        queue = self.work.find(
            RecordQueue, RecordQueue.create_id(command.tenant, command.agent)
        )
        if queue is None:
            return None, []
        upcoming = queue.advance(finished, command.at)
        if upcoming is None:
            return None, [queue]
        workspace = workspace_of(self.work, command.tenant, command.agent, command.at)
        workspace.open_record(upcoming, command.at)
        return upcoming, [queue, workspace]

    def _queue(self, tenant: str, agent: str, at: datetime) -> RecordQueue:
        found = self.work.find(RecordQueue, RecordQueue.create_id(tenant, agent))
        return found or RecordQueue.start(tenant, agent, at)

    def _compose(
        self,
        command: RecordCommand,
        change: Callable[[Publisher, Feed], list[Aggregate] | None],
    ) -> PublisherView:
        """Load or start the feed and the agent's publisher, change them, save both."""
        known = self._known(command.tenant, command.kind, command.record_id)
        agent_named(self.work, command.tenant, command.agent)
        for _ in range(CONFLICT_ATTEMPTS):
            feed, publisher = self._feed_and_publisher(command, known, command.at)
            also = change(publisher, feed) or []
            try:
                self.work.save(publisher, feed, *also)
            except IntegrityError:
                self.work.forget_loaded()
                continue
            return PublisherView.of(publisher, feed, known.ref)
        raise ConcurrentChange(
            f"the drafts on {known.ref.title} kept changing; send it again"
        )

    def _feed_and_publisher(
        self, command: RecordCommand, known: KnownRecord, at: datetime
    ) -> tuple[Feed, Publisher]:
        tenant, kind, record_id = command.tenant, command.kind, command.record_id
        feed = self.work.find(Feed, Feed.create_id(tenant, kind, record_id)) or Feed.start(
            tenant, kind, record_id, known.status, at
        )
        publisher_id = Publisher.create_id(tenant, command.agent, kind, record_id)
        publisher = self.work.find(Publisher, publisher_id) or Publisher.start(
            tenant, command.agent, feed, at
        )
        return feed, publisher

    def _known(self, tenant: str, kind: RecordKind, record_id: str) -> KnownRecord:
        tenant_named(self.work, tenant)
        known = self.work.directory.record(tenant, kind, record_id)
        if known is None:
            raise RecordNotFound(f"no {kind.value} {record_id} in tenant {tenant}")
        return known

"""A batch: the drafts one publish sends, what it answers for each, and its key.

A batch carries an idempotency key, so a retry after a timeout or the same click from a
second tab publishes once and answers what the first did; the key with other drafts,
another mode or other content is refused. An all-or-nothing batch (the default)
publishes every draft or none; a per-item batch publishes the ready drafts and answers
one result per draft, in order, like Salesforce's Connect REST batch API.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime

import attrs

from calldesk.domain.drafts import Draft
from calldesk.domain.errors import InvalidValue, Refused
from calldesk.domain.feed_items import missing_content
from calldesk.domain.identity import checked_text, stable_id
from calldesk.domain.record_feed import FeedItem, status_refusal

IDEMPOTENCY_KEY_MAX_LENGTH = 128


class PublisherChanged(Refused):
    """The batch asked for is not the open drafts as they are now: look again."""


class IdempotencyKeyReused(Refused):
    """A key names one batch forever; another batch needs another key."""


class BatchNotPublishable(Refused):
    """An all-or-nothing batch with a draft not ready: nothing was published."""

    def __init__(self, message: str, results: tuple["ItemResult", ...]) -> None:
        super().__init__(message)
        self.results = results


def checked_key(key: str) -> str:
    if checked_text(key, "an idempotency key", IDEMPOTENCY_KEY_MAX_LENGTH) != key:
        raise InvalidValue("an idempotency key must not start or end with spaces")
    return key


@attrs.frozen(slots=False)
class ItemResult:
    """What publishing did with one draft: its feed item, or why it stayed a draft."""

    draft: str
    feed_item: str | None = None
    problem: str | None = None


@attrs.frozen(slots=False)
class PublishedBatch:
    """What a key published, kept to answer its retries the same."""

    fingerprint: str
    results: tuple[ItemResult, ...]


@attrs.frozen
class BatchOutcome:
    """The answer to a publish: one result per draft, in the batch's order.

    ``move_on`` tells the app layer to show the next record of the agent's queue: it
    was asked for ("Publish and next") and every draft was published, so no draft is
    left behind unseen.
    """

    key: str
    results: tuple[ItemResult, ...]
    repeated: bool
    move_on: bool


def outcome(
    key: str, results: tuple[ItemResult, ...], then_next: bool, repeated: bool
) -> BatchOutcome:
    everything = all(result.feed_item is not None for result in results)
    return BatchOutcome(key, results, repeated, move_on=then_next and everything)


def fingerprint(ids: tuple[str, ...], drafts: Mapping[str, Draft], atomic: bool) -> str:
    """What makes two requests under one key the same batch: the mode, the drafts
    and what they say."""
    described: list[object] = [atomic]
    for draft_id in ids:
        draft = drafts.get(draft_id)
        described.append([draft_id] + ([] if draft is None else _described(draft)))
    return hashlib.sha256(json.dumps(described).encode()).hexdigest()


def _described(draft: Draft) -> list[str | None]:
    change = draft.content.status_change
    return [
        draft.item_type.value,
        draft.visibility.value,
        draft.content.text,
        None if change is None else change.from_status,
        None if change is None else change.to_status,
        draft.content.attachment,
        draft.content.call,
    ]


def feed_item_id(publisher: str, key: str, position: int) -> str:
    """The same batch always makes the same items: a retry cannot make others."""
    return str(stable_id("feed-item", publisher, key, str(position)))


def batch_results(
    publisher: str, key: str, batch: tuple[Draft, ...], status: str | None
) -> tuple[ItemResult, ...]:
    """One result per draft, in order; each status change starts from the status the
    ones before it in the batch left, beginning with the record's."""
    results = []
    for position, draft in enumerate(batch):
        change = draft.content.status_change
        problem = missing_content(draft.item_type, draft.content)
        if problem is None and change is not None:
            problem = status_refusal(change, status)
        if problem is not None:
            results.append(ItemResult(draft.id, problem=problem))
            continue
        if change is not None:
            status = change.to_status
        results.append(ItemResult(draft.id, feed_item_id(publisher, key, position)))
    return tuple(results)


def refusal(batch: tuple[Draft, ...], results: tuple[ItemResult, ...]) -> str | None:
    """Why an all-or-nothing batch publishes nothing, naming each draft not ready."""
    problems = [
        f"{place}. {draft.item_type.label}: {result.problem}"
        for place, (draft, result) in enumerate(zip(batch, results, strict=True), 1)
        if result.problem is not None
    ]
    return f"nothing was published, because {'; '.join(problems)}" if problems else None


def feed_items(
    publisher: str,
    author: str,
    key: str,
    batch: tuple[Draft, ...],
    results: tuple[ItemResult, ...],
    at: datetime,
) -> tuple[FeedItem, ...]:
    """The published drafts as items of the record's feed, in the batch's order."""
    batch_id = str(stable_id("batch", publisher, key))
    return tuple(
        FeedItem(
            id=result.feed_item,
            draft=draft.id,
            batch=batch_id,
            position=position,
            author=author,
            item_type=draft.item_type,
            visibility=draft.visibility,
            content=draft.content,
            published_at=at,
        )
        for position, (draft, result) in enumerate(zip(batch, results, strict=True))
        if result.feed_item is not None
    )

"""A plain reference model of one agent's publisher and its record's feed.

Written from the issue's words, sharing no code with calldesk.domain.feed: the stateful
test drives both with the same commands and checks they agree on every draft, on the
order of the next batch, on each published item and on which commands are refused.
Only the refusals' classes and the rule for derived ids come from calldesk.
"""

from collections import Counter
from typing import Any

import attrs

from calldesk.domain.drafts import (
    DraftCloseNotAsked,
    DraftNotFound,
    DraftNotOpen,
    DraftNotSaved,
)
from calldesk.domain.errors import DomainError, InvalidValue
from calldesk.domain.feed_batches import (
    BatchNotPublishable,
    IdempotencyKeyReused,
    PublisherChanged,
)
from calldesk.domain.feed_items import (
    ContentDoesNotFit,
    ContentTooLong,
    VisibilityNotAllowed,
)
from calldesk.domain.identity import stable_id
from calldesk.domain.record_feed import BatchTooLarge, EmptyBatch

RECORDED = "recorded"
UNCHANGED = "unchanged"
DISCARDED, ASKED, STILL_ASKED = "discarded", "asked", "still asked"
Refusal = type[DomainError]

LIMIT = 10_000
MAX_BATCH = 500
FIXED = {"email": "everyone", "internal-note": "internal"}


@attrs.define
class ModelDraft:
    id: str
    type: str
    visibility: str
    text: str = ""
    status: tuple[str, str] | None = None
    attachment: str | None = None
    call: str | None = None
    state: str = "open"
    asked: bool = False

    def says(self) -> tuple[Any, ...]:
        return (
            self.type,
            self.visibility,
            self.text,
            self.status,
            self.attachment,
            self.call,
        )

    def blank(self) -> bool:
        return not self.text.strip() and (self.status, self.attachment, self.call) == (
            None,
            None,
            None,
        )


@attrs.frozen
class ModelItem:
    id: str
    draft: str
    author: str
    says: tuple[Any, ...]


@attrs.frozen
class ModelOutcome:
    #: (draft, feed item or None, whether it has a problem), in the batch's order.
    results: tuple[tuple[str, str | None, bool], ...]
    repeated: bool
    move_on: bool


@attrs.define
class ReferencePublisher:
    publisher: str
    agent: str
    status: str | None
    drafts: dict[str, ModelDraft] = attrs.field(factory=dict)
    order: list[str] = attrs.field(factory=list)
    saved: list[str] = attrs.field(factory=list)
    calls: dict[str, str] = attrs.field(factory=dict)
    opened: int = 0
    #: key -> (what was asked, the results it answered)
    keys: dict[str, tuple[Any, tuple[tuple[str, str | None, bool], ...]]] = attrs.field(
        factory=dict
    )
    feed: list[ModelItem] = attrs.field(factory=list)

    def counts(self) -> Counter[str]:
        return Counter(self.drafts[d].type for d in self.order)

    # Composing.

    def open(self, kind: str, visibility: str | None) -> str | Refusal:
        fixed = FIXED.get(kind)
        chosen = visibility or fixed or "internal"
        if fixed is not None and chosen != fixed:
            return VisibilityNotAllowed
        return self._add(ModelDraft(self._next_id(), kind, chosen))

    def call_log(self, call: str, summary: str) -> str | Refusal:
        if call in self.calls:
            return self.calls[call]
        if len(summary) > LIMIT:
            return ContentTooLong
        draft = self._add(ModelDraft(self._next_id(), "call-log", "internal", summary))
        self.drafts[draft].call = call
        self.calls[call] = draft
        return draft

    def edit(
        self,
        draft_id: str,
        text: str,
        status: tuple[str, str] | None,
        attachment: str | None,
        visibility: str | None,
    ) -> str | Refusal:
        if len(text) > LIMIT:
            return ContentTooLong
        draft = self.drafts.get(draft_id)
        if draft is None:
            return DraftNotFound
        if draft.state != "open":
            return DraftNotOpen
        if (status is not None and draft.type != "status-change") or (
            attachment is not None and draft.type != "attachment"
        ):
            return ContentDoesNotFit
        chosen = visibility or draft.visibility
        if FIXED.get(draft.type, chosen) != chosen:
            return VisibilityNotAllowed
        said = (draft.text, draft.status, draft.attachment, draft.visibility)
        if said == (text, status, attachment, chosen):
            return UNCHANGED
        draft.text, draft.status, draft.attachment, draft.visibility = (
            text,
            status,
            attachment,
            chosen,
        )
        return RECORDED

    def move(self, draft_id: str, position: int) -> str | Refusal:
        refused = self._refused_unless_open(draft_id)
        if refused:
            return refused
        if not 0 <= position < len(self.order):
            return InvalidValue
        if self.order[position] == draft_id:
            return UNCHANGED
        self.order.remove(draft_id)
        self.order.insert(position, draft_id)
        return RECORDED

    # Closing: ask when there is something to lose.

    def close(self, draft_id: str) -> str | Refusal:
        refused = self._refused_unless_open(draft_id)
        if refused:
            return refused
        draft = self.drafts[draft_id]
        if draft.asked:
            return STILL_ASKED
        if draft.blank():
            self._leave(draft, "discarded")
            return DISCARDED
        draft.asked = True
        return ASKED

    def answer(self, draft_id: str, answer: str) -> str | Refusal:
        refused = self._refused_unless_open(draft_id)
        if refused:
            return refused
        draft = self.drafts[draft_id]
        if not draft.asked:
            return DraftCloseNotAsked
        draft.asked = False
        if answer == "confirm":
            self._leave(draft, "discarded")
        elif answer == "keep":
            self._leave(draft, "saved")
            self.saved.append(draft_id)
        return RECORDED

    def restore(self, draft_id: str) -> str | Refusal:
        draft = self.drafts.get(draft_id)
        if draft is None:
            return DraftNotFound
        if draft.state != "saved":
            return DraftNotSaved
        draft.state = "open"
        self.saved.remove(draft_id)
        self.order.append(draft_id)
        return RECORDED

    # Publishing.

    def publish(
        self, key: str, ids: tuple[str, ...], atomic: bool, then_next: bool
    ) -> ModelOutcome | Refusal:
        known = self._known(key, ids, atomic, then_next)
        if known is not None:
            return known
        if not self.order:
            return EmptyBatch
        if list(ids) != self.order:
            return PublisherChanged
        if len(ids) > MAX_BATCH:
            return BatchTooLarge
        return self._publish(key, ids, atomic, then_next)

    def publish_one(self, key: str, draft_id: str) -> ModelOutcome | Refusal:
        known = self._known(key, (draft_id,), True, False)
        if known is not None:
            return known
        refused = self._refused_unless_open(draft_id)
        if refused:
            return refused
        return self._publish(key, (draft_id,), True, False)

    def published_elsewhere(self, item: str, draft: str, author: str, says: Any) -> None:
        """Another agent's batch of one status change on the same record."""
        self.feed.append(ModelItem(item, draft, author, says))
        self.status = says[3][1]

    def status_before(self, draft_id: str) -> str | None:
        """The status the record will have once the drafts before this one publish."""
        status = self.status
        for before in (
            self.order[: self.order.index(draft_id)] if draft_id in self.order else ()
        ):
            draft = self.drafts[before]
            if draft.status is not None and self._ready(draft, status):
                status = draft.status[1]
        return status

    def not_ready(self) -> list[str]:
        """The open drafts the next batch could not publish, as the agent sees them."""
        status, unready = self.status, []
        for draft_id in self.order:
            draft = self.drafts[draft_id]
            if not self._ready(draft, status):
                unready.append(draft_id)
            elif draft.status is not None:
                status = draft.status[1]
        return unready

    def _asked(self, ids: tuple[str, ...], atomic: bool) -> Any:
        return (
            atomic,
            ids,
            tuple(d.says() if d else None for d in map(self.drafts.get, ids)),
        )

    def _known(
        self, key: str, ids: tuple[str, ...], atomic: bool, then_next: bool
    ) -> ModelOutcome | Refusal | None:
        if key not in self.keys:
            return None
        asked, results = self.keys[key]
        if asked != self._asked(ids, atomic):
            return IdempotencyKeyReused
        return ModelOutcome(results, True, then_next and all(r[1] for r in results))

    def _publish(
        self, key: str, ids: tuple[str, ...], atomic: bool, then_next: bool
    ) -> ModelOutcome | Refusal:
        asked = self._asked(ids, atomic)
        status = self.status
        results = []
        for position, draft_id in enumerate(ids):
            draft = self.drafts[draft_id]
            ready = self._ready(draft, status)
            if ready and draft.status is not None:
                status = draft.status[1]
            item = self._item_id(key, position) if ready else None
            results.append((draft_id, item, not ready))
        if atomic and any(problem for _, _, problem in results):
            return BatchNotPublishable
        for draft_id, item, _ in results:
            if item is not None:
                draft = self.drafts[draft_id]
                self.feed.append(ModelItem(item, draft_id, self.agent, draft.says()))
                self._leave(draft, "published")
        self.status = status
        self.keys[key] = (asked, tuple(results))
        return ModelOutcome(tuple(results), False, then_next and all(r[1] for r in results))

    def _ready(self, draft: ModelDraft, status: str | None) -> bool:
        if draft.type == "attachment":
            return draft.attachment is not None
        if draft.type == "status-change":
            return draft.status is not None and draft.status[0] == status
        return draft.call is not None or bool(draft.text.strip())

    # Bookkeeping.

    def _next_id(self) -> str:
        self.opened += 1
        return str(stable_id("draft", self.publisher, str(self.opened)))

    def _item_id(self, key: str, position: int) -> str:
        return str(stable_id("feed-item", self.publisher, key, str(position)))

    def _add(self, draft: ModelDraft) -> str:
        self.drafts[draft.id] = draft
        self.order.append(draft.id)
        return draft.id

    def _leave(self, draft: ModelDraft, state: str) -> None:
        draft.state, draft.asked = state, False
        self.order.remove(draft.id)

    def _refused_unless_open(self, draft_id: str) -> Refusal | None:
        draft = self.drafts.get(draft_id)
        if draft is None:
            return DraftNotFound
        if draft.state != "open":
            return DraftNotOpen
        return None

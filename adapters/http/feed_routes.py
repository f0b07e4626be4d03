"""The publisher and the record's feed over HTTP: an agent's drafts, batches, the feed.

Every path names the agent (the token's own: a supervisor may read, not compose) and
the record; every command answers with the publisher as it now is, or a problem.
"""

import enum
from typing import Annotated, Any

import attrs
from annotated_types import MaxLen
from litestar import Request, Router, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from calldesk.adapters.http.auth import Acting
from calldesk.adapters.http.bodies import Position, RecordBody, Text
from calldesk.adapters.http.problems import PROBLEM_RESPONSES
from calldesk.adapters.http.routes import Who, desk_of
from calldesk.apps.feeds import (
    AssignRecordQueue,
    CloseAnswer,
    DraftCommand,
    DraftOpened,
    EditDraft,
    MoveDraft,
    OpenDraft,
    PublishDraft,
    PublishDrafts,
    Published,
    PublisherView,
)
from calldesk.domain.errors import InvalidValue
from calldesk.domain.feed_batches import IDEMPOTENCY_KEY_MAX_LENGTH
from calldesk.domain.feed_items import (
    ATTACHMENT_MAX_LENGTH,
    CONTENT_MAX_LENGTH,
    ItemType,
    StatusChange,
    Visibility,
)
from calldesk.domain.record_feed import DEFAULT_PAGE_SIZE, FeedPage
from calldesk.domain.record_queue import RecordQueueView
from calldesk.domain.records import RecordKind

PUBLISHER = "/agents/{agent:str}/records/{kind:str}/{record_id:str}/publisher"
DRAFT = PUBLISHER + "/drafts/{draft:str}"


@attrs.frozen
class OpenDraftBody:
    item_type: ItemType
    visibility: Visibility | None = None


@attrs.frozen
class StatusChangeBody:
    from_status: str
    to_status: str


@attrs.frozen
class EditDraftBody:
    text: Annotated[str, MaxLen(CONTENT_MAX_LENGTH)] = ""
    visibility: Visibility | None = None
    status_change: StatusChangeBody | None = None
    attachment: Annotated[str, MaxLen(ATTACHMENT_MAX_LENGTH)] | None = None


@attrs.frozen
class MoveDraftBody:
    position: Position


IdempotencyKey = Annotated[str, MaxLen(IDEMPOTENCY_KEY_MAX_LENGTH)]


@attrs.frozen
class PublishBody:
    """The open drafts as the agent saw them, in order, under an idempotency key."""

    key: IdempotencyKey
    drafts: tuple[Text, ...]
    atomic: bool = True
    then_next: bool = False


class CloseChoice(enum.Enum):
    CONFIRM = "confirm"  # lose the draft
    KEEP_FOR_LATER = "keep-for-later"
    CANCEL = "cancel"  # it stays open


@attrs.frozen
class CloseAnswerBody:
    answer: CloseChoice


@attrs.frozen
class PublishDraftBody:
    key: IdempotencyKey


def _record(kind: str) -> RecordKind:
    try:
        return RecordKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in RecordKind)
        raise InvalidValue(f"{kind!r} is not a kind of record: {known}") from None


@attrs.frozen
class RecordAction:
    """Who acts on which record, and when: the fields every composing command shares."""

    fields: dict[str, Any]


def _about(acting: Acting, kind: FromPath[str], record_id: FromPath[str]) -> RecordAction:
    """The composing agent (the token's own) and the record, from the path."""
    return RecordAction({**acting.fields, "kind": _record(kind), "record_id": record_id})


About = NamedDependency[RecordAction]


@get(PUBLISHER, sync_to_thread=True, responses=PROBLEM_RESPONSES)
def show_publisher(
    request: Request[Any, Any, Any],
    who: Who,
    agent: FromPath[str],
    kind: FromPath[str],
    record_id: FromPath[str],
) -> PublisherView:
    """The agent's drafts on the record: the next batch in order, those kept for later."""
    return desk_of(request).publisher(who.tenant, agent, _record(kind), record_id)


@post(PUBLISHER + "/drafts", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def open_draft(
    request: Request[Any, Any, Any],
    about: About,
    data: JSONBody[OpenDraftBody],
) -> DraftOpened:
    """A new empty draft, last; the other drafts stay as they are."""
    command = OpenDraft(
        **about.fields,
        item_type=data.item_type,
        visibility=data.visibility,
    )
    return desk_of(request).open_draft(command)


@put(DRAFT, sync_to_thread=True, responses=PROBLEM_RESPONSES)
def edit_draft(
    request: Request[Any, Any, Any],
    about: About,
    draft: FromPath[str],
    data: JSONBody[EditDraftBody],
) -> PublisherView:
    """What the draft says now."""
    change = data.status_change
    command = EditDraft(
        **about.fields,
        draft=draft,
        text=data.text,
        visibility=data.visibility,
        status_change=None
        if change is None
        else StatusChange(change.from_status, change.to_status),
        attachment=data.attachment,
    )
    return desk_of(request).edit_draft(command)


@post(DRAFT + "/move", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=200)
def move_draft(
    request: Request[Any, Any, Any],
    about: About,
    draft: FromPath[str],
    data: JSONBody[MoveDraftBody],
) -> PublisherView:
    command = MoveDraft(**about.fields, draft=draft, position=data.position)
    return desk_of(request).move_draft(command)


@post(DRAFT + "/close", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=200)
def close_draft(
    request: Request[Any, Any, Any],
    about: About,
    draft: FromPath[str],
) -> CloseAnswer:
    """Close a draft; one with content asks first (asked: true) and stays open until
    the answer."""
    command = DraftCommand(**about.fields, draft=draft)
    return desk_of(request).close_draft(command)


@post(DRAFT + "/answer", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=200)
def answer_close(
    request: Request[Any, Any, Any],
    about: About,
    draft: FromPath[str],
    data: JSONBody[CloseAnswerBody],
) -> PublisherView:
    """Answer what closing asked: give the draft up, keep it for later, or keep it open."""
    command = DraftCommand(**about.fields, draft=draft)
    desk = desk_of(request)
    answers = {
        CloseChoice.CONFIRM: desk.confirm_close,
        CloseChoice.KEEP_FOR_LATER: desk.keep_for_later,
        CloseChoice.CANCEL: desk.cancel_close,
    }
    return answers[data.answer](command)


@post(DRAFT + "/restore", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=200)
def restore_draft(
    request: Request[Any, Any, Any],
    about: About,
    draft: FromPath[str],
) -> PublisherView:
    """Bring a draft kept for later back, last in the batch."""
    command = DraftCommand(**about.fields, draft=draft)
    return desk_of(request).restore_draft(command)


@post(
    PUBLISHER + "/publish",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
    status_code=200,
)
def publish(
    request: Request[Any, Any, Any],
    about: About,
    data: JSONBody[PublishBody],
) -> Published:
    """Publish the open drafts as one batch: all or nothing, or per item with a result
    each; the same key again answers what the first did."""
    command = PublishDrafts(
        **about.fields,
        key=data.key,
        drafts=data.drafts,
        atomic=data.atomic,
        then_next=data.then_next,
    )
    return desk_of(request).publish(command)


@post(DRAFT + "/publish", sync_to_thread=True, responses=PROBLEM_RESPONSES, status_code=200)
def publish_draft(
    request: Request[Any, Any, Any],
    about: About,
    draft: FromPath[str],
    data: JSONBody[PublishDraftBody],
) -> Published:
    """Publish one draft alone."""
    command = PublishDraft(**about.fields, key=data.key, draft=draft)
    return desk_of(request).publish_draft(command)


@get(
    "/records/{kind:str}/{record_id:str}/feed",
    sync_to_thread=True,
    responses=PROBLEM_RESPONSES,
)
def record_feed(
    request: Request[Any, Any, Any],
    who: Who,
    kind: FromPath[str],
    record_id: FromPath[str],
    item_type: FromQuery[list[ItemType] | None] = None,
    visibility: FromQuery[Visibility | None] = None,
    after: FromQuery[str | None] = None,
    limit: FromQuery[int] = DEFAULT_PAGE_SIZE,
) -> FeedPage:
    """The record's published items, newest batch first; `after` pages on."""
    return desk_of(request).feed(
        who.tenant,
        _record(kind),
        record_id,
        types=None if not item_type else frozenset(item_type),
        visibility=visibility,
        after=after,
        limit=limit,
    )


@attrs.frozen
class QueueBody:
    records: tuple[RecordBody, ...]


@get("/agents/{agent:str}/queue", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def show_queue(
    request: Request[Any, Any, Any], who: Who, agent: FromPath[str]
) -> RecordQueueView:
    """The records the agent works through; "publish and next" moves on to the next."""
    return desk_of(request).record_queue(who.tenant, agent)


@put("/agents/{agent:str}/queue", sync_to_thread=True, responses=PROBLEM_RESPONSES)
def assign_queue(
    request: Request[Any, Any, Any], acting: Acting, data: JSONBody[QueueBody]
) -> RecordQueueView:
    command = AssignRecordQueue(
        **acting.fields,
        records=tuple(record.ref() for record in data.records),
    )
    return desk_of(request).assign_record_queue(command)


feed_api = Router(
    path="/",
    dependencies={"about": Provide(_about, sync_to_thread=False)},
    route_handlers=[
        show_publisher,
        open_draft,
        edit_draft,
        move_draft,
        close_draft,
        answer_close,
        restore_draft,
        publish,
        publish_draft,
        record_feed,
        show_queue,
        assign_queue,
    ],
)

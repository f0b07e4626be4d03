"""What a feed item says: its type, who may see it, and its content, with their rules.

A draft in a publisher and a published item of a record's feed carry the same three
things, so both are checked by the rules here: the shape of the content when it is
typed, and whether there is anything to publish when it is published.
"""

import enum

import attrs

from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import checked_code, checked_text

#: The most characters the text of one feed item may hold.
CONTENT_MAX_LENGTH = 10_000
ATTACHMENT_MAX_LENGTH = 200
CALL_ID_MAX_LENGTH = 64


class UnknownItemType(InvalidValue):
    """Only the feed item types calldesk knows can be composed."""


class ContentTooLong(InvalidValue):
    """Text past CONTENT_MAX_LENGTH is refused, never cut."""


class ContentDoesNotFit(InvalidValue):
    """A part of the content that this type of item does not have."""


class VisibilityNotAllowed(InvalidValue):
    """An email always reaches the customer; an internal note never does."""


class ItemType(enum.Enum):
    TEXT_POST = "text-post"
    EMAIL = "email"
    INTERNAL_NOTE = "internal-note"
    CALL_LOG = "call-log"
    CASE_COMMENT = "case-comment"
    STATUS_CHANGE = "status-change"
    ATTACHMENT = "attachment"

    @classmethod
    def named(cls, name: str) -> "ItemType":
        """The type an edge names, like "internal-note", or a refusal listing them all."""
        try:
            return cls(name)
        except ValueError:
            known = ", ".join(kind.value for kind in cls)
            raise UnknownItemType(
                f"no feed item type is called {name!r}; the types are {known}"
            ) from None

    @property
    def label(self) -> str:
        return self.value.replace("-", " ")


class Visibility(enum.Enum):
    """Who sees a published item: the tenant's agents only, or the customer too."""

    INTERNAL = "internal"
    EVERYONE = "everyone"


#: The types whose visibility is fixed by what they are.
_FIXED_VISIBILITY = {
    ItemType.EMAIL: Visibility.EVERYONE,
    ItemType.INTERNAL_NOTE: Visibility.INTERNAL,
}


def default_visibility(item_type: ItemType) -> Visibility:
    """Internal unless the type is for the customer: nothing leaks by default."""
    return _FIXED_VISIBILITY.get(item_type, Visibility.INTERNAL)


def checked_visibility(item_type: ItemType, visibility: Visibility) -> Visibility:
    fixed = _FIXED_VISIBILITY.get(item_type)
    if fixed is not None and visibility is not fixed:
        raise VisibilityNotAllowed(
            f"an {item_type.label} is always visible to {fixed.value}, "
            f"never to {visibility.value}"
        )
    return visibility


def _status(_: object, attribute: "attrs.Attribute[str]", value: str) -> None:
    checked_code(value, f"a status ({attribute.name.removesuffix('_status')})")


@attrs.frozen(slots=False)
class StatusChange:
    """The record's status moving on, e.g. from "pending" to "resolved"."""

    from_status: str = attrs.field(validator=_status)
    to_status: str = attrs.field(validator=_status)

    def __attrs_post_init__(self) -> None:
        if self.from_status == self.to_status:
            raise InvalidValue(
                f"a status change goes somewhere: it is {self.from_status} already"
            )


def _text(_: object, __: object, value: str) -> None:
    if len(value) > CONTENT_MAX_LENGTH:
        raise ContentTooLong(
            f"the text is {len(value)} characters long; at most {CONTENT_MAX_LENGTH} "
            "are allowed: shorten it, or attach it as a file"
        )


def _attachment(_: object, __: object, value: str | None) -> None:
    if value is None:
        return
    if checked_text(value, "an attachment reference", ATTACHMENT_MAX_LENGTH) != value:
        raise InvalidValue("an attachment reference must not start or end with spaces")


def _call(_: object, __: object, value: str | None) -> None:
    if value is not None and checked_text(value, "a call id", CALL_ID_MAX_LENGTH) != value:
        raise InvalidValue("a call id must not start or end with spaces")


@attrs.frozen(slots=False)
class Content:
    """What an item says. Text for every type; the other parts only for their type:
    the status change, the attached file or knowledge article, the call logged."""

    text: str = attrs.field(default="", validator=_text)
    status_change: StatusChange | None = None
    attachment: str | None = attrs.field(default=None, validator=_attachment)
    call: str | None = attrs.field(default=None, validator=_call)

    @property
    def is_blank(self) -> bool:
        """Nothing typed nor chosen: closing it loses nothing."""
        return not self.text.strip() and (
            self.status_change is None and self.attachment is None and self.call is None
        )


_PARTS_OF = {
    "status_change": ItemType.STATUS_CHANGE,
    "attachment": ItemType.ATTACHMENT,
    "call": ItemType.CALL_LOG,
}


def checked_fit(item_type: ItemType, content: Content) -> Content:
    """Content with no part this type lacks: a note has no new status."""
    for part, owner in _PARTS_OF.items():
        if getattr(content, part) is not None and item_type is not owner:
            raise ContentDoesNotFit(
                f"{item_type.label} items have no {part.replace('_', ' ')}; "
                f"only {owner.label} items do"
            )
    return content


def missing_content(item_type: ItemType, content: Content) -> str | None:
    """Why this item has nothing to publish yet, or None when it is ready. A call log
    the agent opened by hand logs a call calldesk did not hear: its text says it all."""
    if item_type is ItemType.STATUS_CHANGE:
        return None if content.status_change else "no new status is chosen"
    if item_type is ItemType.ATTACHMENT:
        return None if content.attachment else "no file or article is attached"
    if item_type is ItemType.CALL_LOG and content.call is not None:
        return None
    return None if content.text.strip() else "it is empty"

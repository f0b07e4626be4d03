"""A draft: one prompt of a publisher, from opened to published, closed or kept for later.

A draft with content is never lost silently: closing it asks first, and the answer may
keep it for later, out of the next batch, until the agent brings it back (seed 002,
L380-L382, L396).
"""

import enum

import attrs

from calldesk.domain.errors import NotFound, Refused
from calldesk.domain.feed_items import Content, ItemType, Visibility


class DraftNotFound(NotFound):
    """No such draft in this publisher."""


class DraftNotOpen(Refused):
    """Only an open draft is edited, moved, closed or published alone."""


class DraftCloseNotAsked(Refused):
    """An answer needs its question: close the draft first."""


class DraftNotSaved(Refused):
    """Only a draft kept for later is brought back."""


class DraftState(enum.Enum):
    OPEN = "open"
    SAVED = "saved-for-later"
    DISCARDED = "discarded"
    PUBLISHED = "published"


_NOT_OPEN = {
    DraftState.SAVED: "bring it back first",
    DraftState.DISCARDED: "it was closed; open a new one",
    DraftState.PUBLISHED: "a published item stays as it was published",
}


@attrs.frozen(slots=False)
class Draft:
    """One prompt; where it stands in the next batch is the publisher's to say."""

    id: str
    item_type: ItemType
    visibility: Visibility
    content: Content
    state: DraftState = DraftState.OPEN
    close_asked: bool = False
    feed_item: str | None = None

    def checked_open(self) -> "Draft":
        if self.state is not DraftState.OPEN:
            raise DraftNotOpen(
                f"draft {self.id} is {self.state.value}: {_NOT_OPEN[self.state]}"
            )
        return self

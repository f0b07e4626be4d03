"""The tabs of an agent's console, the focus and its history: values and how they change.

A primary tab holds a record, an external page, or a screen pop's search results. A
record's primary tab holds subtabs, its own detail subtab first. Focus rests on a *view*,
what the agent actually sees: a subtab, or a primary tab that has no subtabs; None is the
navigation tab. The Workspace aggregate decides what happens; this module only says how
the tabs look afterwards, so an event body is one call here and stays O(open tabs).
"""

import enum
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs

from calldesk.domain.errors import InvalidValue
from calldesk.domain.identity import NAME_MAX_LENGTH, checked_text
from calldesk.domain.records import RecordRef

#: How many closed primary tabs can be reopened; older ones are forgotten.
CLOSED_TABS_KEPT = 10
#: A record title fits a label whole, so a default label is never cut.
LABEL_MAX_LENGTH = NAME_MAX_LENGTH
URL_MAX_LENGTH = 2000
#: Browsers cannot read the title of another site's page (seed C44).
EXTERNAL_PAGE_LABEL = "External Page"


class TabKind(enum.Enum):
    RECORD = "record"
    PAGE = "page"
    SEARCH = "search"


class CloseCause(enum.Enum):
    """Who asked for a tab to close: the agent, or the end of the call that opened it."""

    AGENT = "agent"
    CALL_ENDED = "call-ended"


def checked_label(label: str) -> str:
    return checked_text(label, "a tab label", LABEL_MAX_LENGTH)


def checked_url(url: str) -> str:
    """An external page: an absolute http or https address, as the browser will load it."""
    if len(url) > URL_MAX_LENGTH:
        raise InvalidValue(
            f"a page address is {len(url)} characters long; "
            f"at most {URL_MAX_LENGTH} are allowed"
        )
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise InvalidValue(f"{url!r} is not a page address: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidValue(
            f"{url!r} is not a page address; give a whole http or https address, "
            "like https://billing.example.com/invoices/42"
        )
    if any(char.isspace() or not char.isprintable() for char in url):
        raise InvalidValue(f"a page address must not contain spaces: {url!r}")
    return url


def same_record(one: RecordRef, other: RecordRef) -> bool:
    """A record is its kind and id; the title may have changed since it was looked up."""
    return one.kind is other.kind and one.record_id == other.record_id


@attrs.frozen(slots=False)
class Subtab:
    """A record shown inside a primary tab; the first is the primary record's detail."""

    tab_id: str
    record: RecordRef
    label: str
    highlighted: bool = False
    unsaved: bool = False
    close_requested: CloseCause | None = None


@attrs.frozen(slots=False)
class PrimaryTab:
    """A workspace tab: what it holds, how it shows, and what opened it.

    `duplicate` marks a tab opened on purpose for a record or page already open; `call`
    is the call whose screen pop opened it, so the call's end can close it.
    """

    tab_id: str
    kind: TabKind
    label: str
    record: RecordRef | None = None
    url: str | None = None
    matches: tuple[RecordRef, ...] = ()
    subtabs: tuple[Subtab, ...] = ()
    pinned: bool = False
    highlighted: bool = False
    unsaved: bool = False
    close_requested: CloseCause | None = None
    duplicate: bool = False
    call: str | None = None

    @property
    def has_unsaved_changes(self) -> bool:
        return self.unsaved or any(subtab.unsaved for subtab in self.subtabs)

    @property
    def views(self) -> tuple[str, ...]:
        """Where focus can rest inside this tab: its subtabs, else the tab itself."""
        return tuple(subtab.tab_id for subtab in self.subtabs) or (self.tab_id,)

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.tab_id, *(subtab.tab_id for subtab in self.subtabs))

    def holds_the_same_as(self, other: "PrimaryTab") -> bool:
        """The same record or page; search results are never the same twice."""
        if self.record is not None and other.record is not None:
            return same_record(self.record, other.record)
        return self.url is not None and self.url == other.url

    def as_closed(self) -> "PrimaryTab":
        """What a reopen brings back: the unsaved changes were given up, the call let go."""
        return attrs.evolve(
            self,
            unsaved=False,
            close_requested=None,
            call=None,
            subtabs=tuple(
                attrs.evolve(subtab, unsaved=False, close_requested=None)
                for subtab in self.subtabs
            ),
        )


T = TypeVar("T", PrimaryTab, Subtab)


def _moved(tabs: tuple[T, ...], tab_id: str, position: int) -> tuple[T, ...]:
    rest = [tab for tab in tabs if tab.tab_id != tab_id]
    rest.insert(position, next(tab for tab in tabs if tab.tab_id == tab_id))
    return tuple(rest)


@attrs.frozen(slots=False)
class WorkspaceTabs:
    """The open tabs in order, the focus, the views seen before it, the closed tabs.

    `focus_stack` holds each view seen before the focused one at most once, the most
    recent last: closing the focused view returns to its top. `recency` orders the open
    primary tabs from least to most recently viewed, for the tab limit's eviction.
    `numbered` counts the tab ids handed out, so ids are t1, t2... and never reused.
    """

    open: tuple[PrimaryTab, ...] = ()
    focused: str | None = None
    focus_stack: tuple[str, ...] = ()
    recency: tuple[str, ...] = ()
    closed: tuple[PrimaryTab, ...] = ()
    numbered: int = 0

    def next_id(self, ahead: int = 1) -> str:
        return f"t{self.numbered + ahead}"

    def find(self, tab_id: str) -> tuple[PrimaryTab, Subtab | None] | None:
        """The primary tab holding this id, and the subtab when the id is a subtab's."""
        for primary in self.open:
            if primary.tab_id == tab_id:
                return primary, None
            for subtab in primary.subtabs:
                if subtab.tab_id == tab_id:
                    return primary, subtab
        return None

    def showing(self, record: RecordRef) -> tuple[PrimaryTab, Subtab] | None:
        """The first subtab, in tab order, that shows this record (a detail subtab too)."""
        for primary in self.open:
            for subtab in primary.subtabs:
                if same_record(subtab.record, record):
                    return primary, subtab
        return None

    def page(self, url: str) -> PrimaryTab | None:
        return next((tab for tab in self.open if tab.url == url), None)

    def opened_by(self, call: str) -> PrimaryTab | None:
        return next((tab for tab in self.open if tab.call == call), None)

    def view_in(self, primary: PrimaryTab) -> str:
        """Focusing a primary tab shows the view last seen in it, else its first."""
        for view in (self.focused, *reversed(self.focus_stack)):
            if view is not None and view in primary.views:
                return view
        return primary.views[0]

    def by_recency(self) -> tuple[PrimaryTab, ...]:
        """The open primary tabs, least recently viewed first."""
        by_id = {tab.tab_id: tab for tab in self.open}
        return tuple(by_id[tab_id] for tab_id in self.recency)

    # How the tabs change: each returns the tabs after one event.

    def viewing(self, view: str | None) -> "WorkspaceTabs":
        """Focus on this view (None: the navigation tab); the one left goes on the stack."""
        if view == self.focused:
            return self
        stack = tuple(seen for seen in self.focus_stack if seen != view)
        if self.focused is not None:
            stack = (*stack, self.focused)
        recency = self.recency
        found = None if view is None else self.find(view)
        if found is not None:
            primary = found[0].tab_id
            recency = (*(tab_id for tab_id in recency if tab_id != primary), primary)
        return attrs.evolve(self, focused=view, focus_stack=stack, recency=recency)

    def with_primary(self, tab: PrimaryTab) -> "WorkspaceTabs":
        """A new primary tab, last, in focus; closed tabs of the same record are dropped,
        so a reopen never brings back a second tab for it."""
        return attrs.evolve(
            self,
            open=(*self.open, tab),
            closed=tuple(old for old in self.closed if not old.holds_the_same_as(tab)),
            numbered=self.numbered + len(tab.ids),
        ).viewing(tab.views[0])

    def with_subtab(self, primary_id: str, subtab: Subtab) -> "WorkspaceTabs":
        open_tabs = tuple(
            attrs.evolve(tab, subtabs=(*tab.subtabs, subtab))
            if tab.tab_id == primary_id
            else tab
            for tab in self.open
        )
        return attrs.evolve(self, open=open_tabs, numbered=self.numbered + 1).viewing(
            subtab.tab_id
        )

    def changed(self, tab_id: str, **changes: Any) -> "WorkspaceTabs":
        """One tab, primary or subtab, with some of its fields changed."""
        return attrs.evolve(
            self, open=tuple(_changed(tab, tab_id, changes) for tab in self.open)
        )

    def moved(self, tab_id: str, position: int) -> "WorkspaceTabs":
        """A tab moved among its siblings: the primary tabs, or its primary's subtabs."""
        if any(tab.tab_id == tab_id for tab in self.open):
            return attrs.evolve(self, open=_moved(self.open, tab_id, position))
        open_tabs = tuple(
            attrs.evolve(tab, subtabs=_moved(tab.subtabs, tab_id, position))
            if tab_id in tab.ids
            else tab
            for tab in self.open
        )
        return attrs.evolve(self, open=open_tabs)

    def without(self, tab_id: str) -> "WorkspaceTabs":
        """A tab closed: a primary tab with its subtabs, kept for a reopen; focus goes
        back to the view seen before, else to the navigation tab."""
        found = self.find(tab_id)
        assert found is not None, f"no open tab {tab_id}"
        primary, subtab = found
        if subtab is None:
            gone = set(primary.ids)
            open_tabs = tuple(tab for tab in self.open if tab.tab_id != tab_id)
            closed = (*self.closed, primary.as_closed())[-CLOSED_TABS_KEPT:]
        else:
            gone = {tab_id}
            open_tabs = tuple(
                attrs.evolve(tab, subtabs=tuple(s for s in tab.subtabs if s is not subtab))
                if tab is primary
                else tab
                for tab in self.open
            )
            closed = self.closed
        stack = tuple(view for view in self.focus_stack if view not in gone)
        rest = attrs.evolve(
            self,
            open=open_tabs,
            closed=closed,
            focus_stack=stack,
            recency=tuple(tab for tab in self.recency if tab not in gone),
        )
        if self.focused not in gone:
            return rest
        back = stack[-1] if stack else None
        return attrs.evolve(rest, focused=None, focus_stack=stack[:-1]).viewing(back)

    def reopened(self) -> "WorkspaceTabs":
        """The last closed primary tab, with its subtabs and ids, last and in focus."""
        tab = self.closed[-1]
        return attrs.evolve(self, open=(*self.open, tab), closed=self.closed[:-1]).viewing(
            tab.views[0]
        )


def _changed(primary: PrimaryTab, tab_id: str, changes: dict[str, Any]) -> PrimaryTab:
    if primary.tab_id == tab_id:
        return attrs.evolve(primary, **changes)
    if tab_id not in primary.ids:
        return primary
    return attrs.evolve(
        primary,
        subtabs=tuple(
            attrs.evolve(subtab, **changes) if subtab.tab_id == tab_id else subtab
            for subtab in primary.subtabs
        ),
    )

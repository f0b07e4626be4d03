"""The console workspace of one agent: the tabs they work in, rebuilt anywhere by replay.

Rules (seed-002 §3.4, the Salesforce console's tab model): a record already open is
focused, not opened twice, unless a duplicate is asked for; a child record opens as a
subtab of its parent's primary tab, opening the parent first, or as its own primary tab
when the parent cannot be shown; a record's detail subtab stays first; closing returns
to the view seen before; a tab with unsaved changes asks first, and the answer is an
event too; a limit on primary tabs evicts the least recently viewed tab that is neither
pinned nor unsaved, or refuses. Time arrives with each command and is only recorded:
"least recently viewed" is the order of the events, so clocks that disagree between
browsers never change which tab goes.
"""

import enum
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from calldesk.domain.errors import InvalidValue, NotFound, Refused
from calldesk.domain.identity import checked_slug, checked_text, stable_id
from calldesk.domain.records import RecordKind, RecordRef, single_match
from calldesk.domain.workspace_tabs import (
    EXTERNAL_PAGE_LABEL,
    CloseCause,
    PrimaryTab,
    Subtab,
    TabKind,
    WorkspaceTabs,
    checked_label,
    checked_url,
    same_record,
)

DEFAULT_TAB_LIMIT = 20
MAX_TAB_LIMIT = 100
CALL_ID_MAX_LENGTH = 64
QUERY_MAX_LENGTH = 100


class ParentUnavailable(enum.Enum):
    """Why a child record has no parent to open under: it then opens as its own tab."""

    NOT_VISIBLE = "not-visible"
    MISSING = "missing"


class TabNotFound(NotFound):
    """No open tab has this id."""


class DetailSubtabFixed(Refused):
    """A record's detail subtab is first, always there, and does not move."""


class SubtabNotPinnable(Refused):
    """Pinning keeps a primary tab from eviction; subtabs go with their primary tab."""


class NoCloseRequested(Refused):
    """Only a close that asked for confirmation can be confirmed or cancelled."""


class TabLimitReached(Refused):
    """Every open tab is pinned or unsaved, so none can make room."""


class NothingToReopen(Refused):
    """No closed tab is kept."""


@attrs.frozen(slots=False)
class WorkspaceView:
    """What the console shows, as plain values the HTTP layer can serialize."""

    tenant: str
    agent: str
    tabs: tuple[PrimaryTab, ...]
    focused: str | None
    focus_stack: tuple[str, ...]
    closed_tabs: int
    tab_limit: int


def checked_tab_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_TAB_LIMIT:
        raise InvalidValue(
            f"a tab limit is from 1 to {MAX_TAB_LIMIT} primary tabs, not {limit}"
        )
    return limit


def _search_label(query: str, found: int) -> str:
    if found == 0:
        return f"No match for {query}"
    return f"{found} match{'' if found == 1 else 'es'} for {query}"


class Workspace(Aggregate):
    """One agent's console tabs, within one tenant."""

    TOPIC = "calldesk.workspace.Workspace"

    class Event(Aggregate.Event):
        TOPIC = "calldesk.workspace.Event"

    @staticmethod
    def create_id(tenant: str, agent: str) -> UUID:
        return stable_id("workspace", tenant, agent)

    @classmethod
    def start(
        cls, tenant: str, agent: str, at: datetime, tab_limit: int = DEFAULT_TAB_LIMIT
    ) -> "Workspace":
        """An empty workspace: only the navigation tab."""
        return cls(
            tenant=checked_slug(tenant, "a tenant"),
            agent=checked_slug(agent, "an agent handle"),
            tab_limit=checked_tab_limit(tab_limit),
            timestamp=at,
        )

    @event("Started", topic="calldesk.workspace.Started")
    def __init__(
        self, tenant: str, agent: str, tab_limit: int, timestamp: datetime
    ) -> None:
        self.tenant = tenant
        self.agent = agent
        self.tab_limit = tab_limit
        self.tabs = WorkspaceTabs()

    def __str__(self) -> str:
        return f"the workspace of agent {self.agent}"

    def view(self) -> WorkspaceView:
        return WorkspaceView(
            tenant=self.tenant,
            agent=self.agent,
            tabs=self.tabs.open,
            focused=self.tabs.focused,
            focus_stack=self.tabs.focus_stack,
            closed_tabs=len(self.tabs.closed),
            tab_limit=self.tab_limit,
        )

    def shows(self, kind: RecordKind, record_id: str) -> bool:
        """Whether a tab shows this record, so that its changes concern this agent."""
        return (kind, record_id) in self.shown_records()

    def shown_records(self) -> frozenset[tuple[RecordKind, str]]:
        """The records some tab or subtab shows: whose feeds concern this agent."""
        return frozenset(
            (subtab.record.kind, subtab.record.record_id)
            for primary in self.tabs.open
            for subtab in primary.subtabs
        )

    # Opening: each returns the view that shows what was asked for.

    def open_record(
        self, record: RecordRef, at: datetime, allow_duplicate: bool = False
    ) -> str:
        """Show a record: where it is already open, else in a new primary tab."""
        shown = self.tabs.showing(record)
        if shown is not None and not allow_duplicate:
            return self._focus_view(shown[1].tab_id, at)
        return self._open_primary(
            TabKind.RECORD, record.title, at, record=record, duplicate=shown is not None
        )

    def open_child(
        self, record: RecordRef, parent: RecordRef | ParentUnavailable, at: datetime
    ) -> str:
        """Show a record in its parent's primary tab, opening the parent first if need be.

        The caller says what it knows of the parent: the record, or why there is none
        to show (the agent may not see it, or it does not exist); then the child opens
        as its own primary tab (seed C52, C62).
        """
        if isinstance(parent, RecordRef) and same_record(record, parent):
            raise InvalidValue(f"{record.kind.value} {record.record_id} is its own parent")
        shown = self.tabs.showing(record)
        if shown is not None:
            return self._focus_view(shown[1].tab_id, at)
        if not isinstance(parent, RecordRef):
            return self._open_primary(TabKind.RECORD, record.title, at, record=record)
        holder = self.tabs.showing(parent)
        if holder is None:
            self._open_primary(TabKind.RECORD, parent.title, at, record=parent)
            primary_id = self.tabs.open[-1].tab_id
        else:
            primary_id = holder[0].tab_id
        tab_id = self.tabs.next_id()
        self._subtab_opened(
            primary_id=primary_id,
            tab_id=tab_id,
            record=record,
            label=record.title,
            timestamp=at,
        )
        return tab_id

    def open_page(
        self,
        url: str,
        at: datetime,
        label: str | None = None,
        allow_duplicate: bool = False,
    ) -> str:
        """Show an external page in a primary tab, or focus the tab that already has it."""
        url = checked_url(url)
        label = EXTERNAL_PAGE_LABEL if label is None else checked_label(label)
        shown = self.tabs.page(url)
        if shown is not None and not allow_duplicate:
            return self._focus_view(shown.tab_id, at)
        return self._open_primary(
            TabKind.PAGE, label, at, url=url, duplicate=shown is not None
        )

    def screen_pop(
        self, call: str, query: str, matches: Sequence[RecordRef], at: datetime
    ) -> str:
        """A call's lookup: its one record (records.single_match) in a tab the call owns,
        else a tab listing what was found. A pop delivered again opens nothing more."""
        call = checked_text(call, "a call id", CALL_ID_MAX_LENGTH)
        query = checked_text(query, "a screen pop's search", QUERY_MAX_LENGTH)
        popped = self.tabs.opened_by(call)
        if popped is not None:
            return popped.views[0]
        record = single_match(matches)
        if record is None:
            label = _search_label(query, len(matches))
            return self._open_primary(
                TabKind.SEARCH, label, at, matches=tuple(matches), call=call
            )
        shown = self.tabs.showing(record)
        if shown is not None:
            # The agent opened it: the call's end must not close it under them.
            return self._focus_view(shown[1].tab_id, at)
        return self._open_primary(
            TabKind.RECORD, record.title, at, record=record, call=call
        )

    def reopen_closed_tab(self, at: datetime) -> str:
        """The last closed primary tab comes back with its subtabs and its ids."""
        if not self.tabs.closed:
            raise NothingToReopen(f"{self} keeps no closed tab to reopen")
        self._make_room(self.tab_limit, 1, at)
        self._tab_reopened(tab_id=self.tabs.closed[-1].tab_id, timestamp=at)
        assert self.tabs.focused is not None
        return self.tabs.focused

    def _open_primary(
        self,
        kind: TabKind,
        label: str,
        at: datetime,
        record: RecordRef | None = None,
        url: str | None = None,
        matches: tuple[RecordRef, ...] = (),
        call: str | None = None,
        duplicate: bool = False,
    ) -> str:
        self._make_room(self.tab_limit, 1, at)
        detail_id = self.tabs.next_id(2) if kind is TabKind.RECORD else None
        self._primary_tab_opened(
            tab_id=self.tabs.next_id(),
            kind=kind,
            label=label,
            record=record,
            url=url,
            matches=matches,
            detail_id=detail_id,
            call=call,
            duplicate=duplicate,
            timestamp=at,
        )
        return self.tabs.open[-1].views[0]

    def _make_room(self, limit: int, adding: int, at: datetime) -> None:
        """Evict the least recently viewed tabs that lose nothing, to stay within the
        limit once `adding` more primary tabs open; or refuse, evicting none."""
        needed = len(self.tabs.open) + adding - limit
        if needed <= 0:
            return
        free = [
            tab.tab_id
            for tab in self.tabs.by_recency()
            if not tab.pinned and not tab.has_unsaved_changes
        ]
        if len(free) < needed:
            raise TabLimitReached(
                f"{self} has a limit of {limit} and {len(self.tabs.open)} primary tabs "
                f"are open; {needed} must close, but only {len(free)} can close without "
                "losing a pin or unsaved changes: close, unpin or save a tab first"
            )
        for tab_id in free[:needed]:
            self._tab_evicted(tab_id=tab_id, timestamp=at)

    # Focus.

    def focus(self, tab_id: str, at: datetime) -> str:
        """Show a tab; a primary tab shows the view last seen in it."""
        primary, subtab = self._find(tab_id)
        view = self.tabs.view_in(primary) if subtab is None else subtab.tab_id
        return self._focus_view(view, at)

    def focus_navigation(self, at: datetime) -> None:
        if self.tabs.focused is not None:
            self._navigation_focused(timestamp=at)

    def _focus_view(self, view: str, at: datetime) -> str:
        if view != self.tabs.focused:
            self._focused(tab_id=view, timestamp=at)
        return view

    # Closing.

    def close(self, tab_id: str, at: datetime) -> None:
        """Close a tab, with its subtabs; one with unsaved changes asks first."""
        primary, subtab = self._find(tab_id)
        self._refuse_detail(primary, subtab, "closes with its primary tab")
        self._close(subtab or primary, CloseCause.AGENT, at)

    def call_ended(self, call: str, close_its_tab: bool, at: datetime) -> None:
        """The tenant decides whether a call's end closes the tab its screen pop opened."""
        tab = self.tabs.opened_by(checked_text(call, "a call id", CALL_ID_MAX_LENGTH))
        if close_its_tab and tab is not None:
            self._close(tab, CloseCause.CALL_ENDED, at)

    def confirm_close(self, tab_id: str, at: datetime) -> None:
        """The agent gives up the unsaved changes: the tab closes."""
        cause = self._close_request(tab_id)
        self._close_confirmed(tab_id=tab_id, cause=cause, timestamp=at)

    def cancel_close(self, tab_id: str, at: datetime) -> None:
        """The agent keeps the tab, and its unsaved changes."""
        self._close_request(tab_id)
        self._close_cancelled(tab_id=tab_id, timestamp=at)

    def _close(self, tab: PrimaryTab | Subtab, cause: CloseCause, at: datetime) -> None:
        unsaved = tab.has_unsaved_changes if isinstance(tab, PrimaryTab) else tab.unsaved
        if not unsaved:
            self._tab_closed(tab_id=tab.tab_id, cause=cause, timestamp=at)
        elif tab.close_requested is None:
            self._close_requested(tab_id=tab.tab_id, cause=cause, timestamp=at)

    def _close_request(self, tab_id: str) -> CloseCause:
        primary, subtab = self._find(tab_id)
        cause = (subtab or primary).close_requested
        if cause is None:
            raise NoCloseRequested(
                f"tab {tab_id} is not waiting for a confirmation to close; close it first"
            )
        return cause

    # Arranging.

    def pin(self, tab_id: str, at: datetime) -> None:
        """A pinned tab is never evicted to make room."""
        if not self._pinnable(tab_id).pinned:
            self._tab_pinned(tab_id=tab_id, timestamp=at)

    def unpin(self, tab_id: str, at: datetime) -> None:
        if self._pinnable(tab_id).pinned:
            self._tab_unpinned(tab_id=tab_id, timestamp=at)

    def move(self, tab_id: str, position: int, at: datetime) -> None:
        """Move a tab among its siblings; position 0 of subtabs is the detail's."""
        primary, subtab = self._find(tab_id)
        self._refuse_detail(primary, subtab, "stays first")
        siblings = self.tabs.open if subtab is None else primary.subtabs
        if subtab is not None and position == 0:
            raise DetailSubtabFixed(
                f"position 0 of tab {primary.tab_id} is its detail subtab's; "
                "move the subtab to position 1 or later"
            )
        if not 0 <= position < len(siblings):
            raise InvalidValue(
                f"tab {tab_id} can move to positions 0 to {len(siblings) - 1}, "
                f"not {position}"
            )
        if siblings[position].tab_id != tab_id:
            self._tab_moved(tab_id=tab_id, position=position, timestamp=at)

    def relabel(self, tab_id: str, label: str, at: datetime) -> None:
        primary, subtab = self._find(tab_id)
        label = checked_label(label)
        if (subtab or primary).label != label:
            self._tab_relabelled(tab_id=tab_id, label=label, timestamp=at)

    def highlight(self, tab_id: str, highlighted: bool, at: datetime) -> None:
        """Draw the agent's eye to a tab (an escalation, a new email), or stop."""
        primary, subtab = self._find(tab_id)
        if (subtab or primary).highlighted != highlighted:
            self._highlight_changed(tab_id=tab_id, highlighted=highlighted, timestamp=at)

    def mark_unsaved(self, tab_id: str, at: datetime) -> None:
        """The tab holds changes not yet saved: closing it asks, the limit spares it."""
        primary, subtab = self._find(tab_id)
        if not (subtab or primary).unsaved:
            self._tab_marked_unsaved(tab_id=tab_id, timestamp=at)

    def mark_saved(self, tab_id: str, at: datetime) -> None:
        primary, subtab = self._find(tab_id)
        if (subtab or primary).unsaved:
            self._tab_marked_saved(tab_id=tab_id, timestamp=at)

    def set_tab_limit(self, limit: int, at: datetime) -> None:
        """A lower limit evicts at once, so the workspace never holds more than it."""
        limit = checked_tab_limit(limit)
        if limit != self.tab_limit:
            self._make_room(limit, 0, at)
            self._tab_limit_changed(tab_limit=limit, timestamp=at)

    def _find(self, tab_id: str) -> tuple[PrimaryTab, Subtab | None]:
        found = self.tabs.find(tab_id)
        if found is None:
            raise TabNotFound(f"{self} has no open tab {tab_id!r}")
        return found

    def _pinnable(self, tab_id: str) -> PrimaryTab:
        primary, subtab = self._find(tab_id)
        if subtab is not None:
            raise SubtabNotPinnable(
                f"tab {tab_id} is a subtab; pin its primary tab {primary.tab_id} instead"
            )
        return primary

    @staticmethod
    def _refuse_detail(primary: PrimaryTab, subtab: Subtab | None, why: str) -> None:
        if subtab is not None and subtab.tab_id == primary.subtabs[0].tab_id:
            raise DetailSubtabFixed(
                f"tab {subtab.tab_id} is the detail subtab of tab {primary.tab_id} and "
                f"{why}; act on tab {primary.tab_id} instead"
            )

    # Events: each body only changes state, and runs again on every replay.

    @event("PrimaryTabOpened", topic="calldesk.workspace.PrimaryTabOpened")
    def _primary_tab_opened(
        self,
        tab_id: str,
        kind: TabKind,
        label: str,
        record: RecordRef | None,
        url: str | None,
        matches: tuple[RecordRef, ...],
        detail_id: str | None,
        call: str | None,
        duplicate: bool,
        timestamp: datetime,
    ) -> None:
        detail = (
            ()
            if record is None or detail_id is None
            else (Subtab(detail_id, record, label),)
        )
        tab = PrimaryTab(
            tab_id=tab_id,
            kind=kind,
            label=label,
            record=record,
            url=url,
            matches=tuple(matches),
            subtabs=detail,
            duplicate=duplicate,
            call=call,
        )
        self.tabs = self.tabs.with_primary(tab)

    @event("SubtabOpened", topic="calldesk.workspace.SubtabOpened")
    def _subtab_opened(
        self,
        primary_id: str,
        tab_id: str,
        record: RecordRef,
        label: str,
        timestamp: datetime,
    ) -> None:
        self.tabs = self.tabs.with_subtab(primary_id, Subtab(tab_id, record, label))

    @event("TabFocused", topic="calldesk.workspace.TabFocused")
    def _focused(self, tab_id: str, timestamp: datetime) -> None:
        self.tabs = self.tabs.viewing(tab_id)

    @event("NavigationFocused", topic="calldesk.workspace.NavigationFocused")
    def _navigation_focused(self, timestamp: datetime) -> None:
        self.tabs = self.tabs.viewing(None)

    @event("TabCloseRequested", topic="calldesk.workspace.TabCloseRequested")
    def _close_requested(self, tab_id: str, cause: CloseCause, timestamp: datetime) -> None:
        self.tabs = self.tabs.changed(tab_id, close_requested=cause)

    @event("CloseConfirmed", topic="calldesk.workspace.CloseConfirmed")
    def _close_confirmed(self, tab_id: str, cause: CloseCause, timestamp: datetime) -> None:
        self.tabs = self.tabs.without(tab_id)

    @event("CloseCancelled", topic="calldesk.workspace.CloseCancelled")
    def _close_cancelled(self, tab_id: str, timestamp: datetime) -> None:
        self.tabs = self.tabs.changed(tab_id, close_requested=None)

    @event("TabClosed", topic="calldesk.workspace.TabClosed")
    def _tab_closed(self, tab_id: str, cause: CloseCause, timestamp: datetime) -> None:
        self.tabs = self.tabs.without(tab_id)

    @event("TabEvicted", topic="calldesk.workspace.TabEvicted")
    def _tab_evicted(self, tab_id: str, timestamp: datetime) -> None:
        self.tabs = self.tabs.without(tab_id)

    @event("TabReopened", topic="calldesk.workspace.TabReopened")
    def _tab_reopened(self, tab_id: str, timestamp: datetime) -> None:
        self.tabs = self.tabs.reopened()

    @event("TabPinned", topic="calldesk.workspace.TabPinned")
    def _tab_pinned(self, tab_id: str, timestamp: datetime) -> None:
        self.tabs = self.tabs.changed(tab_id, pinned=True)

    @event("TabUnpinned", topic="calldesk.workspace.TabUnpinned")
    def _tab_unpinned(self, tab_id: str, timestamp: datetime) -> None:
        self.tabs = self.tabs.changed(tab_id, pinned=False)

    @event("TabMoved", topic="calldesk.workspace.TabMoved")
    def _tab_moved(self, tab_id: str, position: int, timestamp: datetime) -> None:
        self.tabs = self.tabs.moved(tab_id, position)

    @event("TabRelabelled", topic="calldesk.workspace.TabRelabelled")
    def _tab_relabelled(self, tab_id: str, label: str, timestamp: datetime) -> None:
        self.tabs = self.tabs.changed(tab_id, label=label)

    @event("HighlightChanged", topic="calldesk.workspace.HighlightChanged")
    def _highlight_changed(
        self, tab_id: str, highlighted: bool, timestamp: datetime
    ) -> None:
        self.tabs = self.tabs.changed(tab_id, highlighted=highlighted)

    @event("TabMarkedUnsaved", topic="calldesk.workspace.TabMarkedUnsaved")
    def _tab_marked_unsaved(self, tab_id: str, timestamp: datetime) -> None:
        self.tabs = self.tabs.changed(tab_id, unsaved=True)

    @event("TabMarkedSaved", topic="calldesk.workspace.TabMarkedSaved")
    def _tab_marked_saved(self, tab_id: str, timestamp: datetime) -> None:
        self.tabs = self.tabs.changed(tab_id, unsaved=False)

    @event("TabLimitChanged", topic="calldesk.workspace.TabLimitChanged")
    def _tab_limit_changed(self, tab_limit: int, timestamp: datetime) -> None:
        self.tab_limit = tab_limit

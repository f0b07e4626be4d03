"""A plain reference model of the console workspace, written from its rules.

It shares no code with calldesk.domain.workspace or workspace_tabs: plain lists and
dicts, rules spelled out one by one. The stateful test drives both with the same
commands and checks they agree on the tab tree, the focus, its stack, the closed tabs,
and on which commands are refused, recorded, or change nothing.

The rules, as the model reads them:
- ids are t1, t2... in opening order; a record's primary tab takes one, its detail
  subtab the next; a reopened tab keeps its ids.
- a record is "shown" by the first subtab, in tab order, holding the same kind and id;
  opening a shown record focuses that subtab, unless a duplicate is asked for.
- focus rests on a subtab, or a primary tab without subtabs, or the navigation (None);
  focusing a primary tab picks the view last seen inside it, else its first.
- the stack holds the views seen before the focused one, each once, newest last; the
  least-recently-used list holds primary tabs, bumped whenever one of their views shows.
- closing the focused view shows the top of the stack, else the navigation.
- a new primary tab needs room under the limit: the least recently used tabs that are
  neither pinned nor unsaved (in themselves or a subtab) go, else it is refused.
"""

from typing import Any

import attrs

from calldesk.domain.errors import InvalidValue
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.domain.workspace import (
    DetailSubtabFixed,
    NoCloseRequested,
    NothingToReopen,
    SubtabNotPinnable,
    TabLimitReached,
    TabNotFound,
)

RECORDED = "recorded"
UNCHANGED = "unchanged"
Expected = str | type[Exception]

KEPT_CLOSED = 10
MAX_LIMIT = 100
MAX_LABEL = 200


def key(record: RecordRef) -> tuple[str, str]:
    return record.kind.value, record.record_id


def the_one_match(matches: list[RecordRef]) -> RecordRef | None:
    """The only person found; with none, the only account; else nobody."""
    people = [m for m in matches if m.kind in (RecordKind.CONTACT, RecordKind.LEAD)]
    if people:
        return people[0] if len(people) == 1 else None
    accounts = [m for m in matches if m.kind is RecordKind.ACCOUNT]
    return accounts[0] if len(accounts) == 1 else None


def good_label(label: str) -> str | None:
    text = label.strip()
    if not text or len(text) > MAX_LABEL or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return None
    return text


@attrs.define
class RefTab:
    id: str
    kind: str
    label: str
    record: RecordRef | None = None
    url: str | None = None
    matches: tuple[RecordRef, ...] = ()
    subtabs: list["RefTab"] = attrs.field(factory=list)
    pinned: bool = False
    highlighted: bool = False
    unsaved: bool = False
    asked: str | None = None
    duplicate: bool = False
    call: str | None = None

    def dirty(self) -> bool:
        return self.unsaved or any(s.unsaved for s in self.subtabs)

    def views(self) -> list[str]:
        return [s.id for s in self.subtabs] or [self.id]


@attrs.define
class ReferenceWorkspace:
    limit: int
    tabs: list[RefTab] = attrs.field(factory=list)
    focus: str | None = None
    stack: list[str] = attrs.field(factory=list)
    lru: list[str] = attrs.field(factory=list)
    closed: list[RefTab] = attrs.field(factory=list)
    count: int = 0

    # Looking things up.

    def locate(self, tab_id: str) -> tuple[RefTab, RefTab | None] | None:
        for primary in self.tabs:
            if primary.id == tab_id:
                return primary, None
            for sub in primary.subtabs:
                if sub.id == tab_id:
                    return primary, sub
        return None

    def shown_at(self, record: RecordRef) -> tuple[RefTab, RefTab] | None:
        for primary in self.tabs:
            for sub in primary.subtabs:
                if sub.record is not None and key(sub.record) == key(record):
                    return primary, sub
        return None

    def all_ids(self) -> list[str]:
        return [i for p in self.tabs for i in [p.id] + [s.id for s in p.subtabs]]

    # Focus.

    def show(self, view: str | None) -> Expected:
        if view == self.focus:
            return UNCHANGED
        if view in self.stack:
            self.stack.remove(view)
        if self.focus is not None:
            self.stack.append(self.focus)
        self.focus = view
        if view is not None:
            found = self.locate(view)
            assert found is not None
            owner = found[0].id
            if owner in self.lru:
                self.lru.remove(owner)
            self.lru.append(owner)
        return RECORDED

    # Opening.

    def make_room(self, needed: int) -> bool:
        if needed <= 0:
            return True
        by_id = {p.id: p for p in self.tabs}
        free = [i for i in self.lru if not by_id[i].pinned and not by_id[i].dirty()]
        if len(free) < needed:
            return False
        for tab_id in free[:needed]:
            self.remove(tab_id)
        return True

    def add_primary(self, tab: RefTab) -> Expected:
        if not self.make_room(len(self.tabs) + 1 - self.limit):
            return TabLimitReached
        self.count += 1
        tab.id = f"t{self.count}"
        if tab.kind == "record":
            assert tab.record is not None
            self.count += 1
            tab.subtabs = [RefTab(f"t{self.count}", "record", tab.label, record=tab.record)]
        self.tabs.append(tab)
        self.closed = [old for old in self.closed if not self.same_content(old, tab)]
        self.show(tab.views()[0])
        return RECORDED

    @staticmethod
    def same_content(one: RefTab, other: RefTab) -> bool:
        if one.record is not None and other.record is not None:
            return key(one.record) == key(other.record)
        return one.url is not None and one.url == other.url

    def open_record(self, record: RecordRef, allow_duplicate: bool) -> Expected:
        where = self.shown_at(record)
        if where and not allow_duplicate:
            return self.show(where[1].id)
        return self.add_primary(
            RefTab("", "record", record.title, record=record, duplicate=bool(where))
        )

    def open_child(self, record: RecordRef, parent: RecordRef | None) -> Expected:
        """parent None: the caller says the parent cannot be shown."""
        if parent is not None and key(parent) == key(record):
            return InvalidValue
        where = self.shown_at(record)
        if where:
            return self.show(where[1].id)
        if parent is None:
            return self.add_primary(RefTab("", "record", record.title, record=record))
        holder = self.shown_at(parent)
        if holder is None:
            if (
                self.add_primary(RefTab("", "record", parent.title, record=parent))
                != RECORDED
            ):
                return TabLimitReached
            owner = self.tabs[-1]
        else:
            owner = holder[0]
        self.count += 1
        sub = RefTab(f"t{self.count}", "record", record.title, record=record)
        owner.subtabs.append(sub)
        self.show(sub.id)
        return RECORDED

    def open_page(self, url: str, label: str | None, allow_duplicate: bool) -> Expected:
        host = url.split("://", 1)[1] if "://" in url else ""
        if not url.startswith(("http://", "https://")) or not host or " " in url:
            return InvalidValue
        text = "External Page" if label is None else good_label(label)
        if text is None:
            return InvalidValue
        same = next((p for p in self.tabs if p.url == url), None)
        if same and not allow_duplicate:
            return self.show(same.views()[0])
        return self.add_primary(RefTab("", "page", text, url=url, duplicate=bool(same)))

    def screen_pop(self, call: str, query: str, matches: list[RecordRef]) -> Expected:
        if any(p.call == call for p in self.tabs):
            return UNCHANGED
        one = the_one_match(matches)
        if one is None:
            n = len(matches)
            label = (
                f"No match for {query}"
                if n == 0
                else f"{n} match for {query}"
                if n == 1
                else f"{n} matches for {query}"
            )
            return self.add_primary(
                RefTab("", "search", label, matches=tuple(matches), call=call)
            )
        where = self.shown_at(one)
        if where:
            return self.show(where[1].id)
        return self.add_primary(RefTab("", "record", one.title, record=one, call=call))

    def reopen(self) -> Expected:
        if not self.closed:
            return NothingToReopen
        if not self.make_room(len(self.tabs) + 1 - self.limit):
            return TabLimitReached
        tab = self.closed.pop()
        self.tabs.append(tab)
        self.show(tab.views()[0])
        return RECORDED

    # Focus commands.

    def focus_tab(self, tab_id: str) -> Expected:
        found = self.locate(tab_id)
        if found is None:
            return TabNotFound
        primary, sub = found
        if sub is not None:
            return self.show(sub.id)
        for seen in [self.focus, *reversed(self.stack)]:
            if seen in primary.views():
                return self.show(seen)
        return self.show(primary.views()[0])

    def focus_navigation(self) -> Expected:
        return self.show(None)

    # Closing.

    def remove(self, tab_id: str) -> None:
        found = self.locate(tab_id)
        assert found is not None
        primary, sub = found
        if sub is None:
            gone = [primary.id] + [s.id for s in primary.subtabs]
            self.tabs.remove(primary)
            primary.unsaved, primary.asked, primary.call = False, None, None
            for s in primary.subtabs:
                s.unsaved, s.asked = False, None
            self.closed.append(primary)
            self.closed = self.closed[-KEPT_CLOSED:]
        else:
            gone = [sub.id]
            primary.subtabs.remove(sub)
        self.stack = [v for v in self.stack if v not in gone]
        self.lru = [i for i in self.lru if i not in gone]
        if self.focus in gone:
            self.focus = None
            self.show(self.stack.pop() if self.stack else None)

    def ask_or_close(self, tab: RefTab, is_primary: bool, cause: str) -> Expected:
        dirty = tab.dirty() if is_primary else tab.unsaved
        if not dirty:
            self.remove(tab.id)
            return RECORDED
        if tab.asked is not None:
            return UNCHANGED
        tab.asked = cause
        return RECORDED

    def close(self, tab_id: str) -> Expected:
        found = self.locate(tab_id)
        if found is None:
            return TabNotFound
        primary, sub = found
        if sub is not None and sub is primary.subtabs[0]:
            return DetailSubtabFixed
        return self.ask_or_close(sub or primary, sub is None, "agent")

    def call_ended(self, call: str, close_its_tab: bool) -> Expected:
        tab = next((p for p in self.tabs if p.call == call), None)
        if not close_its_tab or tab is None:
            return UNCHANGED
        return self.ask_or_close(tab, True, "call-ended")

    def answer(self, tab_id: str, confirm: bool) -> Expected:
        found = self.locate(tab_id)
        if found is None:
            return TabNotFound
        tab = found[1] or found[0]
        if tab.asked is None:
            return NoCloseRequested
        if confirm:
            self.remove(tab_id)
        else:
            tab.asked = None
        return RECORDED

    # Arranging.

    def set_pinned(self, tab_id: str, pinned: bool) -> Expected:
        found = self.locate(tab_id)
        if found is None:
            return TabNotFound
        if found[1] is not None:
            return SubtabNotPinnable
        return self._set(found[0], "pinned", pinned)

    def move(self, tab_id: str, position: int) -> Expected:
        found = self.locate(tab_id)
        if found is None:
            return TabNotFound
        primary, sub = found
        if sub is not None and (sub is primary.subtabs[0] or position == 0):
            return DetailSubtabFixed
        siblings: list[RefTab] = self.tabs if sub is None else primary.subtabs
        tab = sub or primary
        if not 0 <= position < len(siblings):
            return InvalidValue
        if siblings.index(tab) == position:
            return UNCHANGED
        siblings.remove(tab)
        siblings.insert(position, tab)
        return RECORDED

    def relabel(self, tab_id: str, label: str) -> Expected:
        found = self.locate(tab_id)
        if found is None:
            return TabNotFound
        text = good_label(label)
        if text is None:
            return InvalidValue
        return self._set(found[1] or found[0], "label", text)

    def set_flag(self, tab_id: str, flag: str, value: bool) -> Expected:
        found = self.locate(tab_id)
        if found is None:
            return TabNotFound
        return self._set(found[1] or found[0], flag, value)

    def set_limit(self, limit: int) -> Expected:
        if not 1 <= limit <= MAX_LIMIT:
            return InvalidValue
        if limit == self.limit:
            return UNCHANGED
        if not self.make_room(len(self.tabs) - limit):
            return TabLimitReached
        self.limit = limit
        return RECORDED

    @staticmethod
    def _set(tab: RefTab, field: str, value: Any) -> Expected:
        if getattr(tab, field) == value:
            return UNCHANGED
        setattr(tab, field, value)
        return RECORDED

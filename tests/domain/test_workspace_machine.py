"""The Workspace aggregate against a plain reference model, under random agent commands.

Every command goes to both, with a small pool of records, pages and calls so that
duplicates, parents, evictions and reopens happen often. After every step the tab tree,
the focus, its stack and the closed tabs must agree, the aggregate's own rules must
hold, and replaying the events must rebuild an equal workspace. Each example ends by
storing the events in an eventsourcing Application and reading the workspace back, from
the events and then from a snapshot, as a reload on another machine would: in memory,
and in a smaller run through a SQLite file and a PostgreSQL schema.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from support.aggregate_store import AggregateStore, aggregate_store
from support.workspace_model import RECORDED, Expected, ReferenceWorkspace, RefTab

from calldesk.domain.records import RecordKind, RecordRef
from calldesk.domain.workspace import ParentUnavailable, Workspace
from calldesk.domain.workspace_tabs import (
    PrimaryTab,
    Subtab,
    TabKind,
)

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ACME = RecordRef(RecordKind.ACCOUNT, "001", "Acme")
RECORDS = (
    ACME,
    RecordRef(RecordKind.ACCOUNT, "001", "Acme Inc."),  # the same record, renamed since
    RecordRef(RecordKind.ACCOUNT, "002", "Globex"),
    RecordRef(RecordKind.CONTACT, "003", "Ada Lovelace"),
    RecordRef(RecordKind.CONTACT, "004", "Alan Turing"),
    RecordRef(RecordKind.LEAD, "005", "Grace Hopper"),
    RecordRef(RecordKind.CASE, "006", "Printer on fire"),
    RecordRef(RecordKind.CASE, "007", "Refund"),
)
URLS = (
    "https://billing.example.com/invoices/1",
    "https://billing.example.com/invoices/2",
    "ftp://billing.example.com/nope",
)
CALLS = ("c-1", "c-2", "c-3")
LABELS = ("Renamed", "  Padded  ", "Acme", "", "   ", "x" * 201, "bell\x07")
#: Not a tab id the workspace ever hands out: ids start at t1.
UNKNOWN_TAB = "t0"


# Both sides, seen the same way.


def asked(tab: PrimaryTab | Subtab) -> str | None:
    return None if tab.close_requested is None else tab.close_requested.value


def tree_of(tabs: tuple[PrimaryTab, ...]) -> list[Any]:
    return [
        (
            (p.tab_id, p.kind.value, p.record, p.url, p.matches, p.label),
            (p.pinned, p.highlighted, p.unsaved, asked(p)),
            (p.duplicate, p.call),
            [
                (s.tab_id, s.record, s.label, s.highlighted, s.unsaved, asked(s))
                for s in p.subtabs
            ],
        )
        for p in tabs
    ]


def model_tree_of(tabs: list[RefTab]) -> list[Any]:
    return [
        (
            (p.id, p.kind, p.record, p.url, p.matches, p.label),
            (p.pinned, p.highlighted, p.unsaved, p.asked),
            (p.duplicate, p.call),
            [
                (s.id, s.record, s.label, s.highlighted, s.unsaved, s.asked)
                for s in p.subtabs
            ],
        )
        for p in tabs
    ]


def state_of(workspace: Workspace) -> dict[str, Any]:
    return dict(vars(workspace))


class WorkspaceAgainstReference(RuleBasedStateMachine):
    """One agent's console: random opens, focus, closes, arrangement and limits."""

    #: Where teardown stores the workspace; None: a store in memory of its own.
    store: AggregateStore | None = None
    tenants = count()

    @initialize(limit=st.integers(1, 5))
    def an_agent_starts_a_workspace(self, limit: int) -> None:
        self.now = START
        # A tenant of its own per example: examples may share one store.
        tenant = f"tenant-{next(self.tenants)}"
        self.workspace = Workspace.start(tenant, "a-17", self.now, tab_limit=limit)
        self.model = ReferenceWorkspace(limit=limit)
        self.recorded: list[Workspace.Event] = []
        self.details: dict[str, str] = {}
        self.keep(self.workspace.collect_events())

    def keep(self, new: Sequence[Any]) -> None:
        for opened in new:
            if isinstance(opened, Workspace.PrimaryTabOpened) and opened.detail_id:
                self.details[opened.tab_id] = opened.detail_id
        self.recorded += new

    def check(self, expected: Expected, command: Callable[[], object]) -> None:
        """The aggregate does what the model expects: refuses with nothing recorded,
        changes nothing, or records."""
        self.now += timedelta(seconds=1)
        before = state_of(self.workspace)
        if isinstance(expected, type):
            with pytest.raises(expected):
                command()
            assert self.workspace.collect_events() == [], "a refusal recorded events"
            assert state_of(self.workspace) == before
            return
        command()
        new = self.workspace.collect_events()
        assert bool(new) is (expected == RECORDED), f"expected {expected}, got {new}"
        self.keep(new)

    def tab(self, pick: int, likely: tuple[str, ...] = ()) -> str:
        """Any open tab or an unknown one; the `likely` ones twice as often."""
        ids = [*likely, *self.model.all_ids(), UNKNOWN_TAB]
        return ids[pick % len(ids)]

    def unsaved_tabs(self) -> tuple[str, ...]:
        return tuple(
            tab.id
            for primary in self.model.tabs
            for tab in (primary, *primary.subtabs)
            if tab.unsaved or tab.asked
        )

    # Opening.

    @rule(record=st.sampled_from(RECORDS), duplicate=st.booleans())
    def open_record(self, record: RecordRef, duplicate: bool) -> None:
        expected = self.model.open_record(record, duplicate)
        self.check(
            expected,
            lambda: self.workspace.open_record(record, self.now, allow_duplicate=duplicate),
        )

    @rule(
        record=st.sampled_from(RECORDS),
        parent=st.sampled_from(RECORDS) | st.sampled_from(ParentUnavailable),
    )
    def open_child(self, record: RecordRef, parent: RecordRef | ParentUnavailable) -> None:
        known = parent if isinstance(parent, RecordRef) else None
        expected = self.model.open_child(record, known)
        self.check(expected, lambda: self.workspace.open_child(record, parent, self.now))

    @rule(
        url=st.sampled_from(URLS),
        label=st.none() | st.sampled_from(LABELS),
        duplicate=st.booleans(),
    )
    def open_page(self, url: str, label: str | None, duplicate: bool) -> None:
        expected = self.model.open_page(url, label, duplicate)
        self.check(
            expected,
            lambda: self.workspace.open_page(
                url, self.now, label, allow_duplicate=duplicate
            ),
        )

    @rule(
        call=st.sampled_from(CALLS),
        matches=st.lists(st.sampled_from(RECORDS), max_size=3, unique=True),
    )
    def a_screen_pop(self, call: str, matches: list[RecordRef]) -> None:
        expected = self.model.screen_pop(call, "+16505551234", matches)
        self.check(
            expected,
            lambda: self.workspace.screen_pop(call, "+16505551234", matches, self.now),
        )

    @rule(call=st.sampled_from(CALLS), close_its_tab=st.booleans())
    def a_call_ends(self, call: str, close_its_tab: bool) -> None:
        expected = self.model.call_ended(call, close_its_tab)
        self.check(
            expected, lambda: self.workspace.call_ended(call, close_its_tab, self.now)
        )

    @rule()
    def reopen_the_last_closed_tab(self) -> None:
        self.check(self.model.reopen(), lambda: self.workspace.reopen_closed_tab(self.now))

    # Focus and closing.

    @rule(pick=st.integers(0, 99))
    def focus(self, pick: int) -> None:
        tab_id = self.tab(pick)
        self.check(
            self.model.focus_tab(tab_id), lambda: self.workspace.focus(tab_id, self.now)
        )

    @rule()
    def focus_the_navigation_tab(self) -> None:
        self.check(
            self.model.focus_navigation(), lambda: self.workspace.focus_navigation(self.now)
        )

    @rule(pick=st.integers(0, 99))
    def close(self, pick: int) -> None:
        self.close_tab(self.tab(pick, self.unsaved_tabs()))

    @rule(pick=st.integers(0, 99), confirm=st.booleans())
    def answer_a_close_request(self, pick: int, confirm: bool) -> None:
        self.answer(self.tab(pick, self.unsaved_tabs()), confirm)

    @rule(pick=st.integers(0, 99), confirm=st.booleans(), regret=st.booleans())
    def edit_a_tab_then_close_it_and_answer(
        self, pick: int, confirm: bool, regret: bool
    ) -> None:
        """The usual way to a close request: unsaved changes, a close, the answer; and
        sometimes the agent takes the closed tab back at once."""
        tab_id = self.tab(pick)
        self.mark(tab_id, unsaved=True)
        self.close_tab(tab_id)
        self.answer(tab_id, confirm)
        if regret:
            self.reopen_the_last_closed_tab()

    def close_tab(self, tab_id: str) -> None:
        self.check(self.model.close(tab_id), lambda: self.workspace.close(tab_id, self.now))

    def answer(self, tab_id: str, confirm: bool) -> None:
        answer = self.workspace.confirm_close if confirm else self.workspace.cancel_close
        self.check(self.model.answer(tab_id, confirm), lambda: answer(tab_id, self.now))

    # Arranging.

    @rule(pick=st.integers(0, 99), pinned=st.booleans())
    def pin_or_unpin(self, pick: int, pinned: bool) -> None:
        tab_id = self.tab(pick)
        command = self.workspace.pin if pinned else self.workspace.unpin
        self.check(self.model.set_pinned(tab_id, pinned), lambda: command(tab_id, self.now))

    @rule(pick=st.integers(0, 99), position=st.integers(-1, 5))
    def move(self, pick: int, position: int) -> None:
        tab_id = self.tab(pick)
        self.check(
            self.model.move(tab_id, position),
            lambda: self.workspace.move(tab_id, position, self.now),
        )

    @rule(pick=st.integers(0, 99), label=st.sampled_from(LABELS))
    def relabel(self, pick: int, label: str) -> None:
        tab_id = self.tab(pick)
        self.check(
            self.model.relabel(tab_id, label),
            lambda: self.workspace.relabel(tab_id, label, self.now),
        )

    @rule(pick=st.integers(0, 99), highlighted=st.booleans())
    def highlight(self, pick: int, highlighted: bool) -> None:
        tab_id = self.tab(pick)
        self.check(
            self.model.set_flag(tab_id, "highlighted", highlighted),
            lambda: self.workspace.highlight(tab_id, highlighted, self.now),
        )

    @rule(pick=st.integers(0, 99), unsaved=st.booleans())
    def mark_unsaved_or_saved(self, pick: int, unsaved: bool) -> None:
        self.mark(self.tab(pick), unsaved)

    def mark(self, tab_id: str, unsaved: bool) -> None:
        command = self.workspace.mark_unsaved if unsaved else self.workspace.mark_saved
        self.check(
            self.model.set_flag(tab_id, "unsaved", unsaved),
            lambda: command(tab_id, self.now),
        )

    @rule(limit=st.sampled_from((0, 1, 2, 3, 4, 6, 101)))
    def change_the_tab_limit(self, limit: int) -> None:
        self.check(
            self.model.set_limit(limit),
            lambda: self.workspace.set_tab_limit(limit, self.now),
        )

    # What holds after every step.

    @invariant()
    def agrees_with_the_reference(self) -> None:
        view, model = self.workspace.view(), self.model
        assert tree_of(view.tabs) == model_tree_of(model.tabs)
        assert view.focused == model.focus
        assert list(view.focus_stack) == model.stack
        assert view.tab_limit == model.limit
        assert [t.tab_id for t in self.workspace.tabs.closed] == [
            t.id for t in model.closed
        ]
        assert view.closed_tabs == len(model.closed)

    @invariant()
    def no_record_or_page_has_two_primary_tabs_unless_a_duplicate_was_asked_for(
        self,
    ) -> None:
        held = Counter(
            (t.record.kind, t.record.record_id) if t.record else t.url
            for t in self.workspace.view().tabs
            if not t.duplicate and t.kind is not TabKind.SEARCH
        )
        assert all(count == 1 for count in held.values()), held

    @invariant()
    def a_records_detail_subtab_is_always_first(self) -> None:
        for tab in self.workspace.view().tabs:
            if tab.kind is TabKind.RECORD:
                assert tab.subtabs[0].tab_id == self.details[tab.tab_id]
                assert tab.subtabs[0].record == tab.record
            else:
                assert tab.subtabs == ()

    @invariant()
    def never_more_primary_tabs_than_the_limit(self) -> None:
        view = self.workspace.view()
        assert len(view.tabs) <= view.tab_limit

    @invariant()
    def focus_rests_on_an_open_view_and_each_seen_view_is_stacked_once(self) -> None:
        view = self.workspace.view()
        views = [v for tab in view.tabs for v in tab.views]
        assert view.focused is None or view.focused in views
        assert set(view.focus_stack) <= set(views)
        assert len(set(view.focus_stack)) == len(view.focus_stack)
        assert view.focused not in view.focus_stack

    @invariant()
    def replaying_its_events_gives_the_same_workspace(self) -> None:
        replayed: Workspace | None = None
        for recorded in self.recorded:
            replayed = recorded.mutate(replayed)
        assert replayed is not None
        assert state_of(replayed) == state_of(self.workspace)

    def teardown(self) -> None:
        """Stored and read back, from its events and then from a snapshot: the same."""
        if not hasattr(self, "workspace"):
            return
        store = aggregate_store() if self.store is None else self.store
        store.save(*self.recorded)
        from_events: Workspace = store.repository.get(self.workspace.id)
        store.take_snapshot(self.workspace.id)
        from_snapshot: Workspace = store.repository.get(self.workspace.id)
        assert state_of(from_events) == state_of(self.workspace)
        assert state_of(from_snapshot) == state_of(self.workspace)


TestWorkspaceAgainstReference = WorkspaceAgainstReference.TestCase
# Some paths take many steps (a discarded tab reopened, more closes than are kept);
# an example takes milliseconds, so this machine runs more of them than the profile's.
TestWorkspaceAgainstReference.settings = settings(
    TestWorkspaceAgainstReference.settings,
    max_examples=max(200, settings().max_examples),
)


def test_workspaces_come_back_the_same_from_each_store_and_its_snapshots(
    database_url: str,
) -> None:
    # Fewer examples than in memory: each one writes to and reads from a real store,
    # and these two runs (SQLite and PostgreSQL) must stay a few seconds in all.
    with aggregate_store(database_url) as store:
        machine = type("Machine", (WorkspaceAgainstReference,), {"store": store})
        run_state_machine_as_test(machine, settings=settings(max_examples=25))

"""The Workspace aggregate's rules, one example each: no store, no clock."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from eventsourcing.domain import CanMutateAggregate

from calldesk.apps.conversion import converter
from calldesk.domain.errors import DomainError, InvalidValue
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.domain.workspace import (
    DetailSubtabFixed,
    NoCloseRequested,
    NothingToReopen,
    ParentUnavailable,
    SubtabNotPinnable,
    TabLimitReached,
    TabNotFound,
    Workspace,
    WorkspaceView,
)
from calldesk.domain.workspace_tabs import (
    CLOSED_TABS_KEPT,
    EXTERNAL_PAGE_LABEL,
    CloseCause,
    TabKind,
)

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ACME = RecordRef(RecordKind.ACCOUNT, "001", "Acme")
GLOBEX = RecordRef(RecordKind.ACCOUNT, "002", "Globex")
INITECH = RecordRef(RecordKind.ACCOUNT, "003", "Initech")
ADA = RecordRef(RecordKind.CONTACT, "010", "Ada Lovelace")
FIRE = RecordRef(RecordKind.CASE, "020", "Printer on fire")
REFUND = RecordRef(RecordKind.CASE, "021", "Refund")
BILLING = "https://billing.example.com/invoices/42"


def started(limit: int = 20) -> Workspace:
    workspace = Workspace.start("acme", "a-17", START, tab_limit=limit)
    workspace.collect_events()
    return workspace


def recorded_by(
    workspace: Workspace, step: Callable[[], object]
) -> list[CanMutateAggregate[UUID]]:
    """What this step alone recorded."""
    workspace.collect_events()
    step()
    return list(workspace.collect_events())


def titles(workspace: Workspace) -> list[str]:
    return [tab.label for tab in workspace.view().tabs]


def test_the_same_tenant_and_agent_always_give_the_same_workspace_id() -> None:
    assert started().id == Workspace.create_id("acme", "a-17")
    assert Workspace.create_id("other", "a-17") != started().id


def test_a_new_workspace_shows_only_the_navigation_tab() -> None:
    view = started().view()
    assert (view.tabs, view.focused, view.focus_stack, view.closed_tabs) == (
        (),
        None,
        (),
        0,
    )


def test_a_record_opens_as_a_primary_tab_with_its_detail_subtab_first_and_in_focus() -> (
    None
):
    workspace = started()
    assert workspace.open_record(ACME, START) == "t2"
    [tab] = workspace.view().tabs
    assert (tab.tab_id, tab.kind, tab.record, tab.label) == (
        "t1",
        TabKind.RECORD,
        ACME,
        "Acme",
    )
    assert [(s.tab_id, s.record) for s in tab.subtabs] == [("t2", ACME)]
    assert workspace.view().focused == "t2"


def test_opening_an_open_record_focuses_its_tab_even_under_a_new_title() -> None:
    workspace = started()
    workspace.open_record(ACME, START)
    workspace.open_record(GLOBEX, START)
    renamed = RecordRef(RecordKind.ACCOUNT, "001", "Acme Inc.")
    [focused] = recorded_by(workspace, lambda: workspace.open_record(renamed, START))
    assert isinstance(focused, Workspace.TabFocused)
    assert titles(workspace) == ["Acme", "Globex"]
    assert workspace.view().focused == "t2"


def test_a_duplicate_asked_for_opens_a_second_primary_tab_marked_as_such() -> None:
    workspace = started()
    workspace.open_record(ACME, START)
    workspace.open_record(ACME, START, allow_duplicate=True)
    assert [(t.record, t.duplicate) for t in workspace.view().tabs] == [
        (ACME, False),
        (ACME, True),
    ]


def test_a_child_opens_as_a_subtab_of_its_parents_open_primary_tab() -> None:
    workspace = started()
    workspace.open_record(ACME, START)
    workspace.open_record(GLOBEX, START)
    assert workspace.open_child(FIRE, ACME, START) == "t5"
    acme = workspace.view().tabs[0]
    assert [s.record for s in acme.subtabs] == [ACME, FIRE]
    assert workspace.view().focused == "t5"


def test_a_child_whose_parent_is_not_open_opens_the_parent_first() -> None:
    workspace = started()
    new = recorded_by(workspace, lambda: workspace.open_child(FIRE, ACME, START))
    assert [type(e) for e in new] == [Workspace.PrimaryTabOpened, Workspace.SubtabOpened]
    [acme] = workspace.view().tabs
    assert [s.record for s in acme.subtabs] == [ACME, FIRE]
    # Closing the child shows its parent, as the agent would expect.
    workspace.close("t3", START)
    assert workspace.view().focused == "t2"


def test_a_child_of_a_record_shown_as_a_subtab_stays_in_that_workspace() -> None:
    workspace = started()
    workspace.open_child(ADA, ACME, START)
    workspace.open_child(FIRE, ADA, START)
    [acme] = workspace.view().tabs
    assert [s.record for s in acme.subtabs] == [ACME, ADA, FIRE]


@pytest.mark.parametrize("why", list(ParentUnavailable))
def test_a_child_whose_parent_cannot_be_shown_opens_as_its_own_primary_tab(
    why: ParentUnavailable,
) -> None:
    workspace = started()
    workspace.open_child(FIRE, why, START)
    [fire] = workspace.view().tabs
    assert (fire.record, [s.record for s in fire.subtabs]) == (FIRE, [FIRE])


def test_a_record_is_not_its_own_parent() -> None:
    with pytest.raises(InvalidValue, match="case 020 is its own parent"):
        started().open_child(FIRE, FIRE, START)


def test_focusing_a_primary_tab_returns_to_the_subtab_last_seen_in_it() -> None:
    workspace = started()
    workspace.open_child(FIRE, ACME, START)  # t1, detail t2, fire t3
    workspace.open_record(GLOBEX, START)  # t4, detail t5
    assert workspace.focus("t1", START) == "t3"
    assert workspace.view().focus_stack == ("t2", "t5")


def test_closing_returns_focus_to_the_view_seen_before_then_to_the_navigation_tab() -> None:
    workspace = started()
    workspace.open_record(ACME, START)
    workspace.open_record(GLOBEX, START)
    workspace.open_record(INITECH, START)
    workspace.focus("t1", START)
    workspace.close("t1", START)
    assert workspace.view().focused == "t6"
    workspace.close("t5", START)
    assert workspace.view().focused == "t4"
    workspace.close("t3", START)
    assert (workspace.view().focused, workspace.view().focus_stack) == (None, ())


def test_closing_a_tab_out_of_focus_leaves_the_focus_where_it_is() -> None:
    workspace = started()
    workspace.open_record(ACME, START)
    workspace.open_record(GLOBEX, START)
    workspace.close("t1", START)
    assert (workspace.view().focused, workspace.view().focus_stack) == ("t4", ())


def test_closing_a_primary_tab_closes_its_subtabs() -> None:
    workspace = started()
    workspace.open_child(FIRE, ACME, START)
    workspace.open_child(REFUND, ACME, START)
    [closed] = recorded_by(workspace, lambda: workspace.close("t1", START))
    assert isinstance(closed, Workspace.TabClosed)
    assert closed.cause is CloseCause.AGENT
    assert workspace.view().tabs == ()
    with pytest.raises(TabNotFound):
        workspace.focus("t3", START)


def test_an_unsaved_tab_asks_before_closing_and_cancel_keeps_it() -> None:
    workspace = started()
    workspace.open_child(FIRE, ACME, START)
    workspace.mark_unsaved("t3", START)
    [asked] = recorded_by(workspace, lambda: workspace.close("t1", START))
    assert isinstance(asked, Workspace.TabCloseRequested)
    assert workspace.view().tabs[0].close_requested is CloseCause.AGENT
    assert recorded_by(workspace, lambda: workspace.close("t1", START)) == []
    [cancelled] = recorded_by(workspace, lambda: workspace.cancel_close("t1", START))
    assert isinstance(cancelled, Workspace.CloseCancelled)
    assert workspace.view().tabs[0].close_requested is None
    assert workspace.view().tabs[0].subtabs[1].unsaved


def test_confirming_a_close_gives_up_the_changes_and_a_reopen_brings_back_none() -> None:
    workspace = started()
    workspace.open_child(FIRE, ACME, START)
    workspace.mark_unsaved("t3", START)
    workspace.close("t1", START)
    [confirmed] = recorded_by(workspace, lambda: workspace.confirm_close("t1", START))
    assert isinstance(confirmed, Workspace.CloseConfirmed)
    assert workspace.view().tabs == ()
    workspace.reopen_closed_tab(START)
    [acme] = workspace.view().tabs
    assert not acme.has_unsaved_changes
    assert acme.close_requested is None


def test_only_a_close_that_asked_can_be_confirmed_or_cancelled() -> None:
    workspace = started()
    workspace.open_record(ACME, START)
    with pytest.raises(NoCloseRequested, match="close it first"):
        workspace.confirm_close("t1", START)
    with pytest.raises(NoCloseRequested):
        workspace.cancel_close("t1", START)


def test_the_detail_subtab_neither_moves_nor_closes_alone() -> None:
    workspace = started()
    workspace.open_child(FIRE, ACME, START)
    with pytest.raises(DetailSubtabFixed, match="detail subtab of tab t1"):
        workspace.move("t2", 1, START)
    with pytest.raises(DetailSubtabFixed, match="act on tab t1 instead"):
        workspace.close("t2", START)
    with pytest.raises(DetailSubtabFixed, match="position 0 of tab t1"):
        workspace.move("t3", 0, START)


def test_subtabs_move_after_the_detail_and_primary_tabs_anywhere() -> None:
    workspace = started()
    workspace.open_child(FIRE, ACME, START)
    workspace.open_child(REFUND, ACME, START)
    workspace.open_record(GLOBEX, START)
    workspace.move("t4", 1, START)
    workspace.move("t5", 0, START)
    acme = workspace.view().tabs[1]
    assert titles(workspace) == ["Globex", "Acme"]
    assert [s.record for s in acme.subtabs] == [ACME, REFUND, FIRE]
    assert recorded_by(workspace, lambda: workspace.move("t5", 0, START)) == []
    with pytest.raises(InvalidValue, match="positions 0 to 1, not 2"):
        workspace.move("t1", 2, START)


def test_tabs_are_pinned_relabelled_and_highlighted_and_subtabs_are_not_pinned() -> None:
    workspace = started()
    workspace.open_child(FIRE, ACME, START)
    workspace.pin("t1", START)
    workspace.relabel("t3", "  Fire!  ", START)
    workspace.highlight("t3", True, START)
    [acme] = workspace.view().tabs
    assert acme.pinned
    assert (acme.subtabs[1].label, acme.subtabs[1].highlighted) == ("Fire!", True)
    assert recorded_by(workspace, lambda: workspace.pin("t1", START)) == []
    with pytest.raises(SubtabNotPinnable, match="pin its primary tab t1 instead"):
        workspace.pin("t3", START)


def test_the_limit_evicts_the_least_recently_viewed_tab_neither_pinned_nor_unsaved() -> (
    None
):
    workspace = started(limit=3)
    workspace.open_record(ACME, START)
    workspace.open_record(GLOBEX, START)
    workspace.open_record(INITECH, START)
    workspace.pin("t1", START)
    workspace.mark_unsaved("t3", START)
    workspace.focus("t1", START)
    new = recorded_by(workspace, lambda: workspace.open_record(ADA, START))
    assert [type(e) for e in new] == [Workspace.TabEvicted, Workspace.PrimaryTabOpened]
    assert titles(workspace) == ["Acme", "Globex", "Ada Lovelace"]
    assert workspace.view().closed_tabs == 1


def test_the_limit_refuses_a_new_tab_when_every_tab_is_pinned_or_unsaved() -> None:
    workspace = started(limit=2)
    workspace.open_record(ACME, START)
    workspace.open_child(FIRE, GLOBEX, START)
    workspace.pin("t1", START)
    workspace.mark_unsaved("t5", START)
    workspace.collect_events()
    with pytest.raises(
        TabLimitReached, match="limit of 2 and 2 primary tabs are open; 1 must close"
    ):
        workspace.open_record(ADA, START)
    assert workspace.collect_events() == []
    assert workspace.open_record(FIRE, START) == "t5", "an open record still focuses"


def test_lowering_the_limit_evicts_at_once_or_is_refused_whole() -> None:
    workspace = started(limit=4)
    for record in (ACME, GLOBEX, INITECH):
        workspace.open_record(record, START)
    workspace.pin("t5", START)
    workspace.set_tab_limit(2, START)
    assert titles(workspace) == ["Globex", "Initech"]
    workspace.mark_unsaved("t3", START)
    with pytest.raises(TabLimitReached, match="limit of 1 and 2 primary tabs are open"):
        workspace.set_tab_limit(1, START)
    assert workspace.view().tab_limit == 2


def test_reopen_brings_back_the_last_closed_tab_with_its_subtabs_and_ids() -> None:
    workspace = started()
    workspace.open_child(FIRE, ACME, START)
    workspace.open_record(GLOBEX, START)
    workspace.close("t1", START)
    assert workspace.reopen_closed_tab(START) == "t2"
    acme = workspace.view().tabs[-1]
    assert (acme.tab_id, [s.tab_id for s in acme.subtabs]) == ("t1", ["t2", "t3"])
    with pytest.raises(NothingToReopen):
        workspace.reopen_closed_tab(START)


def test_opening_a_closed_record_again_forgets_its_closed_tab() -> None:
    workspace = started()
    workspace.open_record(ACME, START)
    workspace.close("t1", START)
    workspace.open_record(ACME, START)
    assert workspace.view().closed_tabs == 0


def test_only_the_last_closed_tabs_are_kept_for_a_reopen() -> None:
    workspace = started()
    for number in range(CLOSED_TABS_KEPT + 2):
        workspace.open_record(RecordRef(RecordKind.CASE, f"{number}", "Case"), START)
        workspace.close(workspace.view().tabs[0].tab_id, START)
    assert workspace.view().closed_tabs == CLOSED_TABS_KEPT
    workspace.reopen_closed_tab(START)
    assert workspace.view().tabs[0].record == RecordRef(
        RecordKind.CASE, f"{CLOSED_TABS_KEPT + 1}", "Case"
    )


def test_an_external_page_opens_once_labelled_external_page() -> None:
    workspace = started()
    assert workspace.open_page(BILLING, START) == "t1"
    workspace.open_record(ACME, START)
    assert workspace.open_page(BILLING, START) == "t1"
    [page, _] = workspace.view().tabs
    assert (page.kind, page.url, page.label, page.subtabs) == (
        TabKind.PAGE,
        BILLING,
        EXTERNAL_PAGE_LABEL,
        (),
    )


def test_a_screen_pop_with_one_match_opens_it_in_a_tab_the_calls_end_may_close() -> None:
    workspace = started()
    workspace.open_record(GLOBEX, START)
    workspace.screen_pop("c-1", "+16505551234", [ADA, ACME], START)
    ada = workspace.view().tabs[-1]
    assert (ada.record, ada.call) == (ADA, "c-1")
    assert recorded_by(workspace, lambda: workspace.call_ended("c-1", False, START)) == []
    [closed] = recorded_by(workspace, lambda: workspace.call_ended("c-1", True, START))
    assert isinstance(closed, Workspace.TabClosed)
    assert closed.cause is CloseCause.CALL_ENDED
    assert workspace.view().focused == "t2"


def test_a_screen_pop_with_many_matches_opens_a_search_results_tab() -> None:
    workspace = started()
    workspace.screen_pop("c-1", "+16505551234", [ACME, GLOBEX], START)
    [search] = workspace.view().tabs
    assert (search.kind, search.matches, search.label) == (
        TabKind.SEARCH,
        (ACME, GLOBEX),
        "2 matches for +16505551234",
    )
    workspace.screen_pop("c-2", "+16505550000", [], START)
    assert workspace.view().tabs[-1].label == "No match for +16505550000"


def test_a_screen_pop_delivered_twice_opens_one_tab() -> None:
    workspace = started()
    workspace.screen_pop("c-1", "+16505551234", [ACME, GLOBEX], START)
    assert (
        recorded_by(
            workspace, lambda: workspace.screen_pop("c-1", "+16505551234", [ADA], START)
        )
        == []
    )


def test_a_calls_end_never_closes_a_tab_the_agent_had_opened_themselves() -> None:
    workspace = started()
    workspace.open_record(ADA, START)
    workspace.open_record(ACME, START)
    workspace.screen_pop("c-1", "+16505551234", [ADA], START)
    assert workspace.view().focused == "t2"
    workspace.call_ended("c-1", True, START)
    assert titles(workspace) == ["Ada Lovelace", "Acme"]


def test_a_calls_end_on_an_unsaved_tab_asks_first() -> None:
    workspace = started()
    workspace.screen_pop("c-1", "+16505551234", [ADA], START)
    workspace.mark_unsaved("t2", START)
    workspace.call_ended("c-1", True, START)
    assert workspace.view().tabs[0].close_requested is CloseCause.CALL_ENDED
    [confirmed] = recorded_by(workspace, lambda: workspace.confirm_close("t1", START))
    assert isinstance(confirmed, Workspace.CloseConfirmed)
    assert confirmed.cause is CloseCause.CALL_ENDED


@pytest.mark.parametrize(
    ("command", "refusal", "message"),
    [
        (lambda w: w.focus("t9", START), TabNotFound, "has no open tab 't9'"),
        (lambda w: w.close("t9", START), TabNotFound, "no open tab"),
        (lambda w: w.relabel("t1", "   ", START), InvalidValue, "must not be empty"),
        (lambda w: w.relabel("t1", "x" * 201, START), InvalidValue, "at most 200"),
        (lambda w: w.set_tab_limit(0, START), InvalidValue, "from 1 to 100"),
        (lambda w: w.set_tab_limit(101, START), InvalidValue, "not 101"),
        (lambda w: w.open_page("billing/42", START), InvalidValue, "whole http"),
        (lambda w: w.open_page("https://a.example/ b", START), InvalidValue, "spaces"),
        (lambda w: w.screen_pop(" ", "+1", [], START), InvalidValue, "a call id"),
    ],
)
def test_bad_input_is_refused_with_a_domain_error_and_records_nothing(
    command: Callable[[Workspace], object], refusal: type[DomainError], message: str
) -> None:
    workspace = started()
    workspace.open_record(ACME, START)
    workspace.collect_events()
    before = workspace.view()
    with pytest.raises(refusal, match=message):
        command(workspace)
    assert workspace.collect_events() == []
    assert workspace.view() == before


def test_a_workspace_starts_only_with_a_limit_of_at_least_one() -> None:
    with pytest.raises(InvalidValue, match="a tab limit is from 1 to 100"):
        Workspace.start("acme", "a-17", START, tab_limit=0)


def test_each_event_carries_the_time_of_its_command() -> None:
    workspace = started()
    later = START + timedelta(minutes=5)
    [opened] = recorded_by(workspace, lambda: workspace.open_record(ACME, later))
    assert opened.timestamp == later


def test_the_view_is_plain_data_for_the_http_layer() -> None:
    workspace = started()
    workspace.open_child(FIRE, ACME, START)
    workspace.screen_pop("c-1", "+16505551234", [ACME, GLOBEX], START)
    data = converter.unstructure(workspace.view())
    assert data["focused"] == "t4"
    assert data["tabs"][0]["subtabs"][1]["record"]["record_id"] == "020"
    assert converter.structure(data, WorkspaceView) == workspace.view()

"""Agents' console tabs through the application: opened, arranged, popped by calls."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from support.clock import Clock
from support.desk_driver import tenant_with_agent
from support.telephony import ADA, ADA_NUMBER, CASE, SHARED_NUMBER, StaticDirectory, desktop

from calldesk.adapters.telephony.simulator import Caller
from calldesk.apps.desk import Desk
from calldesk.apps.tenancy import ClosePoppedTabs
from calldesk.apps.workspaces import (
    ActOnTab,
    ArrangeWorkspace,
    OpenChild,
    OpenRecord,
    TabAction,
)
from calldesk.domain.errors import NotFound
from calldesk.domain.records import RecordKind, RecordRef
from calldesk.domain.workspace_tabs import TabKind

START = datetime(2026, 11, 25, 9, tzinfo=UTC)


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    with Desk.at(database_url, directory=StaticDirectory()) as opened:
        tenant_with_agent(opened, START)
        yield opened


def test_tabs_survive_a_reload_on_another_desk_of_the_same_store(
    database_url: str, desk: Desk
) -> None:
    desk.open_record(OpenRecord("acme", "a-17", record=ADA, at=START))
    opened = desk.open_child(OpenChild("acme", "a-17", record=CASE, parent=ADA, at=START))
    [ada_tab] = opened.tabs
    assert [s.record for s in ada_tab.subtabs] == [ADA, CASE]  # the detail comes first
    close = ActOnTab("acme", "a-17", tab=ada_tab.tab_id, action=TabAction.CLOSE, at=START)
    assert desk.act_on_tab(close).tabs == ()

    with Desk.at(database_url, directory=StaticDirectory()) as elsewhere:
        assert elsewhere.workspace("acme", "a-17") == desk.workspace("acme", "a-17")
    reopened = desk.arrange(
        ArrangeWorkspace("acme", "a-17", reopen_closed_tab=True, at=START)
    )
    assert reopened.tabs == (ada_tab,)


def test_the_title_comes_from_the_directory_and_other_tenants_records_are_not_found(
    desk: Desk,
) -> None:
    renamed = RecordRef(ADA.kind, ADA.record_id, "Someone else")
    view = desk.open_record(OpenRecord("acme", "a-17", record=renamed, at=START))
    assert view.tabs[0].label == ADA.title
    head = desk.head()
    stranger = RecordRef(RecordKind.CONTACT, "003-zed", "Zed")
    with pytest.raises(NotFound):
        desk.open_record(OpenRecord("acme", "a-17", record=stranger, at=START))
    assert desk.head() == head


def test_a_child_whose_parent_is_unknown_opens_as_its_own_tab(desk: Desk) -> None:
    stranger = RecordRef(RecordKind.CONTACT, "003-zed", "Zed")
    view = desk.open_child(
        OpenChild("acme", "a-17", record=CASE, parent=stranger, at=START)
    )
    assert [t.record for t in view.tabs] == [CASE]


def test_an_answered_call_pops_its_record_or_the_matches(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=600), talk_first=1)
        shared = Caller(SHARED_NUMBER, "a-17", talks_for=600, direct=True)
        desk.answered(shared, talk_first=1)
        tabs = desk.desk.workspace("acme", "a-17").tabs
        assert [(t.kind, t.record) for t in tabs] == [
            (TabKind.RECORD, ADA),
            (TabKind.SEARCH, None),
        ]
        assert len(tabs[1].matches) == 2


def test_a_tenant_can_have_a_calls_end_close_the_tab_it_popped(
    database_url: str, clock: Clock
) -> None:
    with desktop(database_url, clock()) as desk:
        desk.desk.close_popped_tabs(ClosePoppedTabs("acme", close=True, at=desk.now))
        call_id = desk.answered(Caller(ADA_NUMBER, "a-17", talks_for=30), talk_first=1)
        assert len(desk.desk.workspace("acme", "a-17").tabs) == 1
        desk.simulator.advance(60)
        desk.wrap_up(desk.call(call_id))
        assert desk.desk.workspace("acme", "a-17").tabs == ()

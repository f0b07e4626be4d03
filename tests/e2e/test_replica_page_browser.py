"""The replica's local page as an agent works it in a real browser (Debian's chromium):
an edit made offline waits with its badge and goes out once the network is back, a
record created offline follows its server id, a conflict is settled in the three-way
view with each of its choices, and a change the server refused is edited and sent
again, all against a real server over the replica's HTTP surface (ADR/0028)."""

import re
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from playwright.sync_api import Browser, Locator, Page, Route, expect
from support.page_checks import checked_for_access_and_width
from support.replicas import Device, Site, site

from calldesk.adapters.http.serving import served_in_thread
from calldesk.adapters.replica.page import replica_page_app
from calldesk.apps.records import AddField, ChangeField
from calldesk.domain.record_fields import FieldDefinition, FieldType
from calldesk.domain.records import RecordKind

CONTACT = RecordKind.CONTACT
KEY = "page-key-" + "k" * 34
WIDTH = 1024


@attrs.frozen
class Desk:
    """The server, the device with its network, and the page open in the browser."""

    server: Site
    laptop: Device
    page: Page
    url: str

    def opened(self) -> Page:
        """The page at its contacts, opened from the address `serve` prints."""
        self.page.goto(f"{self.url}/#key={KEY}")
        expect(self.page.locator("#replica-status")).not_to_contain_text("Reading")
        self.page.get_by_role("link", name="Contacts").click()
        # The contacts are drawn: until then the search box on show is the accounts'.
        expect(self.page.get_by_role("heading", name="Contacts")).to_be_visible()
        return self.page

    def row(self, text: str) -> Locator:
        return self.page.get_by_role("row").filter(has_text=text)

    def sync_now(self, said: str) -> None:
        self.page.get_by_role("button", name="Sync now").click()
        expect(self.page.locator("#sync-said")).to_contain_text(said)


@pytest.fixture
def desk(browser: Browser, tmp_path: Path) -> Iterator[Desk]:
    with site(f"sqlite:///{tmp_path}/calldesk.db") as server:
        laptop = server.device(tmp_path, "laptop-1")
        app = replica_page_app(laptop.replica, KEY)
        with served_in_thread(app) as url:
            context = browser.new_context(viewport={"width": WIDTH, "height": 800})
            yield Desk(server, laptop, context.new_page(), url)
            context.close()


def test_an_offline_edit_waits_with_its_badge_and_goes_out_after_reconnecting(
    desk: Desk,
) -> None:
    record_id = desk.server.create(CONTACT, "op-1", first_name="George", last_name="Byron")
    desk.server.create(CONTACT, "op-2", first_name="Percy", last_name="Shelley")
    assert desk.laptop.replica.sync().completed
    page = desk.opened()
    assert "key=" not in page.url  # taken from the address, not left in its history
    page.get_by_label("Search by name or id").fill("george")
    page.get_by_role("button", name="Search").click()
    expect(desk.row("Shelley")).to_have_count(0)
    row = desk.row("George Byron")
    expect(row).to_contain_text("✓ Synced")
    desk.laptop.network.down = True
    row.get_by_role("link", name="George Byron").click()
    page.get_by_label("Title").fill("Lord")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#view .status-badge")).to_have_text("↑ Changes not yet sent")
    expect(page.locator("#replica-status")).to_contain_text("1 waiting to be sent")
    checked_for_access_and_width(page, WIDTH, frames=())
    desk.sync_now("did not complete (offline)")
    assert "title" not in desk.server.records(CONTACT)[record_id]
    desk.laptop.network.down = False
    desk.sync_now("Synced:")
    expect(page.locator("#view .status-badge")).to_have_text("✓ Synced")
    expect(page.locator("#replica-status")).to_contain_text("Up to date")
    assert desk.server.records(CONTACT)[record_id]["title"] == "Lord"


def test_a_list_read_before_a_search_and_answered_after_it_is_not_drawn(
    desk: Desk,
) -> None:
    """The page reads the list again when the replica moves; that read, answered late,
    must not put back what the person's search took away."""
    desk.server.create(CONTACT, "op-1", first_name="George", last_name="Byron")
    desk.server.create(CONTACT, "op-2", first_name="Percy", last_name="Shelley")
    assert desk.laptop.replica.sync().completed
    page = desk.opened()
    expect(desk.row("Shelley")).to_have_count(1)
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    unsearched = re.compile(r"/api/records/contact\?q=$")
    page.route(unsearched, hold)
    with page.expect_request(unsearched):  # the replica moved: the page reads again
        desk.server.create(CONTACT, "op-3", first_name="Mary", last_name="Shelley")
        assert desk.laptop.replica.sync().completed
    page.get_by_label("Search by name or id").fill("george")
    page.get_by_role("button", name="Search").click()
    expect(desk.row("George Byron")).to_have_count(1)
    expect(desk.row("Shelley")).to_have_count(0)
    assert held, "the read the replica's move asked for was not held"
    for late in held:
        with page.expect_response(unsearched):
            late.continue_()  # answered now, after the search's
    # The page's turns after the answer came: its body read, and drawn if it were.
    page.evaluate("() => new Promise((turned) => setTimeout(turned, 0))")
    expect(desk.row("Shelley")).to_have_count(0)


def test_what_is_typed_in_the_search_stays_while_the_list_follows_the_replica(
    desk: Desk,
) -> None:
    desk.server.create(CONTACT, "op-1", first_name="George", last_name="Byron")
    assert desk.laptop.replica.sync().completed
    page = desk.opened()
    expect(desk.row("Byron")).to_have_count(1)
    box = page.get_by_label("Search by name or id")
    box.fill("geo")
    unsearched = re.compile(r"/api/records/contact\?q=$")
    with page.expect_response(unsearched):  # the replica moved: the list is read again
        desk.server.create(CONTACT, "op-2", first_name="Percy", last_name="Shelley")
        assert desk.laptop.replica.sync().completed
    expect(desk.row("Shelley")).to_have_count(1)  # redrawn
    expect(box).to_have_value("geo")
    expect(box).to_be_focused()


def test_a_record_created_offline_follows_its_server_id_once_synced(desk: Desk) -> None:
    assert desk.laptop.replica.sync().completed
    desk.laptop.network.down = True
    page = desk.opened()
    page.get_by_role("button", name="New contact").click()
    page.get_by_label("Last name (required)").fill("Lovelace")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#view .status-badge")).to_have_text("+ New, not yet sent")
    temporary = page.url
    desk.laptop.network.down = False
    desk.sync_now("Synced:")
    expect(page.locator("#view .status-badge")).to_have_text("✓ Synced")
    (record_id,) = desk.server.records(CONTACT)
    expect(page).to_have_url(f"{desk.url}/pages/replica.html#/contact/{record_id}")
    assert page.url != temporary


@pytest.mark.parametrize(
    ("choose", "ends_as"),
    [("Keep mine", "Lady"), ("Keep theirs", "Countess"), ("Use the new value", "Dame")],
)
def test_a_conflict_is_settled_in_the_three_way_view(
    desk: Desk, choose: str, ends_as: str
) -> None:
    record_id = desk.server.create(CONTACT, "op-1", last_name="Byron", title="Miss")
    assert desk.laptop.replica.sync().completed
    page = desk.opened()
    page.get_by_role("link", name="Byron").click()
    page.get_by_label("Title").fill("Lady")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#view .status-badge")).to_have_text("↑ Changes not yet sent")
    desk.server.change(CONTACT, record_id, title="Countess")
    desk.sync_now("Synced:")
    expect(page.locator("#view .status-badge")).to_have_text(
        "⚠ Conflict: choose the values"
    )
    page.get_by_role("link", name="Conflicts (1)").click()
    three_way = page.get_by_role("table", name=f"contact {record_id}: Title")
    cells = three_way.get_by_role("row").nth(1).get_by_role("cell")
    expect(cells).to_have_text(["Miss", "Lady", "Countess"])
    checked_for_access_and_width(page, WIDTH, frames=())
    if choose == "Use the new value":
        page.get_by_label("New value").fill("Dame")
    page.get_by_role("button", name=choose).click()
    expect(page.get_by_text("No conflicts: nothing to choose.")).to_be_visible()
    expect(page.get_by_role("link", name="Conflicts (0)")).to_be_visible()
    desk.sync_now("Synced:")
    assert desk.server.records(CONTACT)[record_id]["title"] == ends_as
    page.get_by_role("link", name="Contacts").click()
    expect(desk.row("Byron")).to_contain_text("✓ Synced")


def test_a_change_the_server_refused_is_edited_and_retried(desk: Desk) -> None:
    server = desk.server
    region = FieldDefinition("region", "Region", FieldType.TEXT, max_length=40)
    server.desk.add_field(
        AddField("acme", kind=CONTACT, definition=region, at=server.clock.advance())
    )
    record_id = server.create(CONTACT, "op-1", last_name="Byron")
    assert desk.laptop.replica.sync().completed
    page = desk.opened()
    page.get_by_role("link", name="Byron").click()
    page.get_by_label("Region").fill("Europe, the Middle East and Africa")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#view .status-badge")).to_have_text("↑ Changes not yet sent")
    shorter = FieldDefinition("region", "Region", FieldType.TEXT, max_length=4)
    server.desk.change_field(
        ChangeField("acme", kind=CONTACT, definition=shorter, at=server.clock.advance())
    )
    desk.sync_now("Synced:")
    page.get_by_role("link", name="Refused (1)").click()
    said = page.locator(".server-said")
    expect(said).to_contain_text("The server said:")
    expect(said).to_contain_text("region")
    page.get_by_role("link", name="Edit and retry Byron").click()
    expect(page.locator("#view .status-badge")).to_have_text("✖ Refused by the server")
    expect(page.locator("#view .server-said")).to_contain_text("region")
    page.get_by_label("Region").fill("EMEA")
    page.get_by_role("button", name="Save and retry").click()
    expect(page.locator("#view .status-badge")).to_have_text("↑ Changes not yet sent")
    desk.sync_now("Synced:")
    expect(page.locator("#view .status-badge")).to_have_text("✓ Synced")
    assert server.records(CONTACT)[record_id]["region"] == "EMEA"
    expect(page.get_by_role("link", name="Refused (0)")).to_be_visible()


def test_without_its_key_the_page_says_where_to_open_it_and_shows_nothing(
    desk: Desk,
) -> None:
    desk.server.create(CONTACT, "op-1", last_name="Byron")
    assert desk.laptop.replica.sync().completed
    page = desk.page
    page.goto(f"{desk.url}/")
    expect(page.locator("#problem")).to_contain_text("calldesk replica serve")
    expect(page.get_by_text("Byron")).to_have_count(0)

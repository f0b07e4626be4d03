"""A record's page in the console, as an agent works it in a real browser (Debian's
chromium): the fields laid out by the tenant's schema and edited in place, refusals at
their fields, another agent's edit arriving live, the choice when both changed a field,
the history, and a new contact for a caller nobody knows.

The directory is the SQLite projection of the records (ADR/0023), so a record created
here pops, opens as a tab and takes a call, as in a deployment.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from playwright.sync_api import Browser, Error, Locator, Page, Request, Route, expect
from support.connector import serving, token_for
from support.desk_driver import tenant_with_agent
from support.page_checks import checked_for_access_and_width
from support.softphone_frame import sent_to_the_phone

from calldesk.adapters.directory.sqlite_records import SQLiteRecordDirectory
from calldesk.adapters.telephony.simulator import Caller, PhoneSimulator
from calldesk.apps.desk import Desk
from calldesk.apps.presence import RegisterAgent
from calldesk.apps.records import AddField, ChangeRecord, CreateRecord, RecordView
from calldesk.domain.crm_records import Author
from calldesk.domain.record_fields import FieldDefinition, FieldType, FieldValue
from calldesk.domain.records import RecordKind

START = datetime(2026, 12, 3, 9, tzinfo=UTC)
CRM = Author("import", "crm")
ALAN = Author("agent", "a-18")
UNKNOWN_NUMBER = "+16505550177"


@attrs.frozen
class RecordPage:
    """Agent a-17's console, a contact of the tenant (Ada, version 1), the desk, and
    a-18's headers for the connector at `url`."""

    page: Page
    phone: PhoneSimulator
    desk: Desk
    url: str
    ada: RecordView
    alan: dict[str, str]

    def record(self) -> RecordView:
        return self.desk.crm_record("acme", RecordKind.CONTACT, self.ada.record_id)

    def change(self, by: Author, base_version: int, **values: FieldValue) -> RecordView:
        return self.desk.change_record(
            ChangeRecord(
                "acme",
                kind=RecordKind.CONTACT,
                record_id=self.ada.record_id,
                base_version=base_version,
                values=values,
                by=by,
                at=self.phone.now(),
            )
        )


CUSTOM_FIELDS = (
    FieldDefinition("vip", "VIP", FieldType.BOOLEAN),
    FieldDefinition("birthday", "Birthday", FieldType.DATE),
    FieldDefinition("call_back_at", "Call back at", FieldType.DATETIME),
    FieldDefinition("lifetime_value", "Lifetime value", FieldType.NUMBER),
    FieldDefinition(
        "tier", "Loyalty tier", FieldType.PICKLIST, picklist=("Bronze", "Silver", "Gold")
    ),
    FieldDefinition("notes", "Notes", FieldType.LONG_TEXT),
)


@pytest.fixture
def record_page(browser: Browser, tmp_path: Path) -> Iterator[RecordPage]:
    """The page at a laptop's width with Ada's contact created by the CRM import;
    the tenant's schema has its own fields of every type beside the standard ones.
    Any script error on the page fails the test."""
    with (
        SQLiteRecordDirectory(tmp_path / "directory.db") as directory,
        Desk.at(f"sqlite:///{tmp_path}/calldesk.db", directory) as desk,
    ):
        phone = PhoneSimulator(START)
        tenant_with_agent(desk, START)
        desk.register_agent(RegisterAgent("acme", "a-18", name="Alan Turing", at=START))
        for field in CUSTOM_FIELDS:
            added = AddField("acme", kind=RecordKind.CONTACT, definition=field, at=START)
            desk.add_field(added)
        ada = desk.create_record(
            CreateRecord(
                "acme",
                kind=RecordKind.CONTACT,
                values={
                    "first_name": "Ada",
                    "last_name": "Byron",
                    "title": "Miss",
                    "phone": "+442079460958",
                    "email": "ada@example.com",
                    "tier": "Gold",
                },
                operation_id="crm-ada",
                by=CRM,
                at=START,
            )
        )
        desk.attach("acme", phone, phone)
        secret = token_for(desk, phone, "a-17")["Authorization"].removeprefix("Bearer ")
        alan = token_for(desk, phone, "a-18")
        with serving(desk, phone) as url:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            errors: list[Error] = []
            page.on("pageerror", lambda error: errors.append(error))
            page.goto(f"{url}/pages/console.html?agent=a-17#token={secret}")
            yield RecordPage(page, phone, desk, url, ada, alan)
            page.close()
            assert not errors


def opened(console: RecordPage) -> Locator:
    """Ada's tab, opened from Home as an agent who knows her id: its details."""
    page = console.page
    page.get_by_role("button", name="Home", exact=True).click()
    page.get_by_label("Kind").select_option("contact")
    page.get_by_label("Record id").fill(console.ada.record_id)
    page.get_by_role("button", name="Open record").click()
    details = page.get_by_role("region", name="Details")
    expect(details.locator("dd").first).to_have_text("Ada")
    return details


def editing(details: Locator) -> Locator:
    details.get_by_role("button", name="Edit", exact=True).click()
    form = details.get_by_role("form")
    expect(form.get_by_label("First name")).to_be_focused()
    return form


def value_of(details: Locator, label: str) -> Locator:
    """The value the details show for a field, by its label."""
    return (
        details.locator(".record-field")
        .filter(has=details.page.get_by_text(label, exact=True))
        .locator("dd")
    )


def patches(page: Page) -> list[dict[str, Any]]:
    """The bodies of every PATCH the page sends, as they are sent."""
    sent: list[dict[str, Any]] = []

    def heard(request: Request) -> None:
        if request.method == "PATCH":
            sent.append(json.loads(request.post_data or "{}"))

    page.on("request", heard)
    return sent


def test_the_fields_are_laid_out_by_the_tenants_schema_each_with_its_control(
    record_page: RecordPage,
) -> None:
    details = opened(record_page)
    labels = details.locator("dt").all_inner_texts()
    assert labels == [
        *("First name", "Last name", "Name", "Account", "Title", "Phone", "Mobile"),
        *("Email", "Created", "Last modified", "VIP", "Birthday", "Call back at"),
        *("Lifetime value", "Loyalty tier", "Notes"),
    ]
    expect(value_of(details, "Name")).to_have_text("Ada Byron")
    expect(value_of(details, "Loyalty tier")).to_have_text("Gold")
    expect(value_of(details, "VIP")).to_have_text("not set")
    expect(details.get_by_role("button", name="Call +442079460958")).to_be_visible()
    expect(details.get_by_role("link", name="ada@example.com")).to_have_attribute(
        "href", "mailto:ada@example.com"
    )

    form = editing(details)
    kinds = {
        "Last name": "text",
        "Phone": "tel",
        "Email": "email",
        "Birthday": "date",
        "Call back at": "datetime-local",
        "Lifetime value": "number",
        "VIP": "checkbox",
    }
    for label, kind in kinds.items():
        expect(form.get_by_label(label, exact=False).first).to_have_attribute("type", kind)
    expect(form.get_by_label("Notes")).to_have_js_property("tagName", "TEXTAREA")
    tier = form.get_by_label("Loyalty tier")
    expect(tier.locator("option")).to_have_text(["— none —", "Bronze", "Silver", "Gold"])
    expect(tier).to_have_value("Gold")
    expect(form.get_by_label("Account")).to_be_visible()
    # The server's fields are shown, never a control.
    expect(form.get_by_text("Ada Byron")).to_be_visible()
    expect(form.get_by_label("Name", exact=True)).to_have_count(0)
    expect(form.get_by_label("Created")).to_have_count(0)


def test_an_edit_in_place_sends_only_the_changed_fields_from_its_version(
    record_page: RecordPage,
) -> None:
    page = record_page.page
    details = opened(record_page)
    sent = patches(page)
    form = editing(details)
    form.get_by_label("Title").fill("Countess of Lovelace")
    form.get_by_label("VIP").check()
    form.get_by_label("Loyalty tier").select_option("Silver")
    expect(page.locator("#subtabs .badge-warn")).to_have_text("unsaved")

    form.get_by_label("Title").press("Enter")

    expect(details.get_by_role("status")).to_have_text("Saved.")
    expect(value_of(details, "Title")).to_have_text("Countess of Lovelace")
    expect(value_of(details, "VIP")).to_have_text("Yes")
    expect(details.get_by_role("button", name="Edit", exact=True)).to_be_focused()
    expect(page.locator("#subtabs .badge-warn")).to_have_count(0)
    assert sent == [
        {
            "base_version": 1,
            "values": {"title": "Countess of Lovelace", "vip": True, "tier": "Silver"},
        }
    ]
    record = record_page.record()
    assert (record.version, record.modified_by) == (2, Author("agent", "a-17"))


def test_cancel_leaves_the_record_as_it_was(record_page: RecordPage) -> None:
    details = opened(record_page)
    form = editing(details)
    form.get_by_label("Title").fill("Lady")
    form.get_by_role("button", name="Cancel").click()
    expect(value_of(details, "Title")).to_have_text("Miss")
    assert record_page.record().version == 1


def test_each_refusal_is_shown_at_its_field_and_nothing_is_recorded(
    record_page: RecordPage,
) -> None:
    page = record_page.page
    details = opened(record_page)
    form = editing(details)
    form.get_by_label("First name").fill("A" * 41)
    form.get_by_label("Email").fill("ada@")
    expect(page.locator("#subtabs .badge-warn")).to_have_text("unsaved")
    head = record_page.desk.head()
    form.get_by_role("button", name="Save").click()

    expect(details.get_by_role("alert")).to_have_text("Not saved: check First name, Email.")
    first = form.get_by_label("First name")
    expect(first).to_have_attribute("aria-invalid", "true")
    expect(first).to_have_accessible_description(
        "is 41 characters long; at most 40 are allowed"
    )
    expect(first).to_be_focused()
    expect(form.get_by_label("Email")).to_have_accessible_description(
        "is an email address like ada@example.com, not 'ada@'"
    )
    expect(form.get_by_label("Email")).to_have_value("ada@")
    assert record_page.desk.head() == head

    first.fill("Augusta Ada")
    form.get_by_label("Email").fill("ada@lovelace.org")
    form.get_by_role("button", name="Save").click()
    expect(value_of(details, "First name")).to_have_text("Augusta Ada")
    expect(value_of(details, "Email")).to_have_text("ada@lovelace.org")


def test_another_agents_edit_and_a_devices_appear_at_once(
    record_page: RecordPage,
) -> None:
    details = opened(record_page)
    path = f"{record_page.url}/records/contact/{record_page.ada.record_id}"
    body = {"base_version": 1, "values": {"title": "Countess"}}
    answer = httpx.patch(path, headers=record_page.alan, json=body, timeout=10)
    assert answer.status_code == 200, answer.text

    expect(value_of(details, "Title")).to_have_text("Countess")
    expect(details.get_by_role("status")).to_have_text("Changed by a-18 just now: Title.")

    record_page.change(Author.of_device("a-18", "tablet-3"), 2, mobile="+447700900123")
    expect(details.get_by_role("button", name="Call +447700900123")).to_be_visible()
    expect(details.get_by_role("status")).to_have_text(
        "Changed by a-18's device tablet-3 just now: Mobile."
    )


def test_a_field_changed_meanwhile_asks_and_keep_mine_sends_it_on_the_new_version(
    record_page: RecordPage,
) -> None:
    page = record_page.page
    details = opened(record_page)
    sent = patches(page)
    form = editing(details)
    form.get_by_label("Title").fill("Lady")

    record_page.change(ALAN, 1, title="Countess", email="ada@lovelace.org")

    choice = form.get_by_role("group", name="Title was changed meanwhile")
    expect(choice).to_contain_text(
        "Changed meanwhile by a-18. Theirs: Countess. Yours: Lady."
    )
    expect(details.get_by_role("alert")).to_contain_text("Changed meanwhile by a-18: Title")
    # A field the agent left takes their value, with nothing to choose.
    expect(form.get_by_label("Email")).to_have_value("ada@lovelace.org")
    form.get_by_role("button", name="Save").click()  # not before choosing
    expect(choice.get_by_role("button", name="Keep mine")).to_be_focused()
    assert sent == []

    choice.get_by_role("button", name="Keep mine").click()
    expect(choice).to_be_hidden()
    form.get_by_role("button", name="Save").click()

    expect(value_of(details, "Title")).to_have_text("Lady")
    assert sent == [{"base_version": 2, "values": {"title": "Lady"}}]
    record = record_page.record()
    assert (record.values["title"], record.values["email"]) == ("Lady", "ada@lovelace.org")


def test_a_save_refused_for_a_clash_offers_the_choice_and_take_theirs_saves_the_rest(
    record_page: RecordPage,
) -> None:
    page = record_page.page
    details = opened(record_page)
    sent = patches(page)

    def changed_just_before(route: Route) -> None:
        """Alan saves first: the page's first save leaves from a version that is no
        longer the record's."""
        if route.request.method == "PATCH" and record_page.record().version == 1:
            record_page.change(ALAN, 1, title="Countess")
        route.continue_()

    page.route("**/records/contact/*", changed_just_before)
    form = editing(details)
    form.get_by_label("Title").fill("Lady")
    form.get_by_label("First name").fill("Augusta")
    with page.expect_response(lambda r: r.request.method == "PATCH") as refused:
        form.get_by_role("button", name="Save").click()
    assert refused.value.status == 409

    choice = form.get_by_role("group", name="Title was changed meanwhile")
    expect(choice).to_contain_text("Theirs: Countess. Yours: Lady.")
    expect(choice.get_by_role("button", name="Keep mine")).to_be_focused()
    choice.get_by_role("button", name="Take theirs").click()

    expect(details.get_by_role("status")).to_have_text("Saved.")
    expect(value_of(details, "Title")).to_have_text("Countess")
    expect(value_of(details, "First name")).to_have_text("Augusta")
    assert sent == [
        {"base_version": 1, "values": {"title": "Lady", "first_name": "Augusta"}},
        {"base_version": 2, "values": {"first_name": "Augusta"}},
    ]
    assert record_page.record().version == 3


def test_the_history_says_who_changed_which_field_when_from_what_to_what(
    record_page: RecordPage,
) -> None:
    details = opened(record_page)
    record_page.change(ALAN, 1, title="Countess")
    expect(value_of(details, "Title")).to_have_text("Countess")
    history = details.get_by_role("button", name="History")
    expect(history).to_have_attribute("aria-expanded", "false")
    history.click()
    expect(history).to_have_attribute("aria-expanded", "true")

    entries = details.get_by_role("list", name="Changes, newest first").locator(
        ".history-entry"
    )
    expect(entries).to_have_count(2)
    expect(entries.first.locator(".feed-meta")).to_contain_text("Changed by a-18 ·")
    expect(entries.first.locator(".history-changes li")).to_have_text(
        ["Title: Miss → Countess"]
    )
    expect(entries.nth(1).locator(".feed-meta")).to_contain_text("Created by crm (import)")
    expect(entries.nth(1)).to_contain_text("Loyalty tier: Gold")

    record_page.change(ALAN, 2, tier="Silver")  # an open history follows the record
    expect(entries).to_have_count(3)
    expect(entries.first.locator(".history-changes li")).to_have_text(
        ["Loyalty tier: Gold → Silver"]
    )


def test_an_unknown_caller_becomes_a_new_contact_the_call_is_filed_under(
    record_page: RecordPage,
) -> None:
    page, phone = record_page.page, record_page.phone
    frame = page.frame_locator("#softphone")
    frame.get_by_role("button", name="Log in").click()
    frame.get_by_role("button", name="Ready", exact=True).click()
    page.get_by_text("Ada Lovelace (a-17): available").wait_for()
    phone.expect(Caller(UNKNOWN_NUMBER, "a-17", talks_for=600))
    phone.advance(1)
    with sent_to_the_phone(frame, "accept"):
        frame.get_by_role("button", name="Answer").click()
    phone.advance(1)
    caller = page.get_by_role("region", name="Caller")
    expect(caller).to_contain_text("Nobody known for this number.")

    form = caller.get_by_role("form", name="New contact")
    expect(form.get_by_label("Phone")).to_have_value(UNKNOWN_NUMBER)
    form.get_by_label("First name").fill("Charles")
    form.get_by_role("button", name="Create contact").click()
    last_name = form.get_by_label("Last name")
    expect(last_name).to_have_accessible_description("is required")
    expect(last_name).to_be_focused()
    last_name.fill("Babbage")
    form.get_by_role("button", name="Create contact").click()

    expect(page.locator("#tabs [aria-current=true]")).to_contain_text("Charles Babbage")
    expect(page.locator("#popped-record")).to_have_text("Charles Babbage (contact)")
    details = page.get_by_role("region", name="Details")
    expect(details.get_by_role("button", name=f"Call {UNKNOWN_NUMBER}")).to_be_visible()
    (work,) = record_page.desk.agent("acme", "a-17").calls
    filed = record_page.desk.call("acme", work.call).record
    assert filed is not None
    assert filed.title == "Charles Babbage"


@pytest.mark.parametrize("width", [1366, 360])
def test_a_record_being_edited_with_a_clash_and_a_refusal_is_accessible_and_fits(
    record_page: RecordPage, width: int
) -> None:
    page = record_page.page
    page.set_viewport_size({"width": width, "height": 768})
    details = opened(record_page)
    details.get_by_role("button", name="History").click()
    checked_for_access_and_width(page, width)
    form = editing(details)
    form.get_by_label("Title").fill("Lady")
    form.get_by_label("Email").fill("not an address")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    record_page.change(ALAN, 1, title="Countess")
    expect(form.get_by_role("group", name="Title was changed meanwhile")).to_be_visible()
    checked_for_access_and_width(page, width)

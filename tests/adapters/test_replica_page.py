"""The replica's local page over HTTP, as the browser calls it (ADR/0028): the key on
every API route, loopback names and its own origin only, strict bodies, and the
device's work (create, edit, delete, choices, retries, notices, mode, sync) reaching
the replica's tables exactly as the CLI's does. A refusal changes nothing."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from support.replicas import Device, Site, site

from calldesk.adapters.replica.page import replica_page_app
from calldesk.apps.records import AddField, ChangeField
from calldesk.domain.record_fields import FieldDefinition, FieldType
from calldesk.domain.records import RecordKind
from calldesk.domain.temporary_ids import is_temporary_id

CONTACT = RecordKind.CONTACT
KEY = "k" * 43
AUTH = {"Authorization": f"Bearer {KEY}"}

#: Every API route with a request that would change or read something, given the key.
ROUTES = [
    ("GET", "/api/status", None),
    ("GET", "/api/kinds", None),
    ("GET", "/api/records/contact", None),
    ("GET", "/api/records/contact/003-x", None),
    ("POST", "/api/records/contact", {"values": {"last_name": "Byron"}}),
    ("POST", "/api/records/contact/003-x/edit", None),
    ("PATCH", "/api/records/contact/003-x", {"values": {"title": "Lady"}}),
    ("DELETE", "/api/records/contact/003-x", None),
    ("GET", "/api/conflicts", None),
    ("POST", "/api/conflicts/contact/003-x/title", {"choice": "keep-local"}),
    ("GET", "/api/refused", None),
    ("POST", "/api/refused/contact/003-x/retry", None),
    ("POST", "/api/refused/contact/003-x/abandon", None),
    ("GET", "/api/notices", None),
    ("DELETE", "/api/notices/1", None),
    ("POST", "/api/sync", None),
    ("PUT", "/api/mode", {"mode": "hybrid"}),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Site]:
    with site(f"sqlite:///{tmp_path}/calldesk.db") as made:
        yield made


@pytest.fixture
def laptop(server: Site, tmp_path: Path) -> Device:
    device = server.device(tmp_path, "laptop-1")
    assert device.replica.sync().completed
    return device


@pytest.fixture
def page(laptop: Device) -> Iterator[TestClient[Litestar]]:
    app = replica_page_app(laptop.replica, KEY)
    with TestClient(app, base_url="http://127.0.0.1:8766") as client:
        yield client


def tables_of(device: Device) -> dict[str, Any]:
    """Everything the device holds that a request could change."""
    replica = device.replica
    with replica.tables.transaction() as group:
        return {
            "rows": {kind: list(group.rows(kind)) for kind in group.kinds()},
            "creates": group.creates(),
            "deletes": group.deletes(),
            "conflicts": group.conflicts(),
            "notices": group.notices(),
            "mode": replica.edits.mode(),
        }


def call(
    page: TestClient[Litestar], method: str, url: str, body: object = None, **kw: Any
) -> httpx.Response:
    """A request from the page itself: with its key."""
    headers = {**AUTH, **kw.pop("headers", {})}
    return page.request(method, url, json=body, headers=headers, **kw)


@pytest.mark.parametrize(("method", "url", "body"), ROUTES)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-key", f"Basic {KEY}", "Bearer"]
)
def test_every_api_route_takes_the_pages_key_and_without_it_changes_nothing(
    page: TestClient[Litestar],
    laptop: Device,
    method: str,
    url: str,
    body: object,
    authorization: str | None,
) -> None:
    before = tables_of(laptop)
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = page.request(method, url, json=body, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "key" in answer.json()["detail"]
    assert tables_of(laptop) == before


def test_the_page_and_its_scripts_load_without_the_key_and_hold_no_data(
    page: TestClient[Litestar],
) -> None:
    home = page.get("/", follow_redirects=False)
    assert home.status_code in (301, 302, 307, 308)
    assert home.headers["location"] == "/pages/replica.html"
    html = page.get("/pages/replica.html")
    assert html.status_code == 200
    assert "calldesk replica" in html.text
    for script in ("replica.js", "fields.js", "dom.js", "style.css", "replica.css"):
        assert page.get(f"/pages/{script}").status_code == 200


@pytest.mark.parametrize(("method", "url", "body"), [r for r in ROUTES if r[0] != "GET"])
def test_a_change_from_another_origin_or_for_another_host_is_refused(
    page: TestClient[Litestar], laptop: Device, method: str, url: str, body: object
) -> None:
    before = tables_of(laptop)
    foreign = call(page, method, url, body, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    rebound = call(page, method, url, body, headers={"Host": "evil.example:8766"})
    assert rebound.status_code == 421
    assert tables_of(laptop) == before


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"values": {"last_name": "Byron"}, "tenant": "other"}, "$.tenant: not a member"),
        ({"values": {"last_name": ["Byron"]}}, "last_name: expected text"),
        ({"value": {"last_name": "Byron"}}, "$.values: required"),
        ([], "$"),
        ("Byron", "$"),
    ],
)
def test_a_body_that_is_not_exactly_one_command_is_refused_by_its_member(
    page: TestClient[Litestar], laptop: Device, body: object, complaint: str
) -> None:
    before = tables_of(laptop)
    answer = call(page, "POST", "/api/records/contact", body)
    assert answer.status_code == 400
    assert complaint in answer.text
    assert tables_of(laptop) == before


def test_malformed_and_oversized_bodies_are_refused_and_change_nothing(
    page: TestClient[Litestar], laptop: Device
) -> None:
    before = tables_of(laptop)
    twice = b'{"values": {"last_name": "Byron", "last_name": "Lovelace"}}'
    for raw in (b"{", b'{"values": NaN}', twice):
        answer = page.post(
            "/api/records/contact",
            content=raw,
            headers={**AUTH, "Content-Type": "application/json"},
        )
        assert answer.status_code == 400, raw
        assert answer.json()["type"].endswith("malformed-body")
    huge = {"values": {"last_name": "x" * 70_000}}
    assert call(page, "POST", "/api/records/contact", huge).status_code == 413
    assert tables_of(laptop) == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/records/opportunity",
        "/api/records/lead",  # a kind this device does not keep
        "/api/records/contact/003-nobody",
        "/api/records/contact/003-nobody/edit",
        "/api/refused/contact/003-nobody/retry",
    ],
)
def test_unknown_kinds_and_records_are_not_found(
    page: TestClient[Litestar], laptop: Device, url: str
) -> None:
    before = tables_of(laptop)
    method = "POST" if url.endswith(("edit", "retry")) else "GET"
    answer = call(page, method, url)
    assert answer.status_code == 404
    assert answer.json()["detail"]
    assert tables_of(laptop) == before


def test_a_record_created_offline_is_pending_then_synced_under_its_server_id(
    page: TestClient[Litestar], laptop: Device, server: Site
) -> None:
    laptop.network.down = True
    made = call(page, "POST", "/api/records/contact", {"values": {"last_name": "Byron"}})
    assert made.status_code == 201
    line = made.json()
    assert is_temporary_id(line["record_id"])
    assert line["title"] == "Byron"
    assert line["status"]["state"] == "pending-create"
    assert line["status"]["label"]  # said in words and a symbol, not by colour alone
    assert line["status"]["symbol"]
    listed = call(page, "GET", "/api/records/contact").json()
    assert [each["record_id"] for each in listed["lines"]] == [line["record_id"]]
    offline = call(page, "POST", "/api/sync").json()
    assert offline["completed"] is False
    assert offline["offline"] is True
    assert call(page, "GET", "/api/status").json()["counts"]["pending"] == 1
    laptop.network.down = False
    assert call(page, "POST", "/api/sync").json()["completed"] is True
    (record_id,) = server.records(CONTACT)
    again = call(page, "GET", f"/api/records/contact/{line['record_id']}").json()
    assert again["record_id"] == record_id  # the temporary id still finds it
    assert again["status"]["state"] == "synced"
    status = call(page, "GET", "/api/status").json()
    assert status["state"] == "up-to-date"
    assert status["last_success"] is not None


def test_an_edit_refused_by_the_devices_schema_names_its_field_and_changes_nothing(
    page: TestClient[Litestar], laptop: Device, server: Site
) -> None:
    record_id = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    before = tables_of(laptop)
    unknown = call(page, "PATCH", f"/api/records/contact/{record_id}", {"values": {"x": 1}})
    assert unknown.status_code in (400, 422)
    assert "x" in unknown.json()["detail"]
    long = {"values": {"title": "t" * 200}}
    too_long = call(page, "PATCH", f"/api/records/contact/{record_id}", long)
    assert too_long.status_code in (400, 422)
    assert "title" in too_long.text
    assert tables_of(laptop) == before


def test_an_edit_and_a_delete_reach_the_server_at_the_next_sync(
    page: TestClient[Litestar], laptop: Device, server: Site
) -> None:
    kept = server.create(CONTACT, "op-1", last_name="Byron")
    gone = server.create(CONTACT, "op-2", last_name="Shelley")
    assert call(page, "POST", "/api/sync").json()["completed"]
    edited = call(
        page, "PATCH", f"/api/records/contact/{kept}", {"values": {"title": "Lady"}}
    )
    assert edited.json()["status"]["state"] == "pending-edit"
    deleted = call(page, "DELETE", f"/api/records/contact/{gone}").json()
    assert deleted["line"]["status"]["state"] == "pending-delete"
    assert call(page, "POST", "/api/sync").json()["completed"]
    assert list(server.records(CONTACT)) == [kept]
    assert server.records(CONTACT)[kept]["title"] == "Lady"


def test_a_conflict_shows_base_mine_and_theirs_and_each_choice_is_sent(
    page: TestClient[Litestar], laptop: Device, server: Site
) -> None:
    ids = [server.create(CONTACT, f"op-{n}", last_name=f"Byron {n}") for n in range(3)]
    assert laptop.replica.sync().completed
    for record_id in ids:
        call(
            page,
            "PATCH",
            f"/api/records/contact/{record_id}",
            {"values": {"title": "Lady"}},
        )
        server.change(CONTACT, record_id, title="Countess")
    assert call(page, "POST", "/api/sync").json()["completed"]
    conflicts = call(page, "GET", "/api/conflicts").json()
    assert {(c["record_id"], c["base"], c["mine"], c["theirs"]) for c in conflicts} == {
        (record_id, None, "Lady", "Countess") for record_id in ids
    }
    line = call(page, "GET", f"/api/records/contact/{ids[0]}").json()
    assert line["status"]["state"] == "conflict"
    choices = [{"choice": "keep-local"}, {"choice": "keep-server"}]
    choices.append({"choice": "new-value", "value": "Dame"})
    for record_id, choice in zip(ids, choices, strict=True):
        answer = call(page, "POST", f"/api/conflicts/contact/{record_id}/title", choice)
        assert answer.status_code == 200
    assert call(page, "GET", "/api/conflicts").json() == []
    assert call(page, "POST", "/api/sync").json()["completed"]
    titles = [server.records(CONTACT)[record_id].get("title") for record_id in ids]
    assert titles == ["Lady", "Countess", "Dame"]


def test_a_new_value_the_schema_refuses_leaves_the_conflict_open(
    page: TestClient[Litestar], laptop: Device, server: Site
) -> None:
    record_id = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    call(page, "PATCH", f"/api/records/contact/{record_id}", {"values": {"title": "Lady"}})
    server.change(CONTACT, record_id, title="Countess")
    assert laptop.replica.sync().completed
    before = tables_of(laptop)
    wrong = {"choice": "new-value", "value": "t" * 200}
    answer = call(page, "POST", f"/api/conflicts/contact/{record_id}/title", wrong)
    assert answer.status_code in (400, 422)
    assert tables_of(laptop) == before


def refused_region(page: TestClient[Litestar], laptop: Device, server: Site) -> str:
    """A contact whose region (EU) the device changed to a value the server then
    refuses, its field shortened meanwhile, synced: its id."""
    region = FieldDefinition("region", "Region", FieldType.TEXT, max_length=40)
    server.desk.add_field(
        AddField("acme", kind=CONTACT, definition=region, at=server.clock.advance())
    )
    record_id = server.create(CONTACT, "op-1", last_name="Byron", region="EU")
    assert laptop.replica.sync().completed
    long = {"values": {"region": "Europe, the Middle East"}}
    call(page, "PATCH", f"/api/records/contact/{record_id}", long)
    shorter = FieldDefinition("region", "Region", FieldType.TEXT, max_length=4)
    server.desk.change_field(
        ChangeField("acme", kind=CONTACT, definition=shorter, at=server.clock.advance())
    )
    assert call(page, "POST", "/api/sync").json()["completed"]
    return record_id


def test_a_change_the_server_refuses_is_listed_with_its_message_then_edited_and_retried(
    page: TestClient[Litestar], laptop: Device, server: Site
) -> None:
    record_id = refused_region(page, laptop, server)
    url = f"/api/records/contact/{record_id}"
    (refused,) = call(page, "GET", "/api/refused").json()
    assert refused["record_id"] == record_id
    assert "region" in refused["status"]["message"]
    assert call(page, "GET", "/api/status").json()["counts"]["errors"] == 1
    fixed = call(page, "PATCH", url, {"values": {"region": "EMEA"}})
    assert fixed.status_code == 200
    retried = call(page, "POST", f"/api/refused/contact/{record_id}/retry")
    assert retried.json()["status"]["state"] == "pending-edit"
    assert call(page, "POST", "/api/sync").json()["completed"]
    assert server.records(CONTACT)[record_id]["region"] == "EMEA"
    assert call(page, "GET", "/api/refused").json() == []


def test_a_refused_change_abandoned_brings_back_the_servers_record(
    page: TestClient[Litestar], laptop: Device, server: Site
) -> None:
    record_id = refused_region(page, laptop, server)
    url = f"/api/records/contact/{record_id}"
    abandoned = call(page, "POST", f"/api/refused/contact/{record_id}/abandon")
    assert abandoned.status_code == 200
    line = call(page, "GET", url).json()
    assert line["values"]["region"] == "EU"
    assert line["status"]["state"] == "synced"


def test_a_notice_of_lost_changes_is_shown_until_dismissed(
    page: TestClient[Litestar], laptop: Device, server: Site
) -> None:
    record_id = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    call(page, "PATCH", f"/api/records/contact/{record_id}", {"values": {"title": "Lady"}})
    server.delete(CONTACT, record_id)
    assert call(page, "POST", "/api/sync").json()["completed"]
    (notice,) = call(page, "GET", "/api/notices").json()
    assert notice["record_id"] == record_id
    assert notice["values"]["title"] == "Lady"
    assert call(page, "DELETE", f"/api/notices/{notice['notice_id']}").status_code == 200
    assert call(page, "GET", "/api/notices").json() == []
    assert call(page, "DELETE", f"/api/notices/{notice['notice_id']}").status_code == 404


def test_the_mode_is_set_and_shown_and_an_unknown_one_refused(
    page: TestClient[Litestar], laptop: Device
) -> None:
    assert call(page, "PUT", "/api/mode", {"mode": "hybrid"}).json()["mode"] == "hybrid"
    assert call(page, "GET", "/api/status").json()["mode"] == "hybrid"
    wrong = call(page, "PUT", "/api/mode", {"mode": "sometimes"})
    assert wrong.status_code == 400
    assert "'offline'" in wrong.text
    assert laptop.replica.edits.mode().value == "hybrid"


def test_online_opening_an_edit_takes_the_servers_latest_first(
    page: TestClient[Litestar], laptop: Device, server: Site
) -> None:
    record_id = server.create(CONTACT, "op-1", last_name="Byron")
    assert laptop.replica.sync().completed
    server.change(CONTACT, record_id, title="Countess")
    call(page, "PUT", "/api/mode", {"mode": "online"})
    url = f"/api/records/contact/{record_id}"
    assert "title" not in call(page, "GET", url).json()["values"]
    opened = call(page, "POST", f"{url}/edit").json()
    assert opened["values"]["title"] == "Countess"


def test_a_list_puts_what_needs_the_person_first_and_is_searched_and_bounded(
    page: TestClient[Litestar], laptop: Device, server: Site
) -> None:
    ids = [server.create(CONTACT, f"op-{n}", last_name=f"Byron {n:03}") for n in range(120)]
    assert laptop.replica.sync().completed
    call(page, "PATCH", f"/api/records/contact/{ids[50]}", {"values": {"title": "Lady"}})
    listed = call(page, "GET", "/api/records/contact").json()
    assert listed["total"] == 120
    assert len(listed["lines"]) == 100
    assert listed["lines"][0]["record_id"] == ids[50]  # waiting to be sent: first
    titles = [line["title"] for line in listed["lines"][1:]]
    assert titles == sorted(titles)
    found = call(page, "GET", "/api/records/contact?q=byron 11").json()
    assert {line["title"] for line in found["lines"]} == {
        f"Byron {n:03}" for n in range(110, 120)
    }
    assert call(page, "GET", f"/api/records/contact?q={ids[7]}").json()["total"] == 1
    every = call(page, "GET", "/api/records/contact?limit=1000").json()
    assert len(every["lines"]) == 120
    for wrong in ("limit=0", "limit=1001", "limit=many", "q=" + "x" * 201):
        assert call(page, "GET", f"/api/records/contact?{wrong}").status_code == 400

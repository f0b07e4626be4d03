"""`calldesk replica` as an agent types it on a laptop, against a real server over
loopback: offline writes, a sync, the conflict inbox, refusals, --json, bad input."""

import json
import os
import signal
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from support.clock import Clock
from support.connector import serving
from support.desk_driver import tenant_with_agent
from support.replicas import AGENT, START
from support.serve_process import CALLDESK, free_port, killed_if_left_running
from typer.testing import CliRunner

from calldesk.adapters.cli.console import EXIT_BAD_INPUT, EXIT_NOT_FOUND, EXIT_REFUSED
from calldesk.adapters.cli.main import app
from calldesk.apps.access import IssueToken
from calldesk.apps.desk import Desk
from calldesk.apps.records import AddField, ChangeRecord, CreateRecord, RetireField
from calldesk.domain.record_fields import FieldDefinition, FieldType
from calldesk.domain.records import RecordKind

CONTACT = RecordKind.CONTACT
SECRET = "device-secret-of-the-cli-test".ljust(40, "x")


@attrs.frozen
class Laptop:
    desk: Desk
    clock: Clock
    url: str
    path: Path

    def run(self, *args: str, token: bool = True) -> tuple[int, str, str]:
        """The command with the replica's file (and the token), as the agent's shell
        would set them."""
        env = {"CALLDESK_REPLICA": str(self.path)}
        if token:
            env["CALLDESK_REPLICA_TOKEN"] = SECRET
        result = CliRunner().invoke(app, ["replica", *args], env=env)
        return result.exit_code, result.stdout, result.stderr

    def json(self, *args: str) -> Any:
        code, shown, said = self.run(*args, "--json")
        assert code == 0, said
        return json.loads(shown)

    def server_record(self, record_id: str) -> dict[str, Any]:
        return dict(self.desk.crm_record("acme", CONTACT, record_id).values)


@pytest.fixture
def laptop(tmp_path: Path) -> Iterator[Laptop]:
    with Desk.at(f"sqlite:///{tmp_path / 'server.sqlite'}") as desk:
        clock = Clock(START)
        tenant_with_agent(desk, START)
        desk.issue_token(
            IssueToken(
                "acme",
                "a-17",
                at=START,
                expires_at=START + timedelta(days=300),
                device="laptop-1",
            ),
            SECRET,
        )
        with serving(desk, clock) as url:
            laptop = Laptop(desk, clock, url, tmp_path / "replica.sqlite")
            code, _, said = laptop.run("init", "--server", url, "--kind", "contact")
            assert code == 0, said
            code, _, said = laptop.run("sync")  # the kinds' schemas, the records
            assert code == 0, said
            yield laptop


def on_server(laptop: Laptop, operation: str, **values: Any) -> str:
    command = CreateRecord(
        "acme",
        kind=CONTACT,
        values=values,
        operation_id=operation,
        by=AGENT,
        at=laptop.clock.advance(),
    )
    return laptop.desk.create_record(command).record_id


def test_an_offline_create_is_pending_until_a_sync_sends_it(laptop: Laptop) -> None:
    made = laptop.json("create", "contact", "--set", "last_name=Byron")
    assert made["status"] == "pending-create"
    assert made["record_id"].startswith("~")
    code, shown, _ = laptop.run("status")
    assert code == 0
    assert "Changes waiting to be sent" in shown or "Offline" in shown
    code, shown, said = laptop.run("sync")
    assert code == 0, said
    assert "pushed 1" in shown
    (line,) = laptop.json("records", "contact")
    assert line["status"] == "synced"
    assert not line["record_id"].startswith("~")
    assert laptop.server_record(line["record_id"])["last_name"] == "Byron"
    assert laptop.json("status")["status"]["state"] == "up-to-date"
    code, shown, _ = laptop.run("records")
    assert "✓ Synced" in shown


def test_a_conflict_shows_three_values_and_the_choice_reaches_the_server(
    laptop: Laptop,
) -> None:
    record = on_server(laptop, "op-1", last_name="Byron", title="Miss")
    assert laptop.run("sync")[0] == 0
    assert laptop.run("edit", "contact", record, "--set", "title=Countess")[0] == 0
    laptop.desk.change_record(
        ChangeRecord(
            "acme",
            kind=CONTACT,
            record_id=record,
            base_version=1,
            values={"title": "Lady"},
            by=AGENT,
            at=laptop.clock.advance(),
        )
    )
    assert laptop.run("sync")[0] == 0
    (conflict,) = laptop.json("conflicts")
    assert conflict["conflict"] == {
        "field": "title",
        "base": "Miss",
        "local": "Countess",
        "server": "Lady",
    }
    code, shown, _ = laptop.run("conflicts")
    assert all(word in shown for word in ("Miss", "Countess", "Lady"))
    assert laptop.json("record", "contact", record)["status"] == "conflict"
    code, _, said = laptop.run("resolve", "contact", record, "title")
    assert code == EXIT_BAD_INPUT, said
    assert laptop.run("resolve", "contact", record, "title", "--keep-mine")[0] == 0
    assert laptop.run("sync")[0] == 0
    assert laptop.server_record(record)["title"] == "Countess"
    assert laptop.json("conflicts") == []


def test_a_refused_change_keeps_the_servers_message_until_retried_or_abandoned(
    laptop: Laptop,
) -> None:
    region = FieldDefinition("region", "Region", FieldType.TEXT)
    at = laptop.clock.advance()
    laptop.desk.add_field(AddField("acme", kind=CONTACT, definition=region, at=at))
    record = on_server(laptop, "op-1", last_name="Byron")
    assert laptop.run("sync")[0] == 0
    assert laptop.run("edit", "contact", record, "--set", "region=EMEA")[0] == 0
    at = laptop.clock.advance()
    laptop.desk.retire_field(RetireField("acme", kind=CONTACT, name="region", at=at))
    assert laptop.run("sync")[0] == 0
    (refused,) = laptop.json("errors")
    assert refused["record_id"] == record
    assert "region" in refused["message"]
    _, shown, _ = laptop.run("errors")
    assert "region" in shown
    assert laptop.json("retry", "contact", record)["status"] == "pending-edit"
    assert laptop.run("sync")[0] == 0
    assert [line["record_id"] for line in laptop.json("errors")] == [record]
    assert laptop.run("abandon", "contact", record)[0] == 0
    assert laptop.run("sync")[0] == 0
    assert laptop.json("errors") == []
    assert laptop.json("record", "contact", record)["status"] == "synced"


def test_without_a_token_the_device_works_offline_and_a_sync_says_why_not(
    laptop: Laptop,
) -> None:
    code, _, said = laptop.run("create", "contact", "--set", "last_name=Byron", token=False)
    assert code == 0, said
    head = laptop.desk.head()
    code, _, said = laptop.run("sync", "--json", token=False)
    assert code == EXIT_BAD_INPUT
    assert "token" in json.loads(said)["error"]["message"]
    assert [line["status"] for line in laptop.json("records")] == ["pending-create"]
    assert laptop.desk.head() == head


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("records", "planet"), EXIT_BAD_INPUT, "planet"),
        (("create", "contact", "--set", "last_name"), EXIT_BAD_INPUT, "FIELD=VALUE"),
        (("create", "contact", "--set", "shoe_size=44"), EXIT_BAD_INPUT, "shoe_size"),
        (("edit", "contact", "003-nobody", "--set", "title=x"), EXIT_NOT_FOUND, "003"),
        (("record", "contact", "003-nobody"), EXIT_NOT_FOUND, "003-nobody"),
        (("retry", "contact", "003-nobody"), EXIT_NOT_FOUND, "003-nobody"),
        (("dismiss", "7"), EXIT_NOT_FOUND, "7"),
        (("mode", "sideways"), EXIT_BAD_INPUT, "sideways"),
        (("init", "--server", "http://127.0.0.1:1"), EXIT_REFUSED, "exists"),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(
    laptop: Laptop, args: tuple[str, ...], code: int, says: str
) -> None:
    before = laptop.json("records")
    exit_code, _, said = laptop.run(*args, "--json")
    assert exit_code == code, said
    assert says in json.loads(said)["error"]["message"]
    assert laptop.json("records") == before
    assert laptop.json("status")["status"]["counts"]["pending"] == 0


def test_a_file_that_is_no_replica_is_named(tmp_path: Path) -> None:
    env = {"CALLDESK_REPLICA": str(tmp_path / "nowhere.sqlite")}
    result = CliRunner().invoke(app, ["replica", "status"], env=env)
    assert result.exit_code == EXIT_NOT_FOUND
    assert "calldesk replica init" in result.stderr
    assert not (tmp_path / "nowhere.sqlite").exists()


def test_the_mode_is_kept_in_the_replica(laptop: Laptop) -> None:
    assert laptop.json("mode") == {"mode": "online"}
    assert laptop.json("mode", "hybrid") == {"mode": "hybrid"}
    assert laptop.json("status")["mode"] == "hybrid"


def test_serve_prints_a_keyed_address_follows_the_server_live_and_stops_on_ctrl_c(
    laptop: Laptop,
) -> None:
    """`calldesk replica serve`, the installed command: its page answers only with the
    key it printed, the records the server makes reach the page without a sync, and
    Ctrl-C stops it."""
    port = free_port()
    environment = {
        **os.environ,
        "CALLDESK_REPLICA": str(laptop.path),
        "CALLDESK_REPLICA_TOKEN": SECRET,
    }
    command = [CALLDESK, "replica", "serve", "--port", str(port)]
    with killed_if_left_running(command, environment) as serve:
        assert serve.stdout is not None
        address = next(
            (line for line in serve.stdout if "the replica's page: " in line), ""
        )
        assert f"http://127.0.0.1:{port}/#key=" in address, address
        key = address.strip().rpartition("#key=")[2]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as page:
            assert page.get("/api/status").status_code == 401
            keyed = {"Authorization": f"Bearer {key}"}
            assert page.get("/api/status", headers=keyed).json()["state"] == "up-to-date"
            record_id = on_server(laptop, "op-live", last_name="Shelley")
            deadline = time.monotonic() + 20
            listed: set[str] = set()
            while record_id not in listed and time.monotonic() < deadline:
                answer = page.get("/api/records/contact", headers=keyed).json()
                listed = {line["record_id"] for line in answer["lines"]}
            assert record_id in listed, "the follower did not bring the server's record"
        serve.send_signal(signal.SIGINT)
        assert serve.wait(15) == 130  # stopped by Ctrl-C, as a shell reports it
        assert "Traceback" not in serve.stdout.read()


def test_a_pull_brings_the_servers_changes_and_sends_nothing(laptop: Laptop) -> None:
    record_id = on_server(laptop, "op-pull", last_name="Shelley")
    made = laptop.json("create", "contact", "--set", "last_name=Byron")
    pulled = laptop.json("pull")
    assert pulled["completed"] is True
    assert pulled["pulled"] == 1
    assert pulled["pushed"] == 0
    shown = {line["record_id"]: line["status"] for line in laptop.json("records")}
    assert shown[record_id] == "synced"
    assert shown[made["record_id"]] == "pending-create"  # still waiting here
    code, _, said = laptop.run("pull", token=False)
    assert code == EXIT_BAD_INPUT
    assert "token" in said

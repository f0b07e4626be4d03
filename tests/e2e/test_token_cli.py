"""`calldesk token` as an administrator types it: a secret shown once, refusals as codes."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from calldesk.adapters.cli.console import EXIT_BAD_INPUT, EXIT_NOT_FOUND
from calldesk.adapters.cli.main import app
from calldesk.apps.access import IssueToken
from calldesk.apps.desk import Desk
from calldesk.domain.access import Role, Unauthorized


@pytest.fixture
def calldesk(database_url: str) -> object:
    """Runs the CLI against the test's store and returns (exit code, stdout, stderr)."""
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(
            app, ["--database-url", database_url, *args], catch_exceptions=False
        )
        return result.exit_code, result.stdout, result.stderr

    setup = (
        ("tenant", "create", "acme", "--name", "Acme"),
        ("agent", "register", "a-17", "-t", "acme", "--name", "Ada"),
        ("agent", "register", "a-2", "-t", "acme", "--name", "Bo"),
    )
    for args in setup:
        assert run(*args)[0] == 0
    return run


def head(database_url: str) -> int:
    with Desk.at(database_url) as desk:
        return desk.head()


def test_a_created_token_prints_a_secret_that_authenticates_once_shown(
    calldesk, database_url
) -> None:
    code, shown, _ = calldesk("token", "create", "a-17", "-t", "acme", "--days", "7")
    lines = shown.splitlines()
    assert (code, lines[0].startswith("token of a-17 in acme (agent), expires")) == (
        0,
        True,
    )
    secret = lines[-1]
    with Desk.at(database_url) as desk:
        who = desk.authenticate(secret, datetime.now(UTC))
        assert (who.agent, who.role) == ("a-17", Role.AGENT)
        with pytest.raises(Unauthorized):
            desk.authenticate(secret, datetime.now(UTC) + timedelta(days=7))
    assert secret not in calldesk("token", "revoke", "-t", "acme", f"--secret={secret}")[1]
    with Desk.at(database_url) as desk, pytest.raises(Unauthorized):
        desk.authenticate(secret, datetime.now(UTC))


def test_a_supervisor_token_as_json_names_whom_it_watches(calldesk, database_url) -> None:
    code, shown, _ = calldesk(
        "--json",
        "token",
        "create",
        "a-17",
        "-t",
        "acme",
        "--supervisor",
        "--supervises",
        "a-2",
    )
    issued = json.loads(shown)
    assert code == 0
    assert (issued["token"]["role"], issued["token"]["supervises"]) == (
        "supervisor",
        ["a-2"],
    )
    with Desk.at(database_url) as desk:
        assert desk.authenticate(issued["secret"], datetime.now(UTC)).may_watch("a-2")
    code, shown, _ = calldesk(
        "--json", "token", "revoke", "-t", "acme", f"--secret={issued['secret']}"
    )
    assert (code, json.loads(shown)["revoked_at"] is not None) == (0, True)


def test_a_device_token_is_issued_listed_and_revoked_alone(calldesk, database_url) -> None:
    code, shown, _ = calldesk(*CREATE, "--device", "laptop-3", "--days", "7")
    lines = shown.splitlines()
    assert code == 0
    assert lines[0].startswith(
        "token of device laptop-3 of a-17 in acme (device, records only), expires"
    )
    laptop = lines[-1]
    code, shown, _ = calldesk("--json", *CREATE, "--device", "tablet-1")
    issued = json.loads(shown)
    assert (code, issued["token"]["device"], issued["token"]["agent"]) == (
        0,
        "tablet-1",
        "a-17",
    )
    with Desk.at(database_url) as desk:
        who = desk.authenticate(laptop, datetime.now(UTC))
        assert (who.agent, who.device) == ("a-17", "laptop-3")
    assert calldesk("token", "revoke", "-t", "acme", f"--secret={laptop}")[0] == 0
    with Desk.at(database_url) as desk:
        with pytest.raises(Unauthorized):
            desk.authenticate(laptop, datetime.now(UTC))
        assert desk.authenticate(issued["secret"], datetime.now(UTC)).device == "tablet-1"
    code, shown, _ = calldesk("--json", "token", "list", "a-17", "-t", "acme")
    listed = json.loads(shown)
    assert [(t["device"], t["revoked_at"] is None) for t in listed] == [
        ("laptop-3", False),
        ("tablet-1", True),
    ]
    code, shown, _ = calldesk("token", "list", "a-17", "-t", "acme")
    assert code == 0
    assert [line.split("  ", 1)[1].split(" in ")[0] for line in shown.splitlines()] == [
        "token of device laptop-3 of a-17",
        "token of device tablet-1 of a-17",
    ]
    assert "revoked" in shown.splitlines()[0]
    assert laptop not in shown


CREATE = ["token", "create", "a-17", "-t", "acme"]


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["token", "create", "a-99", "-t", "acme"], EXIT_NOT_FOUND, "no agent a-99"),
        (["token", "create", "a-17", "-t", "globex"], EXIT_NOT_FOUND, "no agent a-17"),
        (
            [*CREATE, "--supervisor", "--supervises", "a-9"],
            EXIT_NOT_FOUND,
            "no agent a-9",
        ),
        (["token", "create", "A 17", "-t", "acme"], EXIT_BAD_INPUT, "lower-case"),
        ([*CREATE, "--supervises", "a-2"], EXIT_BAD_INPUT, "issue a supervisor token"),
        ([*CREATE, "--supervisor"], EXIT_BAD_INPUT, "needs the agents it supervises"),
        (
            [*CREATE, "--supervisor", "--all-agents", "--supervises", "a-2"],
            EXIT_BAD_INPUT,
            "not both",
        ),
        ([*CREATE, "--device", "Laptop 3"], EXIT_BAD_INPUT, "a device name 'Laptop 3'"),
        ([*CREATE, "--device", "a-17/pad"], EXIT_BAD_INPUT, "a device name"),
        (
            [*CREATE, "--device", "pad", "--supervisor", "--all-agents"],
            EXIT_BAD_INPUT,
            "device pad of a-17 syncs records and watches no one",
        ),
        (["token", "list", "a-99", "-t", "acme"], EXIT_NOT_FOUND, "no agent a-99"),
        ([*CREATE, "--days", "366"], EXIT_BAD_INPUT, "--days"),
        ([*CREATE, "--days", "0"], EXIT_BAD_INPUT, "--days"),
        (["token", "revoke", "-t", "acme", "--secret=short"], EXIT_BAD_INPUT, "32 to 200"),
        (
            ["token", "revoke", "-t", "acme", "--secret=" + "k" * 43],
            EXIT_NOT_FOUND,
            "no token",
        ),
    ],
)
def test_token_refusals_exit_non_zero_with_a_message_and_record_nothing(
    calldesk, database_url, args, exit_code, message
) -> None:
    before = head(database_url)
    code, shown, error = calldesk(*args)
    assert (code, message in error) == (exit_code, True), error
    assert not shown
    assert head(database_url) == before


def test_a_secret_that_starts_with_a_dash_is_revoked_from_stdin(
    calldesk, database_url
) -> None:
    secret = "-" + "d" * 42  # token_urlsafe draws a leading dash one time in 64
    with Desk.at(database_url) as desk:
        at = datetime.now(UTC)
        desk.issue_token(
            IssueToken("acme", "a-17", at=at, expires_at=at + timedelta(days=1)), secret
        )
    result = CliRunner().invoke(
        app,
        ["--database-url", database_url, "token", "revoke", "-t", "acme"],
        input=f"{secret}\n",
    )
    assert result.exit_code == 0, result.stderr
    assert secret not in result.stdout
    with Desk.at(database_url) as desk, pytest.raises(Unauthorized):
        desk.authenticate(secret, datetime.now(UTC))

"""`calldesk app` as a tenant's administrator types it: a key shown once, every status
change, installations, the refusals an auditor reads, and refusals as exit codes."""

import json
import secrets
from datetime import UTC, datetime
from uuid import UUID

import pytest
from typer.testing import CliRunner

from calldesk.adapters.cli.console import EXIT_BAD_INPUT, EXIT_NOT_FOUND, EXIT_REFUSED
from calldesk.adapters.cli.main import app
from calldesk.apps.client_apps import OpenAppSession
from calldesk.apps.desk import Desk
from calldesk.domain.app_refusals import AppDenied

ORIGIN = "http://127.0.0.1:8766"
REGISTER = [
    "app",
    "register",
    "order-lookup",
    "-t",
    "acme",
    "--name",
    "Order lookup",
    "--origin",
    ORIGIN,
    "--entry-url",
    f"{ORIGIN}/index.html",
    "--endpoint",
    "GET /records/contact/{id} records:read",
    "--endpoint",
    "GET /agents/{agent}/calls calls:read",
    "--rate-limit",
    "60",
]


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
    )
    for args in setup:
        assert run(*args)[0] == 0
    return run


def opening(desk: Desk, key: str, token_id: str) -> None:
    command = OpenAppSession(
        "acme",
        agent="a-17",
        app="order-lookup",
        origin=ORIGIN,
        token_id=UUID(token_id),
        at=datetime.now(UTC),
    )
    desk.open_app_session(command, key, secrets.token_urlsafe(32))


def test_an_app_is_registered_published_installed_suspended_and_its_key_rotated(
    calldesk, database_url
) -> None:
    code, shown, _ = calldesk(*REGISTER)
    assert code == 0
    assert shown.splitlines()[0].startswith("order-lookup (Order lookup): registered")
    key = shown.splitlines()[-1]
    assert calldesk("app", "publish", "order-lookup", "-t", "acme")[0] == 0
    code, shown, _ = calldesk(
        "--json",
        "app",
        "install",
        "order-lookup",
        "-t",
        "acme",
        "--agent",
        "a-17",
        "--parameter",
        "shop=EU",
        "--scope",
        "records:read",
    )
    assert (code, json.loads(shown)["installed_for"]) == (0, ["a-17"])
    code, shown, _ = calldesk("--json", "token", "create", "a-17", "-t", "acme")
    token_id = json.loads(shown)["token"]["token_id"]
    with Desk.at(database_url) as desk:
        opening(desk, key, token_id)  # the printed key opens a session
    code, shown, _ = calldesk("app", "suspend", "order-lookup", "-t", "acme")
    assert (code, "suspended" in shown) == (0, True)
    code, shown, _ = calldesk("app", "reinstate", "order-lookup", "-t", "acme")
    assert (code, "published" in shown) == (0, True)
    code, shown, _ = calldesk("--json", "app", "rotate-key", "order-lookup", "-t", "acme")
    rotated = json.loads(shown)
    assert (code, rotated["app"]["key_generation"]) == (0, 2)
    with Desk.at(database_url) as desk:
        with pytest.raises(AppDenied):
            opening(desk, key, token_id)
        opening(desk, rotated["key"], token_id)
    code, shown, _ = calldesk("app", "list", "-t", "acme")
    assert "order-lookup (Order lookup): published" in shown
    assert key not in shown
    assert rotated["key"] not in shown
    code, shown, _ = calldesk("app", "refusals", "-t", "acme")
    assert code == 0
    assert "server: bad-key  app order-lookup from http://127.0.0.1:8766 for a-17" in shown
    assert calldesk("app", "revoke", "order-lookup", "-t", "acme")[0] == 0
    code, _, said = calldesk("app", "reinstate", "order-lookup", "-t", "acme")
    assert (code, "revoked" in said) == (EXIT_REFUSED, True)


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        ([*REGISTER[:8], "*", *REGISTER[9:]], EXIT_BAD_INPUT, "no wildcard"),
        (
            [*REGISTER[:12], "GET /records/* records:read", *REGISTER[13:]],
            EXIT_BAD_INPUT,
            "nothing else is a wildcard",
        ),
        ([*REGISTER[:-1], "0"], EXIT_BAD_INPUT, "rate limit"),
        (["app", "publish", "nope", "-t", "acme"], EXIT_NOT_FOUND, "no app nope"),
        (
            ["app", "install", "nope", "-t", "acme", "--agent", "a-17"],
            EXIT_NOT_FOUND,
            "no app nope",
        ),
    ],
)
def test_a_refused_app_command_says_why_and_records_nothing(
    calldesk, database_url, args: list[str], exit_code: int, message: str
) -> None:
    with Desk.at(database_url) as desk:
        head = desk.head()
    code, _, said = calldesk(*args)
    assert (code, message in said) == (exit_code, True), said
    with Desk.at(database_url) as desk:
        assert desk.head() == head

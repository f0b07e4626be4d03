"""`calldesk record` and `calldesk schema` as an operator types them: records made,
edited, deleted and restored, each refusal naming its field, nothing half-done."""

import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from calldesk.adapters.cli.console import EXIT_BAD_INPUT, EXIT_NOT_FOUND, EXIT_REFUSED
from calldesk.adapters.cli.main import app
from calldesk.apps.desk import Desk

Calldesk = Callable[..., tuple[int, str, str]]


@pytest.fixture
def calldesk(database_url: str) -> Calldesk:
    """The CLI on the test's store, with tenant acme: (exit code, stdout, stderr)."""
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(
            app, ["--database-url", database_url, *args], catch_exceptions=False
        )
        return result.exit_code, result.stdout, result.stderr

    assert run("tenant", "create", "acme", "--name", "Acme")[0] == 0
    return run


def test_a_record_is_created_edited_and_its_history_shown(calldesk: Calldesk) -> None:
    code, shown, _ = calldesk(
        "--json",
        *("record", "create", "contact", "-t", "acme"),
        *("--set", "first_name=Ada", "--set", "last_name=Byron"),
        *("--set", "phone=(650) 555-0142", "--id", "003-ada"),
    )
    created = json.loads(shown)
    assert (code, created["values"]["phone"], created["title"]) == (
        0,
        "+16505550142",
        "Ada Byron",
    )
    code, shown, _ = calldesk(
        "record", "edit", "contact", "003-ada", "-t", "acme", "--set", "last_name=King"
    )
    assert code == 0
    assert "contact 003-ada: Ada King" in shown
    assert "version 2, last changed by operator cli" in shown
    code, shown, _ = calldesk(
        "--json", "record", "history", "contact", "003-ada", "-t", "acme"
    )
    history = json.loads(shown)
    assert [entry["what"] for entry in history] == ["created", "changed"]
    assert history[1]["changes"] == [{"field": "last_name", "old": "Byron", "new": "King"}]
    assert history[1]["by"] == {"kind": "operator", "name": "cli"}


def test_every_field_that_breaks_a_rule_is_named_and_nothing_is_recorded(
    calldesk: Calldesk, database_url: str
) -> None:
    with Desk.at(database_url) as desk:
        head = desk.head()
    code, shown, error = calldesk(
        *("record", "create", "contact", "-t", "acme"),
        *("--set", "email=ada@", "--set", "full_name=Ada", "--set", "shoe=38"),
    )
    assert (code, shown) == (EXIT_BAD_INPUT, "")
    assert "field email: is an email address" in error
    assert "field full_name: is set by the server" in error
    assert "field shoe: is no field of contact" in error
    assert "field last_name: is required" in error
    with Desk.at(database_url) as desk:
        assert desk.head() == head


def test_an_edit_from_an_old_version_names_the_conflict(calldesk: Calldesk) -> None:
    calldesk(
        *("record", "create", "contact", "-t", "acme", "--id", "003-ada"),
        *("--set", "last_name=Byron", "--set", "title=Miss"),
    )
    calldesk(
        "record", "edit", "contact", "003-ada", "-t", "acme", "--set", "title=Countess"
    )
    code, _, error = calldesk(
        *("--json", "record", "edit", "contact", "003-ada", "-t", "acme"),
        *("--base", "1", "--set", "title=Lady"),
    )
    problem = json.loads(error)["error"]
    assert (code, problem["kind"]) == (EXIT_REFUSED, "refused")
    assert "title changed since the version this change was made from" in problem["message"]


def test_a_deleted_record_is_restored_and_an_unknown_one_is_not_found(
    calldesk: Calldesk,
) -> None:
    calldesk(
        "record", "create", "account", "-t", "acme", "--id", "001-ae", "--set", "name=AE"
    )
    code, shown, _ = calldesk("record", "delete", "account", "001-ae", "-t", "acme")
    assert (code, "001-ae: AE (deleted)" in shown) == (0, True)
    code, shown, _ = calldesk("record", "restore", "account", "001-ae", "-t", "acme")
    assert (code, "(deleted)" in shown) == (0, False)
    code, _, error = calldesk("record", "show", "account", "001-nope", "-t", "acme")
    assert (code, "no account 001-nope in tenant acme" in error) == (EXIT_NOT_FOUND, True)


def test_a_tenants_own_field_is_added_used_and_retired(calldesk: Calldesk) -> None:
    code, shown, _ = calldesk(
        *("schema", "add-field", "contact", "tier", "-t", "acme"),
        *(
            "--label",
            "Tier",
            "--type",
            "picklist",
            "--choice",
            "Gold",
            "--choice",
            "Silver",
        ),
    )
    assert code == 0
    assert "one of Gold, Silver" in shown
    code, _, error = calldesk(
        *("record", "create", "contact", "-t", "acme"),
        *("--set", "last_name=Byron", "--set", "tier=Bronze"),
    )
    assert (code, "field tier: is one of Gold, Silver" in error) == (EXIT_BAD_INPUT, True)
    code, shown, _ = calldesk("schema", "retire-field", "contact", "tier", "-t", "acme")
    assert (code, "retired: tier" in shown) == (0, True)
    code, _, error = calldesk(
        *("schema", "add-field", "contact", "score", "-t", "acme"),
        *("--label", "Score", "--type", "number", "--max-length", "3"),
    )
    assert (code, "only text has a maximum length" in error) == (EXIT_BAD_INPUT, True)


def test_a_value_is_read_as_its_fields_type(calldesk: Calldesk) -> None:
    calldesk(
        *("schema", "add-field", "account", "seats", "-t", "acme"),
        *("--label", "Seats", "--type", "number"),
    )
    code, shown, _ = calldesk(
        *("--json", "record", "create", "account", "-t", "acme"),
        *("--set", "name=AE", "--set", "seats=12"),
    )
    assert (code, json.loads(shown)["values"]["seats"]) == (0, 12)
    code, _, error = calldesk(
        *("record", "create", "account", "-t", "acme"),
        *("--set", "name=AE", "--set", "seats=a dozen"),
    )
    assert (code, "field seats: is a number, not 'a dozen'" in error) == (
        EXIT_BAD_INPUT,
        True,
    )

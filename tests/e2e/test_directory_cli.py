"""`calldesk directory` as an operator types it: seed or import, then look a caller up."""

import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat
from typer.testing import CliRunner

from calldesk.adapters.cli.console import EXIT_BAD_INPUT, EXIT_NOT_FOUND
from calldesk.adapters.cli.main import app

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "directory.md"


@pytest.fixture
def directory_path(tmp_path: Path) -> Path:
    return tmp_path / "directory.db"


@pytest.fixture
def calldesk(directory_path: Path) -> object:
    """Runs the CLI on the test's directory file; returns (exit code, stdout, stderr)."""
    runner = CliRunner(
        env={
            "CALLDESK_DIRECTORY_PATH": str(directory_path),
            "CALLDESK_DATABASE_URL": f"sqlite:///{directory_path.with_name('events.db')}",
        }
    )

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


def a_contact_with_a_desk_phone(path: Path) -> tuple[str, str]:
    with closing(sqlite3.connect(path)) as connection:
        name, phone = connection.execute(
            "SELECT name, phone FROM contacts WHERE phone IS NOT NULL AND phone_ext IS NULL"
        ).fetchone()
    return name, phone


def test_a_seeded_number_written_nationally_finds_its_contact(
    calldesk, directory_path
) -> None:
    calldesk("tenant", "create", "acme", "--name", "Acme")
    calldesk("tenant", "create", "globex", "--name", "Globex")
    code, shown, progress = calldesk("directory", "seed", "--contacts", "300", "-t", "acme")
    assert (code, "Seeded acme") == (0, shown[:11]), progress
    assert "300 contacts" in shown
    assert "300/300" in progress
    name, phone = a_contact_with_a_desk_phone(directory_path)
    national = phonenumbers.format_number(
        phonenumbers.parse(phone), PhoneNumberFormat.NATIONAL
    )
    code, shown, _ = calldesk("directory", "lookup", national, "-t", "acme")
    assert (code, phone in shown, name in shown) == (0, True, True)
    code, shown, _ = calldesk("--json", "directory", "lookup", national, "-t", "acme")
    found = json.loads(shown)
    assert found["number"] == {"e164": phone, "extension": None}
    assert found["records"][0]["kind"] == "contact"
    assert {
        "kind": "contact",
        "record_id": found["records"][0]["record_id"],
        "title": name,
    } in (found["records"])
    code, shown, _ = calldesk("--json", "directory", "lookup", national, "-t", "globex")
    assert (code, json.loads(shown)["records"]) == (0, [])


def test_an_export_records_its_good_rows_and_lists_each_bad_one(calldesk, tmp_path) -> None:
    calldesk("tenant", "create", "acme", "--name", "Acme")
    export = tmp_path / "export.csv"
    export.write_text(
        "kind,id,name,phone\n"
        "contact,CON-1,Ada Lovelace,020 7946 0958\n"
        "contact,CON-2,Grace Hopper,0207\n"
    )
    code, shown, error = calldesk(
        "directory", "import", str(export), "-t", "acme", "--region", "GB"
    )
    assert code == EXIT_BAD_INPUT, error
    assert "1 contacts" in shown
    assert re.search(r"│ 3 +│ phone +│ .*0207", shown), shown
    assert "1 row(s) refused, the others recorded" in error
    code, shown, _ = calldesk("directory", "lookup", "+44 20 7946 0958", "-t", "acme")
    assert (code, "Ada Lovelace" in shown, "Grace" in shown) == (0, True, False)

    fixed = tmp_path / "fixed.csv"
    fixed.write_text(export.read_text().replace(",0207", ",020 7946 0959"))
    code, shown, _ = calldesk(
        "--json", "directory", "import", str(fixed), "-t", "acme", "--region", "GB"
    )
    summary = json.loads(shown)
    assert (code, summary["created"]["contacts"], summary["already_there"]) == (0, 1, 1)
    assert summary["refused"] == []


def test_an_edited_record_pops_by_its_new_number(calldesk, tmp_path) -> None:
    calldesk("tenant", "create", "acme", "--name", "Acme")
    export = tmp_path / "export.csv"
    export.write_text("kind,id,name,phone\ncontact,CON-1,Ada Lovelace,+1 650 555 0101\n")
    assert calldesk("directory", "import", str(export), "-t", "acme")[0] == 0
    code, _, error = calldesk(
        "record", "edit", "contact", "CON-1", "--set", "phone=+1 650 555 0177", "-t", "acme"
    )
    assert code == 0, error

    _, old, _ = calldesk("--json", "directory", "lookup", "+16505550101", "-t", "acme")
    _, new, _ = calldesk("--json", "directory", "lookup", "+16505550177", "-t", "acme")

    assert json.loads(old)["records"] == []
    assert [r["record_id"] for r in json.loads(new)["records"]] == ["CON-1"]


def test_a_rebuilt_directory_answers_from_the_log_alone(
    calldesk, directory_path, tmp_path
) -> None:
    calldesk("tenant", "create", "acme", "--name", "Acme")
    assert calldesk("directory", "seed", "--contacts", "50", "-t", "acme")[0] == 0
    name, phone = a_contact_with_a_desk_phone(directory_path)
    directory_path.unlink()

    code, shown, _ = calldesk("--json", "directory", "rebuild", "-t", "acme")

    assert (code, json.loads(shown)["projected"] > 50) == (0, True)
    _, found, _ = calldesk("--json", "directory", "lookup", phone, "-t", "acme")
    assert name in [r["title"] for r in json.loads(found)["records"]]


def test_the_guides_example_export_gives_the_answer_the_guide_describes(
    calldesk, tmp_path
) -> None:
    calldesk("tenant", "create", "acme", "--name", "Acme")
    example = re.search(r"```csv\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    assert example, "docs/directory.md has no csv block"
    export = tmp_path / "export.csv"
    export.write_text(example.group(1))
    assert calldesk("directory", "import", str(export), "-t", "acme")[0] == 0
    _, shown, _ = calldesk("--json", "directory", "lookup", "(650) 555-0100", "-t", "acme")
    records = json.loads(shown)["records"]
    assert [(record["kind"], record["record_id"]) for record in records] == [
        ("contact", "CON-1"),
        ("account", "ACC-1"),
        ("case", "CASE-1"),
    ]


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["lookup", "anonymous", "-t", "acme"], EXIT_BAD_INPUT, "is not a phone number"),
        (["lookup", "555-1234", "-t", "acme"], EXIT_BAD_INPUT, "add its area code"),
        (["lookup", "+16505551234", "-t", "acme"], EXIT_NOT_FOUND, "no directory at"),
        (["lookup", "+16505551234", "-t", "globex"], EXIT_NOT_FOUND, "no tenant globex"),
        (["seed", "--contacts", "5", "-t", "Acme Inc"], EXIT_BAD_INPUT, "a tenant"),
        (
            ["seed", "--contacts", "5", "-t", "acme", "--region", "EU"],
            EXIT_BAD_INPUT,
            "ISO",
        ),
    ],
)
def test_bad_input_exits_non_zero_with_one_error_line(
    calldesk, args, exit_code, message
) -> None:
    calldesk("tenant", "create", "acme", "--name", "Acme")
    code, _, error = calldesk("directory", *args)
    assert (code, error.startswith("error:"), message in error) == (
        exit_code,
        True,
        True,
    ), error


def test_the_directory_option_overrides_the_environment(calldesk, tmp_path) -> None:
    calldesk("tenant", "create", "acme", "--name", "Acme")
    elsewhere = tmp_path / "elsewhere.db"
    seeded = calldesk(
        "directory", "seed", "--contacts", "3", "-t", "acme", "--directory", str(elsewhere)
    )
    assert seeded[0] == 0
    assert elsewhere.exists()
    code, shown, _ = calldesk(
        "--json",
        "directory",
        "lookup",
        "+1 650 555 0100",
        "-t",
        "acme",
        "--directory",
        str(elsewhere),
    )
    assert (code, json.loads(shown)["records"]) == (0, [])


@pytest.mark.parametrize(
    "command",
    [
        ["directory", "seed"],
        ["directory", "import"],
        ["directory", "lookup"],
        ["demo"],
        ["serve"],
    ],
    ids=" ".join,
)
def test_every_command_names_the_directory_file_the_same_way(command) -> None:
    shown = CliRunner().invoke(app, [*command, "--help"], terminal_width=200).stdout
    assert "--directory" in shown
    assert "CALLDESK_DIRECTORY_PATH" in shown or command == ["serve"]
    assert "--path" not in shown


def test_a_national_number_is_read_in_the_tenants_region(calldesk, tmp_path) -> None:
    """As the desk reads a caller's number: 020 is London for a British tenant."""
    calldesk("tenant", "create", "acme", "--name", "Acme")
    export = tmp_path / "uk.csv"
    export.write_text("kind,id,name,phone\ncontact,CON-1,Ada Lovelace,+44 20 7946 0958\n")
    assert calldesk("directory", "import", str(export), "-t", "acme")[0] == 0
    code, _, error = calldesk("directory", "lookup", "020 7946 0958", "-t", "acme")
    assert code == EXIT_BAD_INPUT, error  # in the US, 020 is no area code
    calldesk("tenant", "region", "acme", "GB")

    code, shown, _ = calldesk(
        "--json", "directory", "lookup", "020 7946 0958", "-t", "acme"
    )

    found = json.loads(shown)
    assert (code, found["number"]["e164"]) == (0, "+442079460958")
    assert [record["title"] for record in found["records"]] == ["Ada Lovelace"]

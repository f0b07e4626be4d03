"""The `calldesk` command as a person types it: output, exit codes, nothing half-done."""

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from calldesk.adapters.cli.console import EXIT_BAD_INPUT, EXIT_NOT_FOUND, EXIT_REFUSED
from calldesk.adapters.cli.main import app
from calldesk.apps.desk import Desk


@pytest.fixture
def calldesk(database_url: str) -> object:
    """Runs the CLI against the test's store and returns (exit code, stdout, stderr)."""
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(
            app, ["--database-url", database_url, *args], catch_exceptions=False
        )
        return result.exit_code, result.stdout, result.stderr

    return run


def head(database_url: str) -> int:
    with Desk.at(database_url) as desk:
        return desk.head()


def test_a_presence_round_trip_from_the_command_line(calldesk, database_url) -> None:
    assert calldesk("tenant", "create", "acme", "--name", "Acme")[0] == 0
    assert calldesk("agent", "register", "a-17", "-t", "acme", "--name", "Ada")[0] == 0
    assert "is not ready since" in calldesk("agent", "login", "a-17", "-t", "acme")[1]
    assert "is available" in calldesk("agent", "ready", "a-17", "-t", "acme")[1]
    code, shown, _ = calldesk("agent", "not-ready", "a-17", "lunch", "-t", "acme")
    assert (code, "is not ready (Lunch)" in shown) == (0, True)
    code, shown, _ = calldesk("--json", "agent", "show", "a-17", "-t", "acme")
    view = json.loads(shown)
    assert (view["state"], view["not_ready_reason"]["code"]) == ("not-ready", "lunch")
    assert "is logged out" in calldesk("agent", "logout", "a-17", "-t", "acme")[1]
    code, shown, _ = calldesk("tenant", "reasons", "acme", "coaching=Coaching", "nap")
    assert (code, shown.splitlines()[1:3]) == (
        0,
        ["  not ready: coaching = Coaching", "  not ready: nap = nap"],
    )
    code, shown, _ = calldesk("--json", "agent", "history", "a-17", "-t", "acme")
    assert [entry["event"] for entry in json.loads(shown)] == [
        "Registered",
        "LoggedIn",
        "StatusPicked",
        "StatusPicked",
        "LoggedOut",
    ]


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["agent", "ready", "a-17", "-t", "acme"], EXIT_REFUSED, "log in first"),
        (["agent", "login", "a-99", "-t", "acme"], EXIT_NOT_FOUND, "no agent a-99"),
        (["agent", "login", "a-17", "-t", "globex"], EXIT_NOT_FOUND, "no agent a-17"),
        (["agent", "login", "A 17", "-t", "acme"], EXIT_BAD_INPUT, "lower-case"),
        (["agent", "login", "a" * 70, "-t", "acme"], EXIT_BAD_INPUT, "at most 63"),
        (
            ["agent", "not-ready", "a-17", "nap", "-t", "acme"],
            EXIT_NOT_FOUND,
            "choose one of",
        ),
        (
            ["agent", "register", "a-18", "-t", "acme", "--name", ""],
            EXIT_BAD_INPUT,
            "must not be empty",
        ),
        (
            ["tenant", "create", "acme", "--name", "Acme"],
            EXIT_REFUSED,
            "already exists",
        ),
        (
            ["tenant", "create", "initech", "--name", "I", "--reason", "Bad Code"],
            EXIT_BAD_INPUT,
            "reason code",
        ),
    ],
)
def test_refusals_exit_non_zero_with_a_message_and_record_nothing(
    calldesk, database_url, args, exit_code, message
) -> None:
    calldesk("tenant", "create", "acme", "--name", "Acme")
    calldesk("tenant", "create", "globex", "--name", "Globex")
    calldesk("agent", "register", "a-17", "-t", "acme", "--name", "Ada")
    before = head(database_url)
    code, _, error = calldesk(*args)
    assert (code, message in error) == (exit_code, True), error
    assert head(database_url) == before


@pytest.mark.parametrize(
    "url", ["sqlite://host/file", "mysql://db/calldesk", "postgresql:///calldesk"]
)
def test_a_url_that_names_no_store_is_bad_input(url: str) -> None:
    result = CliRunner().invoke(app, ["--database-url", url, "tenant", "show", "acme"])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "sqlite:///" in result.stderr or "postgresql://" in result.stderr


def test_the_installed_command_runs_the_demo_on_a_sqlite_file(tmp_path: Path) -> None:
    """The README's main command, as a new process: real work, a file, an audit trail."""
    command = [str(Path(sys.executable).with_name("calldesk"))]
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "120"}
    first = subprocess.run(
        [*command, "demo", "--once"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    again = subprocess.run(
        [*command, "demo", "--once"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert (first.returncode, again.returncode) == (0, 0), first.stderr + again.stderr
    for shown in (first.stdout, again.stdout):
        assert "screen pop opens Ada Byron (contact)" in shown
        assert "choose among Charles Babbage, Mary Somerville" in shown
        assert "caller gave up  abandoned" in shown
        assert "Billing question" in shown
        assert "is logged out" in shown
    heads = [int(r.stdout.rsplit("Log head ", 1)[1].split(":")[0]) for r in (first, again)]
    assert heads[1] > heads[0]  # the second run's calls are new calls
    assert (tmp_path / "calldesk.db").exists()
    assert (tmp_path / "calldesk-directory.db").exists()
    version = subprocess.run(
        [*command, "--version"], env=env, capture_output=True, text=True
    )
    assert version.stdout.strip() == "calldesk 0.1.0"


def test_a_tenants_wrap_up_policy_and_region_are_set_and_bad_ones_refused(
    calldesk, database_url
) -> None:
    calldesk("tenant", "create", "acme", "--name", "Acme")
    code, shown, _ = calldesk(
        "tenant", "wrap-up", "acme", "--limit", "45", "--no-auto-ready"
    )
    assert (code, "wrap-up: ends after 45 s, then not ready" in shown) == (0, True)
    code, shown, _ = calldesk("--json", "tenant", "region", "acme", "gb")
    assert (code, json.loads(shown)["default_region"]) == (0, "GB")
    before = head(database_url)
    assert calldesk("tenant", "region", "acme", "XX")[0] == EXIT_BAD_INPUT
    assert calldesk("tenant", "wrap-up", "acme", "--limit", "-1")[0] == EXIT_BAD_INPUT
    assert calldesk("tenant", "wrap-up", "globex")[0] == EXIT_NOT_FOUND
    assert calldesk("tenant", "region", "A B", "GB")[0] == EXIT_BAD_INPUT
    assert calldesk("tenant", "wrap-up", "A B")[0] == EXIT_BAD_INPUT
    assert head(database_url) == before


def every_command(group: TyperGroup, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The name of every command under the root, as typed: ("agent", "show"), ..."""
    names = []
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            names.extend(every_command(command, (*path, name)))
        else:
            names.append((*path, name))
    return names


@pytest.mark.parametrize("command", every_command(typer.main.get_group(app)), ids=" ".join)
def test_every_command_takes_json_after_its_name(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "--json" in result.stdout


def test_json_after_the_command_name_prints_json_as_before_it(calldesk) -> None:
    calldesk("tenant", "create", "acme", "--name", "Acme")
    calldesk("agent", "register", "a-17", "-t", "acme", "--name", "Ada")
    before = calldesk("--json", "agent", "show", "a-17", "-t", "acme")
    after = calldesk("agent", "show", "a-17", "--json", "-t", "acme")
    last = calldesk("agent", "history", "a-17", "-t", "acme", "--json")
    assert before == after
    assert json.loads(after[1])["agent"] == "a-17"
    assert [entry["event"] for entry in json.loads(last[1])] == ["Registered"]


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize(
    ("args", "code", "kind", "message"),
    [
        (["agent", "ready", "a-17", "-t", "acme"], EXIT_REFUSED, "refused", "log in"),
        (["agent", "show", "a-99", "-t", "acme"], EXIT_NOT_FOUND, "not-found", "a-99"),
        (["tenant", "region", "acme", "XX"], EXIT_BAD_INPUT, "bad-input", "XX"),
        (["agent", "show", "-t", "acme"], EXIT_BAD_INPUT, "bad-input", "'handle'"),
        (["agent", "shout", "a-17"], EXIT_BAD_INPUT, "bad-input", "No such command"),
    ],
)
def test_an_error_under_json_is_one_json_object_on_stderr_with_the_same_code(
    calldesk, database_url, where, args, code, kind, message
) -> None:
    calldesk("tenant", "create", "acme", "--name", "Acme")
    calldesk("agent", "register", "a-17", "-t", "acme", "--name", "Ada")
    before = head(database_url)
    typed = ["--json", *args] if where == "before" else [*args, "--json"]

    exit_code, shown, error = calldesk(*typed)

    assert (exit_code, shown) == (code, "")
    assert len(error.splitlines()) == 1, error
    said = json.loads(error)["error"]
    assert (said["code"], said["kind"]) == (code, kind)
    assert message in said["message"]
    assert head(database_url) == before


def test_agent_history_shows_when_each_event_was_said_and_when_it_was_recorded(
    tmp_path: Path,
) -> None:
    """Two demo shifts, each on a simulator whose clock runs ahead: the times the
    commands said go backwards from one run to the next, the store's never do."""
    url = f"sqlite:///{tmp_path / 'calldesk.db'}"
    directory = ["--directory", str(tmp_path / "directory.db")]
    runner = CliRunner()
    for _ in range(2):
        shift = runner.invoke(app, ["--database-url", url, "demo", "--once", *directory])
        assert shift.exit_code == 0, shift.output

    listed = runner.invoke(
        app, ["--database-url", url, "agent", "history", "a-17", "-t", "demo", "--json"]
    )
    shown = runner.invoke(
        app,
        ["--database-url", url, "agent", "history", "a-17", "-t", "demo"],
        terminal_width=250,
    )

    history = json.loads(listed.stdout)
    said = [datetime.fromisoformat(entry["said_at"]) for entry in history]
    recorded = [datetime.fromisoformat(entry["recorded_at"]) for entry in history]
    assert said != sorted(said)
    assert recorded == sorted(recorded)
    assert "said at" in shown.stdout
    assert "recorded at" in shown.stdout


def test_events_recorded_before_the_store_kept_its_time_say_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'calldesk.db'}"
    runner = CliRunner()
    for args in (
        ["tenant", "create", "acme", "--name", "Acme"],
        ["agent", "register", "a-17", "-t", "acme", "--name", "Ada"],
    ):
        assert runner.invoke(app, ["--database-url", url, *args]).exit_code == 0
    with closing(sqlite3.connect(tmp_path / "calldesk.db")) as store, store:
        store.execute("DELETE FROM calldesk_recorded")  # as a store from before it

    listed = runner.invoke(
        app, ["--database-url", url, "--json", "agent", "history", "a-17", "-t", "acme"]
    )
    shown = runner.invoke(
        app, ["--database-url", url, "agent", "history", "a-17", "-t", "acme"]
    )

    assert [entry["recorded_at"] for entry in json.loads(listed.stdout)] == [None]
    assert "not kept" in shown.stdout

"""`calldesk` on a store it cannot open: one line saying what was tried (without the
password) and what to check, within seconds, under an exit code of its own."""

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from typer.testing import CliRunner

from calldesk.adapters.cli.console import EXIT_BAD_INPUT, EXIT_STORE_UNAVAILABLE
from calldesk.adapters.cli.main import app

CALLDESK = str(Path(sys.executable).with_name("calldesk"))


def calldesk(database_url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, ["--database-url", database_url, *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def closed_port() -> int:
    """A port on loopback where nothing listens: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections (the kernel completes them) and never answers."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(8)
        yield listening.getsockname()[1]


def test_a_refused_postgresql_says_where_and_what_to_check_in_one_line(
    closed_port: int,
) -> None:
    url = f"postgresql://desk:s3cret@127.0.0.1:{closed_port}/calldesk"

    code, shown, error = calldesk(url, "tenant", "show", "acme")

    assert (code, shown) == (EXIT_STORE_UNAVAILABLE, "")
    assert len(error.splitlines()) == 1, error
    assert error.startswith("error: cannot open the event store at ")
    assert f"postgresql://desk@127.0.0.1:{closed_port}/calldesk" in error
    assert "s3cret" not in error
    assert "Connection refused" in error
    assert "--database-url" in error


def test_a_postgresql_that_never_answers_gives_up_within_seconds(silent_port: int) -> None:
    """The installed command, as a new process: nothing keeps it waiting after the line."""
    url = f"postgresql://desk:s3cret@127.0.0.1:{silent_port}/calldesk"

    result = subprocess.run(
        [CALLDESK, "--database-url", url, "agent", "show", "a-17", "-t", "acme"],
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=25,
    )

    assert result.returncode == EXIT_STORE_UNAVAILABLE
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "nothing answered within 5 s" in result.stderr
    assert f"127.0.0.1:{silent_port}" in result.stderr


@pytest.mark.postgres
def test_a_database_the_server_does_not_have_is_named_by_the_server(
    postgres_server: str,
) -> None:
    url = urlunsplit(urlsplit(postgres_server)._replace(path="/no_such_desk"))

    code, shown, error = calldesk(url, "agent", "show", "a-17", "-t", "acme")

    assert (code, shown) == (EXIT_STORE_UNAVAILABLE, "")
    assert len(error.splitlines()) == 1, error
    assert 'database "no_such_desk" does not exist' in error


def test_a_bad_connect_timeout_is_bad_input(closed_port: int) -> None:
    url = f"postgresql://desk@127.0.0.1:{closed_port}/calldesk?connect_timeout=soon"

    code, _, error = calldesk(url, "tenant", "show", "acme")

    assert code == EXIT_BAD_INPUT
    assert "connect_timeout is a whole number of seconds" in error


@pytest.mark.parametrize(
    ("place", "says"),
    [
        ("missing/calldesk.db", "does not exist"),
        ("a-file/calldesk.db", "is not a folder"),
        ("a-file", "is not a SQLite database"),
        (".", "is a folder"),
    ],
)
def test_a_sqlite_file_that_cannot_be_opened_is_named_with_what_to_check(
    tmp_path: Path, place: str, says: str
) -> None:
    (tmp_path / "a-file").write_text("not a database\n")
    url = f"sqlite:///{tmp_path / place}"

    code, shown, error = calldesk(url, "tenant", "create", "acme", "--name", "Acme")

    assert (code, shown) == (EXIT_STORE_UNAVAILABLE, "")
    assert len(error.splitlines()) == 1, error
    assert f"at sqlite:///{tmp_path / place}" in error
    assert says in error
    assert not (tmp_path / "missing").exists()


def test_an_unavailable_store_under_json_is_a_json_error(closed_port: int) -> None:
    url = f"postgresql://desk:s3cret@127.0.0.1:{closed_port}/calldesk"

    code, shown, error = calldesk(url, "agent", "show", "a-17", "-t", "acme", "--json")

    assert (code, shown) == (EXIT_STORE_UNAVAILABLE, "")
    said = json.loads(error)["error"]
    assert (said["code"], said["kind"]) == (EXIT_STORE_UNAVAILABLE, "store-unavailable")
    assert "Connection refused" in said["message"]
    assert "s3cret" not in error

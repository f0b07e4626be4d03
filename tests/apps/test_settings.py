"""CALLDESK_DATABASE_URL, the one setting that picks the store."""

import pytest

from calldesk.apps.settings import (
    DEFAULT_DATABASE_URL,
    POSTGRES_RECORDER,
    SQLITE_RECORDER,
    persistence_settings,
    shown_url,
)
from calldesk.domain.errors import InvalidValue


def test_without_the_setting_the_store_is_calldesk_db_in_the_working_directory() -> None:
    assert persistence_settings(DEFAULT_DATABASE_URL) == {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": "calldesk.db",
        "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER,
    }


def test_an_absolute_sqlite_path_takes_four_slashes() -> None:
    settings = persistence_settings("sqlite:////var/lib/calldesk/events.db")
    assert settings["SQLITE_DBNAME"] == "/var/lib/calldesk/events.db"


def test_a_postgresql_url_gives_every_connection_setting_and_keeps_the_lock() -> None:
    settings = persistence_settings(
        "postgresql://desk:s%40cret@db.internal:6543/calldesk?schema=tenant_a"
    )
    assert settings == {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": POSTGRES_RECORDER,
        "POSTGRES_HOST": "db.internal",
        "POSTGRES_PORT": "6543",
        "POSTGRES_DBNAME": "calldesk",
        "POSTGRES_USER": "desk",
        "POSTGRES_PASSWORD": "s@cret",
        "POSTGRES_SCHEMA": "tenant_a",
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    }


def test_a_postgresql_url_may_wait_longer_for_its_server() -> None:
    settings = persistence_settings("postgresql://desk@db/calldesk?connect_timeout=20")
    assert settings["POSTGRES_CONNECT_TIMEOUT"] == "20"


@pytest.mark.parametrize("timeout", ["0", "-1", "2.5", "soon"])
def test_a_connect_timeout_that_is_not_whole_seconds_is_refused(timeout: str) -> None:
    with pytest.raises(InvalidValue, match="whole number of seconds"):
        persistence_settings(f"postgresql://desk@db/calldesk?connect_timeout={timeout}")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://desk:s3cret@db:5432/calldesk", "postgresql://desk@db:5432/calldesk"),
        ("postgresql://desk:p@ss@db/calldesk", "postgresql://desk@db/calldesk"),
        ("postgresql://desk@db/calldesk", "postgresql://desk@db/calldesk"),
        ("sqlite:///calldesk.db", "sqlite:///calldesk.db"),
    ],
)
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert shown_url(url) == shown


@pytest.mark.parametrize(
    "url", ["", "calldesk.db", "sqlite://", "sqlite:///", "postgresql://host/", "x://y"]
)
def test_a_url_naming_no_store_is_refused_with_the_forms_that_work(url: str) -> None:
    with pytest.raises(InvalidValue, match=r"sqlite:///|postgresql://"):
        persistence_settings(url)

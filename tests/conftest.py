"""Fixtures every layer shares: the two event stores, a controllable clock, peers.

A test that needs a real peer (PostgreSQL now; chromium and baresip later) skips where
the peer is missing on a laptop, and fails instead when CALLDESK_REQUIRE_PEERS=1, as CI
sets it: CI never passes by skipping.
"""

import os
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import pytest
from hypothesis import settings
from support.clock import Clock

from calldesk.apps.desk import Desk

settings.register_profile("default", deadline=None, max_examples=40)
settings.register_profile(
    "thorough", deadline=None, max_examples=1000, stateful_step_count=100
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(PROFILE)

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The thorough profile's long runs are meant: no per-test time limit for them."""
    if PROFILE == "thorough":
        for item in items:
            item.add_marker(pytest.mark.timeout(0))


def missing_peer(reason: str) -> None:
    """Skip on a laptop; fail in CI, where every peer must be there."""
    if os.environ.get("CALLDESK_REQUIRE_PEERS") == "1":
        pytest.fail(f"CALLDESK_REQUIRE_PEERS=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server's URL, from CALLDESK_TEST_DATABASE_URL (.ci/postgres-up)."""
    url = os.environ.get("CALLDESK_TEST_DATABASE_URL", "")
    if not url:
        missing_peer("no PostgreSQL: CALLDESK_TEST_DATABASE_URL is not set")
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        missing_peer(f"PostgreSQL at {url} does not answer: {error}")
    return url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A schema of its own for one test, dropped afterwards."""
    import psycopg

    schema = f"test_{uuid4().hex}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    parts = urlsplit(postgres_server)
    yield urlunsplit(parts._replace(query=f"schema={schema}"))
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=STORES)
def database_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """Each store calldesk supports: a SQLite file, and a real PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/calldesk.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    with Desk.at(database_url) as application:
        yield application

"""Fresh, empty stores for a benchmark: SQLite files, and PostgreSQL schemas when a
server is named; each benchmark measures every store it is given, then they are gone."""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4


@contextmanager
def fresh_stores(
    postgres: str | None, count: int = 1
) -> Iterator[list[tuple[str, list[str]]]]:
    """Per store, its name and `count` fresh database URLs; dropped afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        files = [f"sqlite:///{Path(folder) / f'store-{n}.db'}" for n in range(count)]
        measured = [("SQLite file (WAL)", files)]
        if not postgres:
            yield measured
            return
        import psycopg

        schemas = [f"bench_{uuid4().hex}" for _ in range(count)]
        with psycopg.connect(postgres, autocommit=True) as connection:
            for schema in schemas:
                connection.execute(f'CREATE SCHEMA "{schema}"')
        parts = urlsplit(postgres)
        urls = [urlunsplit(parts._replace(query=f"schema={s}")) for s in schemas]
        try:
            yield [*measured, ("PostgreSQL", urls)]
        finally:
            with psycopg.connect(postgres, autocommit=True) as connection:
                for schema in schemas:
                    connection.execute(f'DROP SCHEMA "{schema}" CASCADE')

"""Where the event store lives: one setting, CALLDESK_DATABASE_URL (ADR/0002).

``sqlite:///calldesk.db`` (the default, a file in the working directory, created on first
use) or ``postgresql://user:password@host:port/database?schema=name&connect_timeout=5``.
The URL is turned into eventsourcing's own persistence settings here, so nothing else
needs to know them.
"""

from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from calldesk.domain.errors import InvalidValue

DATABASE_URL_VARIABLE = "CALLDESK_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///calldesk.db"

#: The recorders that keep the log's indexes beside the events (ADR/0014). Named by
#: topic, as eventsourcing names its persistence modules: apps never import adapters.
SQLITE_RECORDER = "calldesk.adapters.event_store.sqlite:SQLiteDeskRecorder"
POSTGRES_RECORDER = "calldesk.adapters.event_store.postgres:PostgresDeskRecorder"

#: Seconds to wait for PostgreSQL to answer, when connecting and for a free connection:
#: a server that is down or unreachable is said in seconds, not after the library's 30.
CONNECT_TIMEOUT_SECONDS = 5


def persistence_settings(database_url: str) -> dict[str, str]:
    """The eventsourcing environment that stores the application at this URL."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        settings = _sqlite_settings(parts.netloc, unquote(parts.path))
    elif parts.scheme in ("postgresql", "postgres"):
        settings = _postgres_settings(database_url)
    else:
        raise InvalidValue(
            f"{DATABASE_URL_VARIABLE} must start with sqlite:/// or postgresql://, "
            f"not {database_url!r}"
        )
    return settings


def _sqlite_settings(netloc: str, path: str) -> dict[str, str]:
    # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy spells them.
    dbname = path[1:] if path.startswith("/") else path
    if netloc or not dbname:
        raise InvalidValue(
            "a SQLite URL names a file: sqlite:///calldesk.db (relative) "
            "or sqlite:////var/lib/calldesk.db (absolute)"
        )
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": dbname,
        "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER,
    }


def _postgres_settings(database_url: str) -> dict[str, str]:
    parts = urlsplit(database_url)
    dbname = unquote(parts.path.lstrip("/"))
    if not (parts.hostname and dbname):
        raise InvalidValue(
            "a PostgreSQL URL names a host and a database: "
            "postgresql://user:password@127.0.0.1:5432/calldesk"
        )
    query = parse_qs(parts.query)
    timeout = query.get("connect_timeout", [str(CONNECT_TIMEOUT_SECONDS)])[0]
    if not timeout.isdigit() or int(timeout) < 1:
        raise InvalidValue(
            f"connect_timeout is a whole number of seconds, at least 1, not {timeout!r}"
        )
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": POSTGRES_RECORDER,
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_USER": unquote(parts.username or ""),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": query.get("schema", ["public"])[0],
        "POSTGRES_CONNECT_TIMEOUT": timeout,
        # Off on purpose: without the table lock a tailing reader can miss events.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    }


def shown_url(database_url: str) -> str:
    """The URL as it may be printed or logged: everything but its password."""
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    credentials, _, host = parts.netloc.rpartition("@")
    user = credentials.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))

"""`calldesk replica`: a device replica from the command line (ADR/0024, docs/replica.md).

The replica is a SQLite file (`--replica`, or CALLDESK_REPLICA); `init` records in it
the server it syncs with and the kinds it keeps. The device token (`--token`, or
CALLDESK_REPLICA_TOKEN) is never written to disk: without one, everything but `sync`
works as offline, and an online edit waits like an offline one.
"""

import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table

from calldesk.adapters.cli.announced import serve_announced
from calldesk.adapters.cli.console import (
    EXIT_BAD_INPUT,
    EXIT_NOT_FOUND,
    EXIT_REFUSED,
    fail,
    now,
    out,
    show,
    wants_json,
)
from calldesk.adapters.http.config import LOOPBACK
from calldesk.adapters.replica.feed_events import FeedStream
from calldesk.adapters.replica.follower import ReplicaFollower
from calldesk.adapters.replica.opening import open_replica
from calldesk.adapters.replica.page import replica_page_app
from calldesk.adapters.replica.sqlite_tables import SQLiteReplicaTables
from calldesk.apps.replica import Replica
from calldesk.apps.replica_edits import Mode
from calldesk.apps.replica_state import RecordLine
from calldesk.apps.replica_sync import RunReport
from calldesk.domain.errors import DomainError, InvalidValue, NotFound
from calldesk.domain.record_fields import FieldValue, value_from_text
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_merge import Choice, Resolution
from calldesk.domain.replica_runs import RunProgress
from calldesk.domain.replica_status import RecordState
from calldesk.ports.replica import ServerUnreachable

#: The replica's properties `init` writes: where its server is, which kinds it keeps.
SERVER_URL = "server_url"
KINDS = "kinds"

replica_app = typer.Typer(
    help="A device replica: records read and written offline, synced both ways."
)

ReplicaPath = Annotated[
    Path,
    typer.Option("--replica", envvar="CALLDESK_REPLICA", help="The replica's SQLite file."),
]
Token = Annotated[
    str | None,
    typer.Option(
        envvar="CALLDESK_REPLICA_TOKEN",
        help="The device's token (calldesk token create AGENT --device NAME); never "
        "stored.",
        show_default=False,
    ),
]
Kind = Annotated[RecordKind, typer.Argument(help="contact, account, lead or case.")]
RecordId = Annotated[str, typer.Argument(help="The record's id, server or temporary.")]
Sets = Annotated[
    list[str] | None,
    typer.Option("--set", help="A field's value as FIELD=VALUE; repeat for each."),
]
DEFAULT_PATH = Path("replica.sqlite")


def server_of(path: Path) -> tuple[str, tuple[RecordKind, ...]]:
    """The server and the kinds `init` recorded in the replica at this path."""
    if not path.exists():
        fail(EXIT_NOT_FOUND, f"no replica at {path}: make one with `calldesk replica init`")
    tables = SQLiteReplicaTables(path)
    with tables.transaction() as group:
        server_url, kinds = group.property(SERVER_URL), group.property(KINDS)
    tables.close()
    if server_url is None:
        fail(EXIT_NOT_FOUND, f"{path} is no replica: make one with `calldesk replica init`")
    return server_url, tuple(RecordKind(kind) for kind in kinds)


def opened_replica(path: Path, token: str | None) -> Replica:
    """The replica `init` made at this path; without a token the server counts as away
    (a sync says so), so nothing but the network is needed to read and write."""
    server_url, kinds = server_of(path)
    return open_replica(path, server_url, _token_of(token), kinds)


def _token_of(token: str | None) -> Callable[[], str]:
    def given() -> str:
        if token is None:
            raise ServerUnreachable("no device token given (--token)")
        return token

    return given


@contextmanager
def replica_session(path: Path, token: str | None) -> Iterator[Replica]:
    """The replica, with the core's refusals turned into exit codes."""
    with opened_replica(path, token) as replica:
        try:
            yield replica
        except InvalidValue as error:
            fail(EXIT_BAD_INPUT, str(error))
        except NotFound as error:
            fail(EXIT_NOT_FOUND, str(error))
        except DomainError as error:
            fail(EXIT_REFUSED, str(error))


@replica_app.command("init")
def replica_init(
    context: typer.Context,
    server: Annotated[str, typer.Option(help="The calldesk server, like http://host:8080")],
    kind: Annotated[
        list[RecordKind] | None, typer.Option(help="A kind to keep; repeat. All when none.")
    ] = None,
    replica_path: ReplicaPath = DEFAULT_PATH,
) -> None:
    """Make the replica file; `sync` then brings the records."""
    if not server.startswith(("http://", "https://")):
        fail(EXIT_BAD_INPUT, f"--server {server!r}: give an http:// or https:// URL")
    if replica_path.exists():
        fail(EXIT_REFUSED, f"{replica_path} exists already; sync it, or remove it first")
    kinds = [each.value for each in (kind or list(RecordKind))]
    tables = SQLiteReplicaTables(replica_path)
    with tables.transaction() as group:
        group.set_property(SERVER_URL, server)
        group.set_property(KINDS, kinds)
    tables.close()
    made = {"replica": str(replica_path), "server": server, "kinds": kinds}
    show(context, made, lambda: out.print(f"replica {replica_path} of {server}: {kinds}"))


@replica_app.command("status")
def replica_status(
    context: typer.Context, replica_path: ReplicaPath = DEFAULT_PATH, token: Token = None
) -> None:
    """The replica's state, what needs attention, and its last successful sync."""
    with replica_session(replica_path, token) as replica:
        status = replica.state.replica(now())
        mode = replica.edits.mode()

    def human() -> None:
        out.print(f"{status.state.symbol} {status.state.label}")
        if status.message:
            out.print(f"  {status.message}")
        counts = status.counts
        out.print(
            f"  conflicts {counts.conflicts}, errors {counts.errors}, "
            f"pending {counts.pending}"
        )
        last = status.last_success.isoformat() if status.last_success else "never"
        out.print(f"  last successful sync: {last}; mode {mode.value}")

    show(context, {"status": status, "mode": mode.value}, human)


@replica_app.command("sync")
def replica_sync(
    context: typer.Context, replica_path: ReplicaPath = DEFAULT_PATH, token: Token = None
) -> None:
    """One sync run, both ways, until nothing is left to pull or push."""
    _needs_token(token, "sync")
    with replica_session(replica_path, token) as replica:
        if wants_json(context):
            report = replica.sync()
        else:
            with _StageBar() as bar:
                report = replica.sync(on_progress=bar.moved)
    show(
        context,
        report,
        lambda: out.print(
            f"pulled {report.pulled}, pushed {report.pushed} "
            f"in {report.iterations} iteration(s)"
        ),
    )
    _completed(report, "sync")


@replica_app.command("pull")
def replica_pull(
    context: typer.Context, replica_path: ReplicaPath = DEFAULT_PATH, token: Token = None
) -> None:
    """The server's changes since the last sync, applied; nothing sent (what waits
    here stays for the next sync)."""
    _needs_token(token, "pull")
    with replica_session(replica_path, token) as replica:
        report = replica.catch_up()
    show(context, report, lambda: out.print(f"pulled {report.pulled}"))
    _completed(report, "pull")


def _needs_token(token: str | None, what: str) -> None:
    if token is None:
        fail(
            EXIT_BAD_INPUT,
            f"a {what} needs the device's token: --token or CALLDESK_REPLICA_TOKEN",
        )


def _completed(report: RunReport, what: str) -> None:
    """Exit 1 saying why, unless the run completed."""
    if not report.completed:
        why = "offline" if report.offline else "refused"
        fail(EXIT_REFUSED, f"the {what} did not complete ({why}): {report.error}")


class _StageBar:
    """A progress bar per stage of a run, so a long first sync shows how far it is."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}")
        )
        self._tasks: dict[tuple[int, str], TaskID] = {}

    def __enter__(self) -> "_StageBar":
        self._progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._progress.stop()

    def moved(self, progress: RunProgress) -> None:
        key = (progress.iteration, progress.stage.value)
        if key not in self._tasks:
            label = f"{progress.iteration}: {progress.stage.label}"
            self._tasks[key] = self._progress.add_task(label, total=progress.total)
        self._progress.update(
            self._tasks[key], completed=progress.done, total=progress.total
        )


def _line(line: RecordLine) -> dict[str, Any]:
    return {
        "kind": line.kind.value,
        "record_id": line.record_id,
        "status": line.status.state.value,
        "label": line.status.state.label,
        "message": line.status.message,
        "values": None if line.row is None else line.row.values,
    }


def _badge(line: RecordLine) -> str:
    state = line.status.state
    return f"{state.symbol} {state.label}"


@replica_app.command("records")
def replica_records(
    context: typer.Context,
    kind: Annotated[RecordKind | None, typer.Argument(help="Only this kind.")] = None,
    replica_path: ReplicaPath = DEFAULT_PATH,
) -> None:
    """The records on the device, each with its sync status."""
    with replica_session(replica_path, None) as replica:
        lines = replica.state.records(kind)

    def human() -> None:
        table = Table("kind", "id", "status", "values")
        for line in lines:
            values = {} if line.row is None else line.row.values
            shown = ", ".join(f"{k}={v}" for k, v in values.items() if v is not None)
            table.add_row(line.kind.value, line.record_id, _badge(line), shown[:60])
        out.print(table)

    show(context, [_line(line) for line in lines], human)


@replica_app.command("record")
def replica_record(
    context: typer.Context,
    kind: Kind,
    record_id: RecordId,
    replica_path: ReplicaPath = DEFAULT_PATH,
) -> None:
    """One record on the device: its values, its status and why."""
    with replica_session(replica_path, None) as replica:
        line = replica.state.record(kind, record_id)
    if line is None:
        fail(EXIT_NOT_FOUND, f"no {kind.value} {record_id} on this device")
    _show_line(context, line)


def _show_line(context: typer.Context, line: RecordLine) -> None:
    def human() -> None:
        out.print(f"{line.kind.value} {line.record_id}: {_badge(line)}")
        if line.status.message:
            out.print(f"  {line.status.message}")
        for name, value in ({} if line.row is None else line.row.values).items():
            out.print(f"  {name} = {value}")

    show(context, _line(line), human)


def _values(
    replica: Replica, kind: RecordKind, pairs: Sequence[str]
) -> dict[str, FieldValue]:
    """FIELD=VALUE pairs read as the device's schema types them; unknown fields pass
    through for the schema to refuse by name."""
    with replica.tables.transaction() as group:
        schema = group.kind_schema(kind)
    types = {} if schema is None else {field.name: field.type for field in schema.fields}
    values: dict[str, FieldValue] = {}
    for pair in pairs:
        name, equals, text = (part.strip() for part in pair.partition("="))
        if not equals:
            fail(EXIT_BAD_INPUT, f"--set {pair!r}: give FIELD=VALUE")
        try:
            values[name] = value_from_text(types.get(name), text)
        except InvalidValue as error:
            fail(EXIT_BAD_INPUT, f"field {name}: {error}")
    return values


@replica_app.command("create")
def replica_create(
    context: typer.Context,
    kind: Kind,
    value: Sets = None,
    replica_path: ReplicaPath = DEFAULT_PATH,
    token: Token = None,
) -> None:
    """A new record on the device, under a temporary id until it is synced."""
    with replica_session(replica_path, token) as replica:
        row = replica.edits.create(kind, _values(replica, kind, value or []), now())
        line = replica.state.record(kind, row.record_id)
    assert line is not None  # just written
    _show_line(context, line)


@replica_app.command("edit")
def replica_edit(
    context: typer.Context,
    kind: Kind,
    record_id: RecordId,
    value: Sets = None,
    replica_path: ReplicaPath = DEFAULT_PATH,
    token: Token = None,
) -> None:
    """Change fields of a record on the device; an empty value clears one."""
    with replica_session(replica_path, token) as replica:
        row = replica.edits.edit(
            kind, record_id, _values(replica, kind, value or []), now()
        )
        line = replica.state.record(kind, row.record_id)
    assert line is not None  # just written
    _show_line(context, line)


@replica_app.command("delete")
def replica_delete(
    context: typer.Context,
    kind: Kind,
    record_id: RecordId,
    replica_path: ReplicaPath = DEFAULT_PATH,
    token: Token = None,
) -> None:
    """Delete a record on the device; the next sync deletes it on the server."""
    with replica_session(replica_path, token) as replica:
        replica.edits.delete(kind, record_id, now())
        line = replica.state.record(kind, record_id)
    deleted = {"kind": kind.value, "record_id": record_id}
    if line is not None:
        _show_line(context, line)
    else:
        show(context, deleted, lambda: out.print(f"{kind.value} {record_id} deleted"))


@replica_app.command("conflicts")
def replica_conflicts(
    context: typer.Context, replica_path: ReplicaPath = DEFAULT_PATH
) -> None:
    """The fields changed here and on the server to different values: base, mine,
    theirs."""
    with replica_session(replica_path, None) as replica:
        conflicts = replica.inbox.conflicts()

    def human() -> None:
        table = Table("kind", "id", "field", "base", "mine", "theirs")
        for each in conflicts:
            field = each.conflict
            table.add_row(
                each.kind.value,
                each.record_id,
                field.field,
                *(str(value) for value in (field.base, field.local, field.server)),
            )
        out.print(table)

    show(context, conflicts, human)


@replica_app.command("resolve")
def replica_resolve(
    context: typer.Context,
    kind: Kind,
    record_id: RecordId,
    field: Annotated[
        str, typer.Argument(help="The conflicting field (_cd_delete: a delete).")
    ],
    keep_mine: Annotated[bool, typer.Option("--keep-mine")] = False,
    keep_theirs: Annotated[bool, typer.Option("--keep-theirs")] = False,
    value: Annotated[str | None, typer.Option("--value", help="A new value.")] = None,
    replica_path: ReplicaPath = DEFAULT_PATH,
) -> None:
    """Choose a conflicting field's value: mine, theirs, or a new one; the next sync
    sends it."""
    chosen = [keep_mine, keep_theirs, value is not None]
    if sum(chosen) != 1:
        fail(EXIT_BAD_INPUT, "choose one: --keep-mine, --keep-theirs or --value V")
    with replica_session(replica_path, None) as replica:
        if value is None:
            choice = Choice.KEEP_LOCAL if keep_mine else Choice.KEEP_SERVER
            resolution = Resolution(choice)
        else:
            new = _values(replica, kind, [f"{field}={value}"])[field]
            resolution = Resolution(Choice.NEW_VALUE, new)
        replica.inbox.resolve(kind, record_id, field, resolution)
    resolved = {"kind": kind.value, "record_id": record_id, "field": field}
    show(context, resolved, lambda: out.print(f"{kind.value} {record_id} {field} resolved"))


@replica_app.command("errors")
def replica_errors(
    context: typer.Context, replica_path: ReplicaPath = DEFAULT_PATH
) -> None:
    """The changes the server refused, with its message: edit and retry, or abandon."""
    with replica_session(replica_path, None) as replica:
        lines = [
            line
            for line in replica.state.records()
            if line.status.state is RecordState.ERROR
        ]

    def human() -> None:
        table = Table("kind", "id", "the server said")
        for line in lines:
            table.add_row(line.kind.value, line.record_id, line.status.message or "")
        out.print(table)

    show(context, [_line(line) for line in lines], human)


@replica_app.command("retry")
def replica_retry(
    context: typer.Context,
    kind: Kind,
    record_id: RecordId,
    replica_path: ReplicaPath = DEFAULT_PATH,
) -> None:
    """Send a refused change again at the next sync (after editing it)."""
    with replica_session(replica_path, None) as replica:
        replica.inbox.retry(kind, record_id)
        line = replica.state.record(kind, record_id)
    assert line is not None  # a retried record stays
    _show_line(context, line)


@replica_app.command("abandon")
def replica_abandon(
    context: typer.Context,
    kind: Kind,
    record_id: RecordId,
    replica_path: ReplicaPath = DEFAULT_PATH,
) -> None:
    """Give up a refused change: the server's record comes back at the next sync."""
    with replica_session(replica_path, None) as replica:
        replica.inbox.abandon(kind, record_id)
    abandoned = {"kind": kind.value, "record_id": record_id}
    show(context, abandoned, lambda: out.print(f"{kind.value} {record_id}: abandoned"))


@replica_app.command("notices")
def replica_notices(
    context: typer.Context, replica_path: ReplicaPath = DEFAULT_PATH
) -> None:
    """What the sync had to drop (local changes to records deleted on the server),
    with the values, until dismissed."""
    with replica_session(replica_path, None) as replica:
        notices = replica.inbox.notices()

    def human() -> None:
        table = Table("id", "kind", "record", "what happened", "values")
        for notice in notices:
            shown = ", ".join(f"{k}={v}" for k, v in notice.values.items())
            table.add_row(
                str(notice.notice_id),
                notice.kind.value,
                notice.record_id,
                notice.message,
                shown,
            )
        out.print(table)

    show(context, notices, human)


@replica_app.command("dismiss")
def replica_dismiss(
    context: typer.Context,
    notice_id: Annotated[int, typer.Argument(help="The notice's id, from `notices`.")],
    replica_path: ReplicaPath = DEFAULT_PATH,
) -> None:
    """Dismiss a notice once it is read."""
    with replica_session(replica_path, None) as replica:
        replica.inbox.dismiss(notice_id)
    show(
        context,
        {"dismissed": notice_id},
        lambda: out.print(f"notice {notice_id} dismissed"),
    )


@replica_app.command("mode")
def replica_mode(
    context: typer.Context,
    mode: Annotated[
        Mode | None, typer.Argument(help="offline, online or hybrid; shown when omitted.")
    ] = None,
    replica_path: ReplicaPath = DEFAULT_PATH,
) -> None:
    """How writes reach the server: at the next sync (offline, online: an edit starts
    from the server's latest) or at once (hybrid)."""
    with replica_session(replica_path, None) as replica:
        if mode is not None:
            replica.edits.set_mode(mode)
        current = replica.edits.mode()
    show(context, {"mode": current.value}, lambda: out.print(f"mode {current.value}"))


@replica_app.command("serve")
def replica_serve(
    port: Annotated[int, typer.Option(help="The page's port on 127.0.0.1.")] = 8766,
    replica_path: ReplicaPath = DEFAULT_PATH,
    token: Token = None,
) -> None:
    """The replica's page in a browser, on loopback: records with their status, offline
    create, edit and delete, the conflict inbox and the refused changes. With a token
    the replica follows the server live, as long as the page is served."""
    key = secrets.token_urlsafe(32)
    server_url, _ = server_of(replica_path)
    with replica_session(replica_path, token) as replica:
        follower = None
        if token is not None:
            stream = FeedStream(server_url, _token_of(token))
            follower = ReplicaFollower(replica, stream=stream)
            follower.start()
        app = replica_page_app(replica, key, port)
        lines = (
            f"the replica's page: http://{LOOPBACK}:{port}/#key={key}",
            "  (the key in it is this run's: open the address as it is; Ctrl-C stops)",
        )
        try:
            serve_announced(app, LOOPBACK, port, lines)
        finally:
            if follower is not None:
                follower.stop()

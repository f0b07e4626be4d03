"""The replica's local page: an agent works on the device's records in a browser, on
loopback, with or without a network (ADR/0028).

The page reads and writes the replica through the same services the embedding app and
the CLI use; this module translates HTTP to them and nothing more. It is safe on an
agent's own machine as the connector is (ADR/0005): it answers only for loopback names,
takes state-changing requests only from its own origin, and every `/api` route takes
the key `calldesk replica serve` printed, as a bearer token, so another local program
or a page of another site learns nothing and changes nothing. The page itself and its
scripts hold no data and need no key.
"""

import asyncio
import hmac
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import attrs
from annotated_types import Ge, Le, MaxLen
from litestar import Litestar, Request, Router, delete, get, patch, post, put
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from calldesk.adapters.http.app import PAGES as CONSOLE_PAGES
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.front_door import FrontDoor
from calldesk.adapters.http.metrics import ConnectorMetrics
from calldesk.adapters.http.problems import (
    body_problem,
    domain_problem,
    http_problem,
    unexpected_problem,
)
from calldesk.adapters.http.strict_bodies import BodyRefused, checked_body
from calldesk.apps.conversion import converter
from calldesk.apps.replica import Replica
from calldesk.apps.replica_edits import Mode
from calldesk.apps.replica_state import RecordLine
from calldesk.domain.access import Unauthorized
from calldesk.domain.errors import DomainError, NotFound
from calldesk.domain.record_fields import FIELD_NAME_MAX_LENGTH, FieldValue
from calldesk.domain.record_schemas import MAX_FIELDS
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_merge import Choice, Resolution
from calldesk.domain.replica_status import RecordState
from calldesk.ports.replica import InboxConflict, Notice

#: The replica page and its scripts; the console's field controls are shared with it.
PAGES = Path(__file__).parent / "pages"

#: How many records a list shows unless asked for more, and the most it shows.
LISTED = 100
MAX_LISTED = 1000
#: A list's order: what needs the person first.
_URGENCY = {state.value: rank for rank, state in enumerate(RecordState)}

RECORD = "/api/records/{kind:str}/{record_id:str}"
CONFLICT = "/api/conflicts/{kind:str}/{record_id:str}/{field:str}"
REFUSED = "/api/refused/{kind:str}/{record_id:str}"

#: The field a person recognises a record by, per kind.
TITLE_FIELDS = {
    RecordKind.CONTACT: ("full_name", "first_name", "last_name"),
    RecordKind.LEAD: ("full_name", "first_name", "last_name"),
    RecordKind.ACCOUNT: ("name",),
    RecordKind.CASE: ("subject",),
}

Values = Annotated[
    dict[Annotated[str, MaxLen(FIELD_NAME_MAX_LENGTH)], FieldValue], MaxLen(MAX_FIELDS)
]


@attrs.frozen
class ValuesBody:
    """The fields to write: for an edit only those that change; null clears one."""

    values: Values


@attrs.frozen
class ResolutionBody:
    """A person's choice for a conflicting field; `value` only with new-value."""

    choice: Choice
    value: FieldValue = None


@attrs.frozen
class ModeBody:
    mode: Mode


def replica_page_app(
    replica: Replica, key: str, port: int = 0, allowed_hosts: tuple[str, ...] = ()
) -> Litestar:
    """The page and its API over one replica; `key` is what every API call sends."""

    async def keyed(request: Request[Any, Any, Any]) -> None:
        """Before any API handler and before its body is used: the key, then the body
        as exactly the handler's shape."""
        if not request.url.path.startswith("/api/"):
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), key.encode()
        ):
            raise Unauthorized(
                "send the page's key as a bearer token: open the address "
                "`calldesk replica serve` printed"
            )
        data = request.route_handler.parsed_data_field
        checked_body(await request.body(), None if data is None else data.annotation)

    @get("/", sync_to_thread=False, include_in_schema=False)
    def home() -> Redirect:
        return Redirect("/pages/replica.html")

    @get("/api/status", sync_to_thread=True)
    def status() -> dict[str, Any]:
        return _status(replica)

    @get("/api/kinds", sync_to_thread=True)
    def kinds() -> list[dict[str, Any]]:
        """The kinds on the device with their fields, as the server last described."""
        with replica.tables.transaction() as group:
            schemas = [group.kind_schema(kind) for kind in replica.kinds]
        return [
            {"kind": schema.kind.value, "fields": converter.unstructure(schema.fields)}
            for schema in schemas
            if schema is not None
        ]

    @get("/api/records/{kind:str}", sync_to_thread=True)
    def records(
        kind: FromPath[str],
        q: FromQuery[Annotated[str, MaxLen(200)]] = "",
        limit: FromQuery[Annotated[int, Ge(1), Le(MAX_LISTED)]] = LISTED,
    ) -> dict[str, Any]:
        """The kind's records, those needing attention first, then by name; `q` keeps
        those whose name or id holds it. At most `limit`, with how many match."""
        lines = [_line(line) for line in replica.state.records(_kind(replica, kind))]
        wanted = q.strip().casefold()
        found = [
            line
            for line in lines
            if wanted in line["title"].casefold() or wanted in line["record_id"].casefold()
        ]
        found.sort(key=lambda line: (_URGENCY[line["status"]["state"]], line["title"]))
        return {"lines": found[:limit], "total": len(found)}

    @get(RECORD, sync_to_thread=True)
    def record(kind: FromPath[str], record_id: FromPath[str]) -> dict[str, Any]:
        """The record, also by the temporary id it was created under once synced."""
        known = _kind(replica, kind)
        return _line(_found(replica, known, replica.edits.row(known, record_id).record_id))

    @post("/api/records/{kind:str}", sync_to_thread=True, status_code=201)
    def create(kind: FromPath[str], data: JSONBody[ValuesBody]) -> dict[str, Any]:
        known = _kind(replica, kind)
        row = replica.edits.create(known, data.values, replica.clock.now())
        return _line(_found(replica, known, row.record_id))

    @post(f"{RECORD}/edit", sync_to_thread=True, status_code=200)
    def start_edit(kind: FromPath[str], record_id: FromPath[str]) -> dict[str, Any]:
        """The record as an edit starts from it: online, the server's latest first."""
        known = _kind(replica, kind)
        row = replica.edits.refreshed(known, record_id)
        return _line(_found(replica, known, row.record_id))

    @patch(RECORD, sync_to_thread=True)
    def edit(
        kind: FromPath[str],
        record_id: FromPath[str],
        data: JSONBody[ValuesBody],
    ) -> dict[str, Any]:
        known = _kind(replica, kind)
        row = replica.edits.edit(known, record_id, data.values, replica.clock.now())
        return _line(_found(replica, known, row.record_id))

    @delete(RECORD, sync_to_thread=True, status_code=200)
    def remove(kind: FromPath[str], record_id: FromPath[str]) -> dict[str, Any]:
        known = _kind(replica, kind)
        replica.edits.delete(known, record_id, replica.clock.now())
        line = replica.state.record(known, record_id)
        return {"kind": kind, "record_id": record_id, "line": line and _line(line)}

    @get("/api/conflicts", sync_to_thread=True)
    def conflicts() -> list[dict[str, Any]]:
        return [_conflict(each) for each in replica.inbox.conflicts()]

    @post(
        CONFLICT,
        sync_to_thread=True,
        status_code=200,
    )
    def resolve(
        kind: FromPath[str],
        record_id: FromPath[str],
        field: FromPath[str],
        data: JSONBody[ResolutionBody],
    ) -> dict[str, Any]:
        known = _kind(replica, kind)
        replica.inbox.resolve(known, record_id, field, Resolution(data.choice, data.value))
        line = replica.state.record(known, record_id)
        return {"kind": kind, "record_id": record_id, "line": line and _line(line)}

    @get("/api/refused", sync_to_thread=True)
    def refused() -> list[dict[str, Any]]:
        return [_line(line) for line in replica.state.refused()]

    @post(
        f"{REFUSED}/retry",
        sync_to_thread=True,
        status_code=200,
    )
    def retry(kind: FromPath[str], record_id: FromPath[str]) -> dict[str, Any]:
        known = _kind(replica, kind)
        replica.inbox.retry(known, record_id)
        return _line(_found(replica, known, record_id))

    @post(
        f"{REFUSED}/abandon",
        sync_to_thread=True,
        status_code=200,
    )
    def abandon(kind: FromPath[str], record_id: FromPath[str]) -> dict[str, Any]:
        known = _kind(replica, kind)
        replica.inbox.abandon(known, record_id)
        line = replica.state.record(known, record_id)
        return {"kind": kind, "record_id": record_id, "line": line and _line(line)}

    @get("/api/notices", sync_to_thread=True)
    def notices() -> list[dict[str, Any]]:
        return [_notice(each) for each in replica.inbox.notices()]

    @delete("/api/notices/{notice_id:int}", sync_to_thread=True, status_code=200)
    def dismiss(notice_id: FromPath[int]) -> dict[str, int]:
        replica.inbox.dismiss(notice_id)
        return {"dismissed": notice_id}

    @post("/api/sync", status_code=200)
    async def sync() -> dict[str, Any]:
        """One run now; the page shows its stages from the status meanwhile."""
        report = await asyncio.to_thread(replica.sync)
        return converter.unstructure(report)  # type: ignore[no-any-return]

    @put("/api/mode", sync_to_thread=True)
    def mode(data: JSONBody[ModeBody]) -> dict[str, Any]:
        replica.edits.set_mode(data.mode)
        return _status(replica)

    config = ConnectorConfig(
        port=port, allowed_hosts=allowed_hosts or ConnectorConfig().allowed_hosts
    )
    app = Litestar(
        route_handlers=[
            home,
            Router(
                "/",
                route_handlers=[
                    status,
                    kinds,
                    records,
                    record,
                    create,
                    start_edit,
                    edit,
                    remove,
                    conflicts,
                    resolve,
                    refused,
                    retry,
                    abandon,
                    notices,
                    dismiss,
                    sync,
                    mode,
                ],
            ),
            create_static_files_router(
                path="/pages", directories=[PAGES, CONSOLE_PAGES], include_in_schema=False
            ),
        ],
        before_request=keyed,
        exception_handlers={
            DomainError: domain_problem,
            HTTPException: http_problem,
            BodyRefused: body_problem,
            Exception: unexpected_problem,
        },
        request_max_body_size=config.max_body_bytes,
        openapi_config=None,
    )
    metrics = ConnectorMetrics()
    app.state.metrics = metrics
    app.asgi_handler = FrontDoor(app.asgi_handler, config, metrics)
    return app


def _kind(replica: Replica, name: str) -> RecordKind:
    try:
        kind = RecordKind(name)
    except ValueError:
        raise NotFound(f"no kind of record is named {name!r}") from None
    if kind not in replica.kinds:
        raise NotFound(f"{kind.value} is not kept on this device")
    return kind


def _found(replica: Replica, kind: RecordKind, record_id: str) -> RecordLine:
    line = replica.state.record(kind, record_id)
    if line is None:
        raise NotFound(f"no {kind.value} {record_id} on this device")
    return line


def title_of(kind: RecordKind, values: dict[str, FieldValue], record_id: str) -> str:
    """What a person calls the record: its name, or its id before it has one."""
    fields = TITLE_FIELDS[kind]
    if values.get(fields[0]):
        return str(values[fields[0]])
    parts = [str(values[name]) for name in fields[1:] if values.get(name)]
    return " ".join(parts) or record_id


def _line(line: RecordLine) -> dict[str, Any]:
    values = {} if line.row is None else line.row.values
    return {
        "kind": line.kind.value,
        "record_id": line.record_id,
        "title": title_of(line.kind, values, line.record_id),
        "status": {
            "state": line.status.state.value,
            "label": line.status.state.label,
            "symbol": line.status.state.symbol,
            "message": line.status.message,
        },
        "values": values,
    }


def _conflict(each: InboxConflict) -> dict[str, Any]:
    return {
        "kind": each.kind.value,
        "record_id": each.record_id,
        "field": each.conflict.field,
        "base": each.conflict.base,
        "mine": each.conflict.local,
        "theirs": each.conflict.server,
        "server_version": each.server_version,
    }


def _notice(each: Notice) -> dict[str, Any]:
    return {
        "notice_id": each.notice_id,
        "kind": each.kind.value,
        "record_id": each.record_id,
        "message": each.message,
        "values": each.values,
        "at": each.at.isoformat(),
    }


def _status(replica: Replica) -> dict[str, Any]:
    now: datetime = replica.clock.now()
    status = replica.state.replica(now)
    run = status.run
    return {
        "state": status.state.value,
        "label": status.state.label,
        "symbol": status.state.symbol,
        "message": status.message,
        "counts": converter.unstructure(status.counts),
        "run": None
        if run is None
        else {
            "stage": run.stage.value,
            "label": run.stage.label,
            "iteration": run.iteration,
            "done": run.done,
            "total": run.total,
        },
        "last_success": None
        if status.last_success is None
        else status.last_success.isoformat(),
        "mode": replica.edits.mode().value,
        # Where in the server's feed the replica stands: it moves with every pull.
        "cursor": replica.state.cursor(),
    }

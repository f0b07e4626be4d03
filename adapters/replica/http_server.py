"""The server's record API over HTTP, as a device's replica syncs with it (ADR/0024).

Every answer is read whole, bounded in size, parsed strictly and checked before the sync
run sees any of it: a page with a missing, repeated or temporary id, a value JSON does
not have, a position out of order, a cursor going back or more entries than asked for
is refused whole (`BadServerAnswer`, naming the entry), so nothing of it is applied.
No answer, a timeout, a 5xx, 408 or 429 is `ServerUnreachable`: the run sends again
later with the same ids. A 401 is `SessionExpired`.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, get_args, get_origin
from urllib.parse import quote

import attrs
import cattrs
import httpx
from cattrs.cols import (
    homogenous_tuple_structure_factory,
    is_mapping,
    mapping_structure_factory,
)
from cattrs.v import format_exception

from calldesk.adapters.strict_json import MalformedJSON, parse_json
from calldesk.apps.change_feed import MAX_PAGE, ChangePage, RecordChange, SchemaChange
from calldesk.apps.conversion import converter
from calldesk.apps.record_batches import MAX_OPERATIONS, REF_MARK
from calldesk.apps.records import RecordView, SchemaView
from calldesk.domain.errors import InvalidValue
from calldesk.domain.record_fields import FieldValue
from calldesk.domain.records import RecordKind
from calldesk.domain.replica_merge import FieldConflict
from calldesk.domain.replica_outcomes import OutcomeClass, classified
from calldesk.domain.temporary_ids import checked_server_id, is_temporary_id
from calldesk.ports.replica import (
    BadServerAnswer,
    KindSchema,
    Operation,
    OperationResult,
    Problem,
    PulledRecord,
    PulledSchema,
    SendChange,
    SendCreate,
    SendDelete,
    ServerPage,
    ServerRecord,
    ServerUnreachable,
    SessionExpired,
)

#: Far above a page of MAX_PAGE records; a body past it is refused unread.
MAX_BODY_BYTES = 64 * 2**20

T = TypeVar("T")


def _only(json_type: type, factory: Any) -> Any:
    """A hook factory whose hooks take only this JSON type: cattrs would read a text as
    a tuple of its letters, or a list of pairs as an object."""

    def strict_factory(kind: Any, conversion: cattrs.Converter) -> Any:
        structure = factory(kind, conversion)

        def hook(value: object, _: object) -> object:
            if type(value) is not json_type:
                raise TypeError(f"expected a {json_type.__name__}, not {value!r:.40}")
            return structure(value, kind)

        return hook

    return strict_factory


def _is_homogenous_tuple(kind: Any) -> bool:
    return get_origin(kind) is tuple and get_args(kind)[1:] == (Ellipsis,)


#: The server's converter, stricter about arrays and objects: what it reads came from
#: the network, not from calldesk's own store.
_wire = converter.copy()
_wire.register_structure_hook_factory(
    _is_homogenous_tuple, _only(list, homogenous_tuple_structure_factory)
)
_wire.register_structure_hook_factory(is_mapping, _only(dict, mapping_structure_factory))


def _feed_change(value: object, _: object) -> RecordChange | SchemaChange:
    """A schema change by its fields, a record change otherwise: cattrs would tell them
    apart by a member it picks, so an entry missing that member is not told apart."""
    if isinstance(value, dict) and "fields" in value:
        return _wire.structure(value, SchemaChange)
    return _wire.structure(value, RecordChange)


_wire.register_structure_hook(RecordChange | SchemaChange, _feed_change)


@attrs.frozen
class _Conflict:
    field: str
    base: FieldValue
    current: FieldValue
    proposed: FieldValue


@attrs.frozen
class _ProblemDocument:
    type: str
    status: int
    detail: str
    conflicts: tuple[_Conflict, ...] = ()


@attrs.frozen
class _Answer:
    index: int
    outcome: str
    record: RecordView | None
    problem: dict[str, Any] | None


@attrs.frozen
class _BatchAnswer:
    applied: bool
    results: tuple[_Answer, ...]


class HttpReplicaServer:
    """The ReplicaServer of one device's token; `token()` is asked at every request, so
    a renewed token is used from the next one on. The client's base_url is the server."""

    def __init__(
        self,
        http: httpx.Client,
        token: Callable[[], str],
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._http = http
        self._token = token
        self._max_body_bytes = max_body_bytes

    def schema(self, kind: RecordKind) -> KindSchema:
        what = f"the schema of {kind.value}"
        view = _structured(self._json("GET", f"/schemas/{kind.value}"), SchemaView, what)
        if view.kind is not kind:
            raise BadServerAnswer(f"{what} came as the schema of {view.kind.value}")
        if view.version < 1:
            raise BadServerAnswer(f"{what} is at version {view.version}, not 1 or more")
        return KindSchema(view.kind, view.version, view.fields, view.retired)

    def changes(self, after: int, limit: int) -> ServerPage:
        if after < 0 or not 1 <= limit <= MAX_PAGE:
            raise InvalidValue(
                f"a page starts at a cursor of 0 or more and holds 1 to {MAX_PAGE} "
                f"changes: not after {after}, limit {limit}"
            )
        params = {"after": after, "limit": limit}
        return _checked_page(
            self._json("GET", "/record-changes", params=params), after, limit
        )

    def record(self, kind: RecordKind, record_id: str) -> ServerRecord | None:
        what = f"{kind.value} {record_id!r}"
        path = f"/records/{kind.value}/{quote(record_id, safe='')}"
        status, content = self._exchange("GET", path)
        if status == 404:
            return None
        view = _structured(_answered("GET", path, status, content), RecordView, what)
        return _checked_record(what, _server_record(view), kind, record_id)

    def apply(self, operations: Sequence[Operation]) -> tuple[OperationResult, ...]:
        """Longer sequences go in several batches; an "@ref" to a create of an earlier
        batch is sent as the id the server gave it, as one batch would have."""
        results: list[OperationResult] = []
        made: dict[str, str] = {}
        for start in range(0, len(operations), MAX_OPERATIONS):
            batch = [
                _resolved(op, made) for op in operations[start : start + MAX_OPERATIONS]
            ]
            answered = self._batch(batch, start)
            for operation, result in zip(batch, answered, strict=True):
                if (
                    isinstance(operation, SendCreate)
                    and operation.ref is not None
                    and result.record is not None
                ):
                    made[operation.ref] = result.record.record_id
            results.extend(answered)
        return tuple(results)

    def _batch(self, batch: Sequence[Operation], start: int) -> list[OperationResult]:
        body = {"operations": [_sent(op) for op in batch], "all_or_none": False}
        raw = self._json("POST", "/record-batches", json=body)
        answer = _structured(raw, _BatchAnswer, "the batch's answer")
        if len(answer.results) != len(batch):
            raise BadServerAnswer(
                f"a batch of {len(batch)} operations was answered with "
                f"{len(answer.results)} results"
            )
        results = []
        for index, (operation, result) in enumerate(
            zip(batch, answer.results, strict=True)
        ):
            if result.index != index:
                raise BadServerAnswer(
                    f"result {index} of the batch answers operation {result.index}"
                )
            results.append(_result(f"operation {start + index}", operation, result))
        return results

    def _json(self, method: str, path: str, **request: Any) -> Any:
        status, content = self._exchange(method, path, **request)
        return _answered(method, path, status, content)

    def _exchange(self, method: str, path: str, **request: Any) -> tuple[int, bytes]:
        """The status and body of the server's answer, read up to the size allowed."""
        headers = {"Authorization": f"Bearer {self._token()}"}
        try:
            with self._http.stream(method, path, headers=headers, **request) as response:
                return response.status_code, self._body(method, path, response)
        except httpx.TransportError as error:  # timeouts and lost connections among them
            raise ServerUnreachable(
                f"{method} {path}: no answer from the server ({type(error).__name__}: "
                f"{error})"
            ) from error
        except httpx.HTTPError as error:  # an undecodable body, a redirect loop
            raise BadServerAnswer(f"{method} {path}: {error}") from error

    def _body(self, method: str, path: str, response: httpx.Response) -> bytes:
        limit = self._max_body_bytes
        too_large = BadServerAnswer(
            f"{method} {path}: the answer is larger than {limit} bytes; refused unread"
        )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks, size = [], 0
        for chunk in response.iter_bytes():  # decoded: a compressed body counts unpacked
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)


def _answered(method: str, path: str, status: int, content: bytes) -> Any:
    """The JSON of a 2xx answer; any other answer raised as what it means here."""
    what = f"{method} {path}"
    if 200 <= status < 300:
        try:
            return parse_json(content)
        except MalformedJSON as error:
            raise BadServerAnswer(f"{what} answered {status} with {error}") from None
    try:
        document = parse_json(content)
    except MalformedJSON:
        document = None  # a proxy's error page: its status says enough
    detail = f"HTTP {status}"
    kind = None
    if isinstance(document, dict):
        if isinstance(document.get("detail"), str):
            detail = document["detail"]
        if isinstance(document.get("type"), str):
            kind = document["type"].rpartition(":")[2]
    try:
        outcome = classified(status, kind)
    except InvalidValue:
        raise BadServerAnswer(
            f"{what} answered {status}, which is no HTTP status"
        ) from None
    if outcome is OutcomeClass.TRANSIENT:
        raise ServerUnreachable(f"{what}: the server answered {status} for now: {detail}")
    if outcome is OutcomeClass.SESSION_EXPIRED:
        raise SessionExpired(f"{what}: the server no longer takes the token: {detail}")
    raise BadServerAnswer(f"{what} was refused ({status}): {detail}")


def _structured(data: Any, kind: type[T], what: str) -> T:
    if not isinstance(data, dict):
        raise BadServerAnswer(f"{what} is not a JSON object: {data!r:.60}")
    try:
        return _wire.structure(data, kind)
    except cattrs.BaseValidationError as error:
        faults = cattrs.transform_error(error, format_exception=_fault)
        raise BadServerAnswer(f"{what} is malformed: {'; '.join(faults)}") from None
    except (ValueError, TypeError, AttributeError) as error:
        raise BadServerAnswer(f"{what} is malformed: {error}") from None


def _fault(error: BaseException, kind: type | None) -> str:
    """cattrs' words for a missing or extra member, the error's own for the rest."""
    if isinstance(error, KeyError | cattrs.ForbiddenExtraKeysError) or not str(error):
        return format_exception(error, kind)
    return str(error)


def _checked_page(body: Any, after: int, limit: int) -> ServerPage:
    """The page, or BadServerAnswer naming the first thing wrong with it."""
    entries = body.get("changes") if isinstance(body, dict) else None
    if isinstance(entries, list) and len(entries) > min(limit, MAX_PAGE):
        raise BadServerAnswer(
            f"the page holds {len(entries)} changes, more than the {limit} asked for "
            f"(a page holds at most {MAX_PAGE})"
        )
    page = _structured(body, ChangePage, "the page")
    changes = tuple(_checked_entries(page, after))
    if page.cursor < after:
        raise BadServerAnswer(f"the page's cursor {page.cursor} goes back from {after}")
    if changes and page.cursor != changes[-1].position:
        raise BadServerAnswer(
            f"the page's cursor {page.cursor} is not its last entry's position "
            f"{changes[-1].position}"
        )
    if page.more and not changes:
        raise BadServerAnswer(
            "the page says more follows but holds no change: the next would be the same"
        )
    return ServerPage(changes, page.cursor, page.more)


def _checked_entries(page: ChangePage, after: int) -> Iterator[PulledRecord | PulledSchema]:
    seen: set[tuple[RecordKind, str | None]] = set()
    last = after
    for index, entry in enumerate(page.changes):
        if isinstance(entry, RecordChange):
            what = f"entry {index} ({entry.kind.value} {entry.record_id!r})"
            key: tuple[RecordKind, str | None] = (entry.kind, entry.record_id)
        else:
            what = f"entry {index} (the schema of {entry.kind.value})"
            key = (entry.kind, None)
        if entry.position <= last:
            raise BadServerAnswer(
                f"{what} is at position {entry.position}, not after {last}: "
                "positions must only grow, from the cursor asked for"
            )
        last = entry.position
        if key in seen:
            raise BadServerAnswer(f"{what} is in the page twice")
        seen.add(key)
        if isinstance(entry, RecordChange):
            record = ServerRecord(
                entry.kind, entry.record_id, entry.version, entry.values, entry.deleted
            )
            _checked_record(what, record)
            yield PulledRecord(entry.position, record)
        else:
            if entry.version < 1:
                raise BadServerAnswer(f"{what} is at version {entry.version}")
            schema = KindSchema(entry.kind, entry.version, entry.fields, entry.retired)
            yield PulledSchema(entry.position, schema)


def _server_record(view: RecordView) -> ServerRecord:
    return ServerRecord(view.kind, view.record_id, view.version, view.values, view.deleted)


def _checked_record(
    what: str,
    record: ServerRecord,
    asked_kind: RecordKind | None = None,
    asked_id: str | None = None,
) -> ServerRecord:
    """A record the server sent: a server id, a version, no device's id anywhere, and
    the kind and id asked for, when one was."""
    try:
        checked_server_id(record.record_id)
    except InvalidValue as error:
        raise BadServerAnswer(f"{what} has no usable id: {error}") from None
    if asked_kind is not None and record.kind is not asked_kind:
        raise BadServerAnswer(f"{what} came as a {record.kind.value}")
    if asked_id is not None and record.record_id != asked_id:
        raise BadServerAnswer(f"{what} came as the record {record.record_id!r}")
    if record.version < 1:
        raise BadServerAnswer(f"{what} is at version {record.version}, not 1 or more")
    for field, value in record.values.items():
        if is_temporary_id(value):
            raise BadServerAnswer(f"{what} holds a device's temporary id in {field}")
    return record


def _sent(operation: Operation) -> dict[str, Any]:
    """An operation as the server's batch body has it."""
    kind = operation.kind.value
    if isinstance(operation, SendCreate):
        create = {"operation_id": operation.operation_id, "values": operation.values}
        ref = {} if operation.ref is None else {"ref": operation.ref}
        return {"op": "create", "kind": kind, **create, **ref}
    change = {"record_id": operation.record_id, "base_version": operation.base_version}
    if isinstance(operation, SendChange):
        return {"op": "change", "kind": kind, **change, "values": operation.values}
    return {"op": "delete", "kind": kind, **change}


def _resolved(operation: Operation, made: Mapping[str, str]) -> Operation:
    """The operation with each "@ref" of a create already answered as its record's id."""

    def one(value: FieldValue) -> FieldValue:
        if isinstance(value, str) and value.startswith(REF_MARK):
            return made.get(value.removeprefix(REF_MARK), value)
        return value

    if not made:
        return operation
    if isinstance(operation, SendDelete):
        return attrs.evolve(operation, record_id=str(one(operation.record_id)))
    values = {field: one(value) for field, value in operation.values.items()}
    if isinstance(operation, SendChange):
        record_id = str(one(operation.record_id))
        return attrs.evolve(operation, record_id=record_id, values=values)
    return attrs.evolve(operation, values=values)


def _result(what: str, operation: Operation, answer: _Answer) -> OperationResult:
    if answer.outcome == "applied" and answer.record is not None and not answer.problem:
        view = answer.record
        asked_id = None if isinstance(operation, SendCreate) else operation.record_id
        record = _checked_record(what, _server_record(view), operation.kind, asked_id)
        return OperationResult(record)
    if answer.outcome == "refused" and answer.problem is not None and not answer.record:
        return OperationResult(None, _problem(what, answer.problem))
    raise BadServerAnswer(
        f"{what} was answered {answer.outcome!r}, with "
        f"{'a' if answer.record else 'no'} record and "
        f"{'a' if answer.problem else 'no'} problem"
    )


def _problem(what: str, document: Mapping[str, Any]) -> Problem:
    """The problem document's status, type, detail and conflicts; its other members
    (the refused fields of a record) are told by its detail."""
    names = attrs.fields_dict(_ProblemDocument)
    known = {name: value for name, value in document.items() if name in names}
    parsed = _structured(known, _ProblemDocument, f"{what}'s problem")
    if not 400 <= parsed.status <= 599:
        raise BadServerAnswer(f"{what} was refused with status {parsed.status}")
    conflicts = tuple(
        FieldConflict(each.field, base=each.base, local=each.proposed, server=each.current)
        for each in parsed.conflicts
    )
    return Problem(parsed.status, parsed.type.rpartition(":")[2], parsed.detail, conflicts)

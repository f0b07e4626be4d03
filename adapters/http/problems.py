"""Every refusal as an RFC 9457 problem document, with a message a person can act on."""

import logging
from typing import Any

import attrs
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec

from calldesk.adapters.http.metrics import ConnectorMetrics
from calldesk.adapters.http.strict_bodies import BodyRefused
from calldesk.apps.calls import PhoneSystemRefused
from calldesk.apps.unit_of_work import ConcurrentChange
from calldesk.domain.access import Unauthorized
from calldesk.domain.app_refusals import AppDenied, RateLimited
from calldesk.domain.crm_records import DeleteConflict, EditConflict
from calldesk.domain.errors import (
    AlreadyExists,
    DomainError,
    InvalidValue,
    NotFound,
    Refused,
)
from calldesk.domain.feed_batches import BatchNotPublishable
from calldesk.domain.record_schemas import RecordRefused

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

#: The status and problem type of each kind of refusal; the most specific class wins.
STATUS = (
    (Unauthorized, 401, "unauthorized"),
    (InvalidValue, 422, "invalid-value"),
    (NotFound, 404, "not-found"),
    (AlreadyExists, 409, "already-exists"),
    (ConcurrentChange, 409, "concurrent-change"),
    (PhoneSystemRefused, 502, "phone-system-refused"),
    (Refused, 409, "refused"),
    (DomainError, 400, "bad-request"),
)


@attrs.frozen
class Problem:
    """An RFC 9457 problem document, as every refusal is answered."""

    type: str
    title: str
    status: int
    detail: str


#: The refusals any route may answer, for the OpenAPI document.
PROBLEM_RESPONSES = {
    status: ResponseSpec(
        data_container=Problem,
        description=description,
        media_type=PROBLEM_MEDIA_TYPE,
        generate_examples=False,
    )
    for status, description in (
        (400, "The request is malformed: not JSON, or of the wrong shape"),
        (401, "No bearer token, or one that is unknown, expired or revoked"),
        (403, "The token is not for this agent, or the Origin is not allowed"),
        (404, "No such agent, call, reason or record in the token's tenant"),
        (409, "The current state does not allow it"),
        (413, "The body is larger than the connector takes"),
        (421, "The Host is not one of the connector's names"),
        (422, "A value breaks its rule"),
        (429, "An app asked more often than its registration allows"),
        (502, "The phone system refused or could not be reached"),
    )
}


class Forbidden(DomainError):
    """The token is valid, but not for this agent."""


def problem_document(status: int, kind: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"urn:calldesk:problem:{kind}",
        "title": kind.replace("-", " "),
        "status": status,
        "detail": detail,
        **extra,
    }


def problem(
    status: int,
    kind: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="calldesk"'}
    return Response(
        problem_document(status, kind, detail, **extra),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def domain_problem(
    _: Request[Any, Any, Any], error: DomainError
) -> Response[dict[str, Any]]:
    document = refusal_document(error)
    headers = {
        401: {"WWW-Authenticate": 'Bearer realm="calldesk"'},
        429: {"Retry-After": str(document.get("retry_after", 1))},
    }
    return Response(
        document,
        status_code=document["status"],
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers.get(document["status"]),
    )


def refusal_document(error: DomainError) -> dict[str, Any]:
    """The problem document of a refusal, with what a client needs to act on it: the
    drafts that held a batch back, a record's fields and their problems, the fields of
    a conflict with their three values."""
    if isinstance(error, Forbidden):
        return _refusal(403, "forbidden", error)
    if isinstance(error, RateLimited):
        return _refusal(
            429,
            "rate-limited",
            error,
            reason=error.reason.value,
            retry_after=error.retry_after_seconds,
        )
    if isinstance(error, AppDenied):  # the reason says which rule, nothing of the app
        return _refusal(403, "app-denied", error, reason=error.reason.value)
    if isinstance(error, BatchNotPublishable):  # which drafts held the batch back
        results = [attrs.asdict(result) for result in error.results]
        return _refusal(409, "batch-not-publishable", error, results=results)
    if isinstance(error, RecordRefused):
        errors = [{"member": p.field, "message": p.message} for p in error.problems]
        return _refusal(422, "record-refused", error, errors=errors)
    if isinstance(error, EditConflict):
        conflicts = [attrs.asdict(conflict) for conflict in error.conflicts]
        return _refusal(409, "edit-conflict", error, conflicts=conflicts)
    if isinstance(error, DeleteConflict):
        return _refusal(409, "delete-conflict", error, changed=list(error.changed))
    for kind, status, name in STATUS:
        if isinstance(error, kind):
            return _refusal(status, name, error)
    raise AssertionError("DomainError is the last row")


def _refusal(status: int, kind: str, error: DomainError, **extra: Any) -> dict[str, Any]:
    return problem_document(status, kind, str(error), **extra)


def http_problem(
    request: Request[Any, Any, Any], error: HTTPException
) -> Response[dict[str, Any]]:
    """Litestar's own refusals (validation, size, method) in the same form; its own
    failures (5xx) as calldesk's."""
    if error.status_code >= 500:
        return unexpected_problem(request, error)
    extra = {"errors": error.extra} if error.extra else {}
    name = {
        400: "bad-request",
        404: "not-found",
        405: "method-not-allowed",
        413: "too-large",
    }
    return problem(
        error.status_code,
        name.get(error.status_code, "http-error"),
        _with_faults(str(error.detail), error.extra),
        headers=dict(error.headers or {}),  # a 405's Allow, for one
        **extra,
    )


def _with_faults(detail: str, extra: object) -> str:
    """A validation's detail with what failed, so that a person reads which parameter
    broke which limit (`q: Expected `str` of length >= 2`), not only that one did."""
    if not isinstance(extra, list):
        return detail
    faults = [
        f"{fault['key']}: {fault['message']}" if fault.get("key") else str(fault["message"])
        for fault in extra
        if isinstance(fault, dict) and "message" in fault
    ]
    return f"{detail}: {'; '.join(faults)}" if faults else detail


def unexpected_problem(
    request: Request[Any, Any, Any], error: Exception
) -> Response[dict[str, Any]]:
    """A fault of calldesk's, not of the request: logged with its traceback, counted at
    /metrics, and answered without it (a traceback tells an attacker too much)."""
    logger.error(
        "%s %s failed",
        request.method,
        request.url.path,
        exc_info=(type(error), error, error.__traceback__),
    )
    metrics: ConnectorMetrics = request.app.state.metrics
    metrics.unexpected_errors.labels(route=_route_of(request)).inc()
    return problem(
        500, "internal-error", "calldesk failed to answer this request; the fault is logged"
    )


def _route_of(request: Request[Any, Any, Any]) -> str:
    """The route's path template, so that ids in paths do not make a label each."""
    handler = request.scope.get("route_handler")
    paths = getattr(handler, "paths", None)
    return min(paths) if paths else "unrouted"


def body_problem(_: Request[Any, Any, Any], error: BodyRefused) -> Response[dict[str, Any]]:
    """A body that is not one command: each member at fault, by its JSON path."""
    faults = [attrs.asdict(fault) for fault in error.faults]
    kind = "malformed-body" if error.malformed else "invalid-body"
    return problem(400, kind, str(error), errors=faults)

"""Every refusal as an RFC 9457 problem document, with a message a person can act on."""

from typing import Any

import attrs
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec

from calldesk.apps.calls import PhoneSystemRefused
from calldesk.apps.unit_of_work import ConcurrentChange
from calldesk.domain.access import Unauthorized
from calldesk.domain.errors import (
    AlreadyExists,
    DomainError,
    InvalidValue,
    NotFound,
    Refused,
)
from calldesk.domain.feed_batches import BatchNotPublishable

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
        (502, "The phone system refused or could not be reached"),
    )
}


class Forbidden(DomainError):
    """The token is valid, but not for this agent."""


def problem(
    status: int,
    kind: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body = {
        "type": f"urn:calldesk:problem:{kind}",
        "title": kind.replace("-", " "),
        "status": status,
    }
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="calldesk"'}
    return Response(
        {**body, "detail": detail, **extra},
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def domain_problem(
    _: Request[Any, Any, Any], error: DomainError
) -> Response[dict[str, Any]]:
    if isinstance(error, Forbidden):
        return problem(403, "forbidden", str(error))
    if isinstance(error, BatchNotPublishable):  # which drafts held the batch back
        results = [attrs.asdict(result) for result in error.results]
        return problem(409, "batch-not-publishable", str(error), results=results)
    for kind, status, name in STATUS:
        if isinstance(error, kind):
            return problem(status, name, str(error))
    raise AssertionError("DomainError is the last row")


def http_problem(
    _: Request[Any, Any, Any], error: HTTPException
) -> Response[dict[str, Any]]:
    """Litestar's own refusals (validation, size, method) in the same form."""
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
        str(error.detail),
        headers=dict(error.headers or {}),  # a 405's Allow, for one
        **extra,
    )

"""Phone systems that call calldesk: one webhook per vendor and tenant, counted.

Vendors post server to server: no bearer token, no Origin. Each delivery is checked by
its vendor's adapter (signature or key, tenant, documented shape) before anything is
recorded; every outcome, accepted or refused and why, is counted for monitoring at
``GET /metrics`` in Prometheus' text format.
"""

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from litestar import Request, Response, post
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from calldesk.adapters.http.metrics import ConnectorMetrics
from calldesk.adapters.http.problems import PROBLEM_RESPONSES, Problem, problem
from calldesk.apps.desk import Desk
from calldesk.domain.errors import DomainError
from calldesk.domain.signals import CallSignal
from calldesk.ports.telephony import (
    RejectionReason,
    VendorDelivery,
    VendorEventRejected,
    WebhookAdapter,
)

#: The HTTP status each refusal is answered with.
STATUS = {
    RejectionReason.UNAUTHENTICATED: 403,
    RejectionReason.FOREIGN_TENANT: 403,
    RejectionReason.UNSUPPORTED_MEDIA: 415,
    RejectionReason.MALFORMED: 422,
    RejectionReason.UNKNOWN_STATUS: 422,
    RejectionReason.REPLAYED: 409,
}

WEBHOOK_RESPONSES = {
    **PROBLEM_RESPONSES,
    403: ResponseSpec(
        data_container=Problem,
        description="The signature or key is missing or wrong, or it is another tenant's",
        media_type="application/problem+json",
        generate_examples=False,
    ),
    415: ResponseSpec(
        data_container=Problem,
        description="Not the content type the vendor documents",
        media_type="application/problem+json",
        generate_examples=False,
    ),
}


class Webhooks:
    """The webhook adapters by tenant and vendor."""

    def __init__(self, adapters: Mapping[str, Sequence[WebhookAdapter]]) -> None:
        self.adapters = {
            (tenant, adapter.vendor): adapter
            for tenant, of_tenant in adapters.items()
            for adapter in of_tenant
        }


def _webhooks(request: Request[Any, Any, Any]) -> Webhooks:
    webhooks: Webhooks = request.app.state.webhooks
    return webhooks


@post(
    "/webhooks/{vendor:str}/{tenant:str}",
    status_code=200,
    security=[{}],  # no bearer token: the vendor signs or keys its deliveries
    responses=WEBHOOK_RESPONSES,
)
async def vendor_event(
    request: Request[Any, Any, Any], vendor: FromPath[str], tenant: FromPath[str]
) -> Response[Any]:
    """A phone system tells about a call; 200 once its signals are recorded."""
    adapter = _webhooks(request).adapters.get((tenant, vendor))
    if adapter is None:
        return problem(404, "not-found", f"no {vendor} phone system for tenant {tenant}")
    counted: ConnectorMetrics = request.app.state.metrics
    count = counted.deliveries.labels(vendor=vendor, result="accepted")
    try:
        body = await request.body()
    except HTTPException as refusal:  # larger than the connector takes
        counted.deliveries.labels(vendor=vendor, result="too-large").inc()
        return problem(refusal.status_code, "too-large", str(refusal.detail))
    delivery = VendorDelivery(
        url=_called_url(request),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
        content_type=request.headers.get("content-type", ""),
    )
    try:
        signals = await asyncio.to_thread(_heard_whole, request, adapter, delivery)
    except VendorEventRejected as rejection:
        reason = rejection.reason
        counted.deliveries.labels(vendor=vendor, result=reason.value).inc()
        return problem(STATUS[reason], reason.value, str(rejection))
    except DomainError:  # answered by the app's problem handler
        counted.deliveries.labels(vendor=vendor, result="refused").inc()
        raise
    count.inc()
    return Response(content={"signals": len(signals)}, status_code=200)


def _heard_whole(
    request: Request[Any, Any, Any], adapter: WebhookAdapter, delivery: VendorDelivery
) -> tuple[CallSignal, ...]:
    """The delivery's signals, all recorded in one transaction, or none if one fails."""
    desk: Desk = request.app.state.desk
    with desk.atomically():
        return adapter.receive(delivery)


def _called_url(request: Request[Any, Any, Any]) -> str:
    """The URL the vendor called, which its signature covers, behind a proxy too."""
    public: str | None = request.app.state.config.public_base_url
    if public is None:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{public.rstrip('/')}{request.url.path}{query}"

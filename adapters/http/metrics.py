"""What the connector counts for a monitoring system, served at ``GET /metrics``."""

from typing import Any

from litestar import Request, Response, get
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    generate_latest,
)


class ConnectorMetrics:
    """The counters of one connector, in a registry of its own (not the process')."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "calldesk_webhook_deliveries",
            "Deliveries from phone systems, by vendor and result (accepted or why refused)",
            ("vendor", "result"),
            registry=self.registry,
        )
        self.unexpected_errors = Counter(
            "calldesk_http_unexpected_errors",
            "Requests answered 500 because calldesk failed, by route",
            ("route",),
            registry=self.registry,
        )


@get("/metrics", security=[{}], sync_to_thread=False, include_in_schema=False)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Counters for a monitoring system, in Prometheus' text format."""
    counted: ConnectorMetrics = request.app.state.metrics
    return Response(generate_latest(counted.registry), media_type=CONTENT_TYPE_LATEST)

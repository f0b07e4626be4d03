"""The connector's ASGI application: routes, push, and the guards of a local service."""

import asyncio
import gc
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, get
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath
from litestar.response import ServerSentEvent
from litestar.static_files import create_static_files_router

from calldesk.adapters.http.app_routes import app_api, app_session_api
from calldesk.adapters.http.auth import PROXIABLE, acting, checked_first, principal
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.feed_routes import feed_api
from calldesk.adapters.http.feed_stream import record_change_stream
from calldesk.adapters.http.front_door import FrontDoor
from calldesk.adapters.http.metrics import ConnectorMetrics, metrics
from calldesk.adapters.http.problems import (
    PROBLEM_RESPONSES,
    body_problem,
    domain_problem,
    http_problem,
    unexpected_problem,
)
from calldesk.adapters.http.push import PushHub
from calldesk.adapters.http.record_routes import record_api
from calldesk.adapters.http.routes import Who, api
from calldesk.adapters.http.stream_session import StreamSession
from calldesk.adapters.http.strict_bodies import BodyRefused, StrictAttrsSchemas
from calldesk.adapters.http.webhooks import Webhooks, vendor_event
from calldesk.adapters.http.workspace_routes import workspace_api
from calldesk.apps.desk import Desk
from calldesk.domain.errors import DomainError, InvalidValue
from calldesk.ports.clock import Clock
from calldesk.ports.telephony import WebhookAdapter

#: The console page and the softphone frame: plain ES modules, no build step.
PAGES = Path(__file__).parent / "pages"

#: Where the schema viewer's scripts and styles are served from (Swagger UI, as the
#: swagger-ui-py package ships it): a connector on an agent's machine may have no
#: internet, so nothing comes from a CDN.
VIEWER_ASSETS = "/schema/assets"
SCHEMA_VIEWER = SwaggerRenderPlugin(
    js_url=f"{VIEWER_ASSETS}/swagger-ui-bundle.js",
    css_url=f"{VIEWER_ASSETS}/swagger-ui.css",
    standalone_preset_js_url=f"{VIEWER_ASSETS}/swagger-ui-standalone-preset.js",
    favicon=f"<link rel='icon' type='image/png' href='{VIEWER_ASSETS}/favicon-32x32.png'>",
    path="/",
)


def create_app(
    desk: Desk,
    clock: Clock,
    config: ConnectorConfig | None = None,
    webhooks: Mapping[str, Sequence[WebhookAdapter]] | None = None,
) -> Litestar:
    """The connector for this desk; it follows the desk's log while it runs.

    ``webhooks``: by tenant, the phone systems that post their events to the connector,
    attached to the desk already by the composition root (calldesk.adapters.cli.wiring).
    """
    config = config or ConnectorConfig()
    hub = PushHub(desk.log, desk.projection, config)
    inbound = Webhooks(webhooks or {})

    @asynccontextmanager
    async def following(_: Litestar) -> AsyncIterator[None]:
        # What was built before serving (modules, the desk, its first aggregates) stays
        # for good: frozen, it is left out of the garbage collector's full passes, each
        # of which otherwise stops every thread for tens of milliseconds, pushes too
        # (docs/benchmarks.md, push latency).
        gc.freeze()
        task = asyncio.create_task(hub.run())
        try:
            yield
        finally:
            hub.stop()
            await task

    @get("/agents/{agent:str}/events", responses=PROBLEM_RESPONSES, opt={PROXIABLE: False})
    async def events(
        request: Request[Any, Any, Any], who: Who, agent: FromPath[str]
    ) -> ServerSentEvent:
        """What concerns the agent, as it is recorded; reconnect with Last-Event-ID.
        It ends (`session-ended`) once the token no longer lets it in (ADR/0030)."""
        await asyncio.to_thread(desk.agent, who.tenant, agent)  # unknown: 404, no stream
        header = request.headers.get("last-event-id")
        try:
            last_seen = int(header) if header is not None else None
        except ValueError:
            raise InvalidValue(
                f"Last-Event-ID {header!r} is not a position in the log"
            ) from None
        return ServerSentEvent(
            hub.messages(who.tenant, agent, last_seen, StreamSession.of(request)),
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @get("/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app = Litestar(
        route_handlers=[
            api,
            feed_api,
            workspace_api,
            record_api,
            app_api,
            app_session_api,
            record_change_stream,
            events,
            health,
            vendor_event,
            metrics,
            create_static_files_router(path="/pages", directories=[PAGES]),
            create_static_files_router(
                path=VIEWER_ASSETS, directories=[Path(str(files("swagger_ui") / "static"))]
            ),
        ],
        dependencies={
            "who": Provide(principal, sync_to_thread=True),
            "acting": Provide(acting, sync_to_thread=False),
        },
        before_request=checked_first,
        exception_handlers={
            DomainError: domain_problem,
            HTTPException: http_problem,
            BodyRefused: body_problem,
            Exception: unexpected_problem,
        },
        cors_config=CORSConfig(allow_origins=list(config.allowed_origins)),
        request_max_body_size=config.max_body_bytes,
        plugins=[StrictAttrsSchemas()],
        openapi_config=OpenAPIConfig(
            title="calldesk connector",
            version="1",
            render_plugins=[SCHEMA_VIEWER],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
            ),
            security=[{"bearer": []}],
        ),
        lifespan=[following],
    )
    counted = ConnectorMetrics()
    app.state.desk, app.state.clock, app.state.hub = desk, clock, hub
    app.state.config, app.state.webhooks, app.state.metrics = config, inbound, counted
    # Outside the router, so that its checks hold for unknown paths and CORS preflights
    # too (Litestar runs middleware only for matched routes, ADR/0015); should Litestar
    # stop calling `asgi_handler`, tests/adapters/test_hostile_requests.py fails.
    app.asgi_handler = FrontDoor(app.asgi_handler, config, counted)
    return app

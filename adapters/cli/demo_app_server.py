"""The demo's third-party app, "Order lookup": registered for the demo tenant and served
from its own loopback origin, as another company would serve it (docs/proxy.md).

Its pages (adapters/cli/demo_app) load the client SDK from their own origin, and read
the app's id, key and the proxy's origin from /config.js, written here: the key is
drawn anew at each start (rotating the old one), so no key is kept on disk.
"""

import json
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from litestar import Litestar, Response, get
from litestar.static_files import create_static_files_router

from calldesk.apps.client_apps import AppCommand, InstallApp, RegisterApp
from calldesk.apps.desk import Desk
from calldesk.domain.app_paths import Endpoint, Method, Scope
from calldesk.domain.client_apps import AppStatus
from calldesk.domain.errors import NotFound

DEMO_APP_PAGES = Path(__file__).parent / "demo_app"
SDK = Path(__file__).parent.parent / "http" / "pages" / "calldesk-app.js"
DEMO_APP = "order-lookup"

#: What the order lookup reads and writes beside a call: the agent's calls, the
#: caller's contact, and an internal note on the contact's feed.
ORDER_LOOKUP_ENDPOINTS = (
    Endpoint(Method.GET, "/agents/{agent}/calls", Scope.CALLS_READ),
    Endpoint(Method.GET, "/records/contact/{id}", Scope.RECORDS_READ),
    Endpoint(
        Method.POST,
        "/agents/{agent}/records/{kind}/{id}/publisher/drafts",
        Scope.FEED_WRITE,
    ),
    Endpoint(
        Method.PUT,
        "/agents/{agent}/records/{kind}/{id}/publisher/drafts/{draft}",
        Scope.FEED_WRITE,
    ),
    Endpoint(
        Method.POST,
        "/agents/{agent}/records/{kind}/{id}/publisher/drafts/{draft}/publish",
        Scope.FEED_WRITE,
    ),
)


def demo_app_installed(
    desk: Desk, tenant: str, agent: str, origin: str, at: datetime
) -> str:
    """The order lookup registered, published and installed for the agent with every
    scope it needs; its fresh key. An administrator's suspension or revocation stays."""
    key = secrets.token_urlsafe(32)
    command = AppCommand(tenant, app=DEMO_APP, at=at)
    try:
        view = desk.rotate_app_key(command, key)
    except NotFound:
        registration = RegisterApp(
            tenant,
            app=DEMO_APP,
            name="Order lookup",
            origins=(origin,),
            entry_url=f"{origin}/index.html",
            endpoints=ORDER_LOOKUP_ENDPOINTS,
            rate_limit=600,
            at=at,
        )
        view = desk.register_app(registration, key)
    if view.status is AppStatus.REGISTERED:
        desk.publish_app(command)
    scopes = tuple(sorted({e.scope for e in ORDER_LOOKUP_ENDPOINTS}, key=lambda s: s.value))
    desk.install_app(
        InstallApp(
            tenant,
            app=DEMO_APP,
            agent=agent,
            parameters={"shop": "Analytical Engines web shop"},
            scopes=scopes,
            at=at,
        )
    )
    return key


def demo_app_origin(
    key: str, proxy_origin: str, console_origin: str, app: str = DEMO_APP
) -> Litestar:
    """The app's own web server: its pages, its copy of the SDK and its configuration;
    only calldesk's proxy frame inside the console may frame it (CSP frame-ancestors,
    zoid #361, checks every ancestor: the console's origin too)."""
    headers = {
        "Content-Security-Policy": f"frame-ancestors {proxy_origin} {console_origin}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    config = {"app": app, "key": key, "proxyOrigin": proxy_origin}

    @get("/config.js", sync_to_thread=False)
    def configuration() -> Response[str]:
        script = f"export const config = {json.dumps(config)};\n"
        return Response(script, media_type="text/javascript", headers=headers)

    @get("/calldesk-app.js", sync_to_thread=False)
    def sdk() -> Response[str]:
        return Response(SDK.read_text(), media_type="text/javascript", headers=headers)

    def framed_only_by_the_proxy(response: Any) -> Any:
        response.headers.update(headers)
        return response

    return Litestar(
        route_handlers=[
            configuration,
            sdk,
            create_static_files_router(path="/", directories=[DEMO_APP_PAGES]),
        ],
        after_request=framed_only_by_the_proxy,
        openapi_config=None,
    )

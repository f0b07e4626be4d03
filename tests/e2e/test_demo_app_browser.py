"""`calldesk demo` as a person runs it, in Debian's chromium: the order lookup, served
from its own loopback origin by the demo, opens beside the call in the console and
connects through calldesk's proxy frame, and its server lets only that frame embed it
(docs/proxy.md, ADR/0031)."""

import sys
from pathlib import Path

import httpx
from playwright.sync_api import Browser, expect
from support.serve_process import free_port, killed_if_left_running

from calldesk.adapters.cli.directory import DIRECTORY_PATH_VARIABLE
from calldesk.apps.settings import DATABASE_URL_VARIABLE


def test_the_demos_order_lookup_opens_beside_the_call_and_connects_through_the_proxy(
    browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    command = [str(Path(sys.executable).with_name("calldesk")), "demo", "--port", str(port)]
    environment = {
        "PATH": "/usr/bin:/bin",
        "COLUMNS": "300",
        DATABASE_URL_VARIABLE: f"sqlite:///{tmp_path}/calldesk.db",
        DIRECTORY_PATH_VARIABLE: str(tmp_path / "calldesk-directory.db"),
    }
    with killed_if_left_running(command, environment) as demo:
        assert demo.stdout is not None
        opened = next(line for line in demo.stdout if "Open the console: " in line)
        console = opened.split(": ", 1)[1].strip()
        assert f"served from http://127.0.0.1:{port + 1}" in next(demo.stdout)
        framing = httpx.get(f"http://127.0.0.1:{port + 1}/index.html")
        assert framing.headers["content-security-policy"] == (
            f"frame-ancestors http://localhost:{port} http://127.0.0.1:{port}"
        )
        page = browser.new_page()
        try:
            page.goto(console)
            page.get_by_role("button", name="Open Order lookup").click()
            app = page.frame_locator("iframe.app-proxy").frame_locator("iframe")
            expect(app.locator("#connection")).to_contain_text("Connected", timeout=20_000)
        finally:
            page.close()
        demo.send_signal(2)
        demo.wait(15)

"""A third party's origin on loopback: a folder of files served as they are, and a few
generated ones, for browser tests of apps framed in the console (docs/proxy.md)."""

import json
import mimetypes
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGES = Path(__file__).parents[2] / "adapters" / "http" / "pages"
DEMO_APP = Path(__file__).parents[2] / "adapters" / "cli" / "demo_app"


def app_config(app: str, key: str, proxy_origin: str) -> bytes:
    """The demo app's `config.js`: what the app's own server tells its pages."""
    values = {"app": app, "key": key, "proxyOrigin": proxy_origin}
    return f"export const config = {json.dumps(values)};\n".encode()


@contextmanager
def serving_files(folder: Path, extra: Mapping[str, bytes] = {}) -> Iterator[str]:
    """The origin (http://127.0.0.1:PORT) of a server of the folder's files, and of
    `extra` (a path to its content); it stops when the block ends."""

    class Files(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            content = extra.get(path)
            if content is None:
                file = (folder / path.lstrip("/")).resolve()
                if not file.is_relative_to(folder.resolve()) or not file.is_file():
                    self.send_error(404)
                    return
                content = file.read_bytes()
            kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
            if path.endswith(".js"):
                kind = "text/javascript"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: a test's output is its own."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def demo_app_files(config: bytes) -> dict[str, bytes]:
    """The generated files of the demo app's origin: its SDK copy and its config."""
    return {
        "/calldesk-app.js": (PAGES / "calldesk-app.js").read_bytes(),
        "/config.js": config,
    }

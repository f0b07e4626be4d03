"""The browser connector: calldesk over HTTP, with server-sent events (ADR/0010)."""

"""How a connector is exposed: where it listens, whom it trusts, how it pushes."""

import attrs

LOOPBACK = "127.0.0.1"


@attrs.frozen
class ConnectorConfig:
    """Safe defaults for a connector on an agent's own machine (the Zoom flaw of 2019).

    It listens on loopback only; it answers only requests whose Host is one of its own
    names (DNS rebinding); it takes state-changing requests only from allowed origins;
    it sets no cookies, so a bearer token is the only credential (no CSRF).
    """

    host: str = LOOPBACK
    port: int = 8765
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]")
    allowed_origins: tuple[str, ...] = ()
    max_body_bytes: int = 64 * 1024
    heartbeat_seconds: float = 15.0
    poll_seconds: float = 0.25
    stream_buffer: int = 512
    replay_limit: int = 10_000
    #: The address vendors call the webhooks at, when a proxy or tunnel stands between
    #: (their signatures cover the URL they called); None: the request's own URL.
    public_base_url: str | None = None

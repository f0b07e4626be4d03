"""The bearer token of a stream, checked again while the stream is served (ADR/0030).

A request's token is checked once, before its handler runs; a stream then lasts for
hours. So every stream the connector serves checks its token again, as the request was
checked (`admitted`: the token, what the route reaches, the agent of its path), before
it sends what it read and at each heartbeat. Once the token no longer lets it in
(revoked, expired, or no longer reaching the route), the stream's last message is a
`session-ended` event; its client, reconnecting with that token, is refused with a 401.
"""

import asyncio
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from litestar import Request
from litestar.response import ServerSentEventMessage

from calldesk.adapters.http.auth import admitted
from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.problems import Forbidden
from calldesk.apps.access import Principal
from calldesk.domain.access import Unauthorized
from calldesk.ports.clock import Clock

#: The event that ends a stream whose token no longer lets it in. It has no id: a
#: client that reconnects with another token resumes after what it got.
SESSION_ENDED = "session-ended"


class StreamSession:
    """The token a stream was opened with, and when it was last found good."""

    def __init__(self, admit: Callable[[], Principal], clock: Clock, every: float) -> None:
        self._admit, self._clock = admit, clock
        self._every = timedelta(seconds=every)
        # None: nothing checked yet, so the first `due` is True.
        self._checked_at: datetime | None = None
        self._expires_at: datetime | None = None

    @classmethod
    def of(cls, request: Request[Any, Any, Any]) -> "StreamSession":
        """The session of the request's token, checked again as the request was, with
        the connector's clock, due at each heartbeat."""
        config: ConnectorConfig = request.app.state.config
        return cls(
            partial(admitted, request), request.app.state.clock, config.heartbeat_seconds
        )

    def due(self) -> bool:
        """Whether a check is due without a token issued or revoked since the last one:
        none was made, the token's expiry came, or a heartbeat interval went by."""
        if self._checked_at is None or self._expires_at is None:
            return True
        now = self._clock.now()
        return now >= self._expires_at or now - self._checked_at >= self._every

    async def ended(self) -> ServerSentEventMessage | None:
        """The stream's last message if its token no longer lets it in; None while it
        does. The check reads the token from the store, in a thread."""
        try:
            who = await asyncio.to_thread(self._admit)
        except (Unauthorized, Forbidden) as refused:
            data = json.dumps({"detail": str(refused)})
            return ServerSentEventMessage(data=data, event=SESSION_ENDED)
        self._checked_at, self._expires_at = self._clock.now(), who.expires_at
        return None

"""Server-sent events that resume exactly: each message's id is its place in the log.

One follower per connector follows the log (the EventLog port) and hands each event to
the streams of the agents it concerns: its audience was decided when it was saved
(ADR/0014). This process's saves are handed out as they commit; what other processes
save is read from the log at each poll, or as soon as a gap shows. A stream carries,
with every event, the agent's softphone as of that very event, advanced by its own copy
of the agent and its calls. A stream that reconnects with Last-Event-ID replays the
agent's own events after that id, from the log's index, with the states they had: a
resumed stream sends exactly what a connected one got. A stream whose queue fills (a
stalled client) is closed; it resumes by id.

A stream is served only while its bearer token still lets it in (`StreamSession`,
ADR/0030): a token revoked or expired meanwhile ends it with a `session-ended` event,
and nothing recorded after the revocation is sent.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from litestar.response import ServerSentEventMessage

from calldesk.adapters.http.config import ConnectorConfig
from calldesk.adapters.http.stream_session import StreamSession
from calldesk.apps.call_views import CallView
from calldesk.apps.conversion import converter
from calldesk.apps.presence import AgentView
from calldesk.apps.softphone import SoftphoneProjection
from calldesk.domain.access import AccessToken
from calldesk.domain.crm_records import CrmRecord
from calldesk.domain.record_schemas import RecordSchema
from calldesk.ports.log import EventLog, Logged

logger = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)

#: Events read from the log at a time.
PAGE = 200

#: The topics of the events that move the records' change feed (ADR/0021, ADR/0027).
#: Every event of an aggregate is topic'd under its aggregate's name ("….crm_record.").
FEED_TOPICS = tuple(
    kind.TOPIC.rpartition(".")[0] + "." for kind in (CrmRecord, RecordSchema)
)

#: The topics of the events of bearer tokens ("calldesk.access."): issued, revoked.
TOKEN_TOPICS = (AccessToken.TOPIC.rpartition(".")[0] + ".",)

#: The softphone of (tenant, agent) as of a position, ready to advance event by event.
Projections = Callable[[str, str, int], SoftphoneProjection]


class Stream:
    """One client's queue of what concerns its agent."""

    def __init__(self, tenant: str, agent: str, size: int) -> None:
        self.key = (tenant, agent)
        self.queue: asyncio.Queue[Logged] = asyncio.Queue(size)
        self.overflowed = False
        #: A token was issued or revoked since the stream's token was last checked.
        self.tokens_moved = False

    def offer(self, logged: Logged) -> None:
        try:
            self.queue.put_nowait(logged)
        except asyncio.QueueFull:
            self.overflowed = True  # too far behind: closed, and it resumes by id


class PushHub:
    """Follows the log for every stream of this connector."""

    def __init__(
        self, log: EventLog, projections: Projections, config: ConnectorConfig
    ) -> None:
        self.log, self.projections, self.config = log, projections, config
        self.position = 0
        self.streams: dict[tuple[str, str], set[Stream]] = {}
        self._wake = asyncio.Event()
        self._heard_here: list[Logged] = []  # saves of this process, in order
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reading = True  # a gap is being read from the log: what is heard waits
        self._stopping = False
        self._watchers: set[asyncio.Event] = set()  # the record feeds' streams

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Follow the log until stopped; a read under way finishes first."""
        self._loop = asyncio.get_running_loop()
        stop_hearing = self.log.subscribe(self._recorded_here)
        try:
            await self._follow()
        finally:
            stop_hearing()

    async def _follow(self) -> None:
        """Read the log when woken (after a gap in what was heard) or at each poll (for
        what other processes save); this process's own saves are handed out as heard."""
        self.position = await asyncio.to_thread(self.log.head)
        self._hand_out_heard()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)
            self._wake.clear()
            await self._read_log()

    async def _read_log(self) -> None:
        """Hand out what the log holds after the position, then what was heard."""
        try:
            page = await asyncio.to_thread(self.log.read_after, self.position, PAGE)
        except Exception:
            # Keep following: a store that failed is read again at the next poll, what
            # is heard meanwhile waits if it came after a gap, and the streams catch
            # up by position.
            logger.exception("the push follower could not read the log")
            return
        # What was heard while the log was read may have gone out already.
        self._hand_out_in_order(e for e in page if e.position > self.position)
        if len(page) == PAGE:
            self._wake.set()  # more to read
        self._hand_out_heard()

    def _recorded_here(self, saved: Sequence[Logged]) -> None:
        """Called in the thread that saved: handed to the loop, nothing more."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._heard, list(saved))

    def _heard(self, saved: list[Logged]) -> None:
        """In the loop: a save of this process, handed out at once unless the follower
        is reading a gap from the log, which hands it out after."""
        self._heard_here.extend(saved)
        if not self._reading:
            self._hand_out_heard()

    def _hand_out_heard(self) -> None:
        """Hand out what was heard if it follows the position without a gap; after a
        gap (another process wrote in between) the follower reads the log instead."""
        self._reading = False
        heard, self._heard_here = self._heard_here, []
        fresh = [e for e in heard if e.position > self.position]
        expected = range(self.position + 1, self.position + 1 + len(fresh))
        if [e.position for e in fresh] == list(expected):
            self._hand_out_in_order(fresh)
        else:
            self._reading = True
            self._wake.set()

    def _hand_out_in_order(self, page: Iterable[Logged]) -> None:
        feed_moved = False
        for logged in page:
            self.position = logged.position
            if logged.topic.startswith(TOKEN_TOPICS):
                self._tokens_moved()
            self.hand_out(logged)
            feed_moved = feed_moved or logged.topic.startswith(FEED_TOPICS)
        if feed_moved:
            for watcher in self._watchers:
                watcher.set()

    def _tokens_moved(self) -> None:
        """Every stream checks its token again before it sends what comes after: in
        the log's order, so what was recorded after a revocation waits for the check.
        Tokens change seldom; which stream's token it was is not worth knowing."""
        for streams in self.streams.values():
            for stream in streams:
                stream.tokens_moved = True

    def watch(self) -> asyncio.Event:
        """An event set whenever a record or a schema is saved: a record feed's stream
        then reads its tenant's feed after its cursor (ADR/0027); calls and presence,
        most of the log, wake no stream."""
        watcher = asyncio.Event()
        self._watchers.add(watcher)
        return watcher

    def unwatch(self, watcher: asyncio.Event) -> None:
        self._watchers.discard(watcher)

    def hand_out(self, logged: Logged) -> None:
        """Queue a recorded event on the streams of the agents it concerns."""
        audience = logged.audience
        if audience is None:
            return
        for agent in audience.agents:
            for stream in self.streams.get((audience.tenant, agent), ()):
                stream.offer(logged)

    def open(self, tenant: str, agent: str) -> Stream:
        stream = Stream(tenant, agent, self.config.stream_buffer)
        self.streams.setdefault(stream.key, set()).add(stream)
        return stream

    def close(self, stream: Stream) -> None:
        self.streams.get(stream.key, set()).discard(stream)

    async def messages(
        self,
        tenant: str,
        agent: str,
        last_seen: int | None,
        session: StreamSession | None = None,
    ) -> AsyncIterator[ServerSentEventMessage]:
        """The stream of one agent: replay after `last_seen`, then live, with heartbeats.

        Without an id, or past `replay_limit` of the agent's own missed events, the
        stream starts from a snapshot of the softphone at the log's head instead. With
        a session (the connector's route always gives one), it ends with the session's
        last message once its token no longer lets it in; without, the caller vouches.
        """
        stream = self.open(tenant, agent)
        checked = _Checks(stream, session)
        try:
            head = await asyncio.to_thread(self.log.head)
            if last_seen is not None and last_seen > head:
                last_seen = None  # an id this log never gave: start afresh
            frames = _Frames(await self._projection(tenant, agent, last_seen))
            if last_seen is None:
                snapshot = await self._snapshot(frames, stream)
                if last := await checked.ended(now=True):
                    yield last
                    return
                yield snapshot
            else:
                replayed = 0
                async for page in self._replay(stream, last_seen):
                    replayed += len(page)
                    if replayed > self.config.replay_limit:
                        snapshot = await self._snapshot(frames, stream)
                        if last := await checked.ended(now=True):
                            yield last
                            return
                        yield snapshot
                        break
                    if last := await checked.ended(now=True):  # read from the log
                        yield last
                        return
                    for logged in page:
                        if frame := frames.of(logged):
                            yield frame
            while not stream.overflowed:
                try:
                    first = await asyncio.wait_for(
                        stream.queue.get(), self.config.heartbeat_seconds
                    )
                except TimeoutError:
                    if last := await checked.ended(now=True):
                        yield last
                        return
                    yield ServerSentEventMessage(comment="heartbeat", data=None)
                    continue
                queued = _with_queued(first, stream)
                if last := await checked.ended(now=False):
                    yield last
                    return
                for logged in queued:
                    if logged.position > frames.sent and (frame := frames.of(logged)):
                        yield frame
        finally:
            self.close(stream)

    async def _projection(
        self, tenant: str, agent: str, as_of: int | None
    ) -> SoftphoneProjection:
        position = await asyncio.to_thread(self.log.head) if as_of is None else as_of
        return await asyncio.to_thread(self.projections, tenant, agent, position)

    async def _snapshot(self, frames: "_Frames", stream: Stream) -> ServerSentEventMessage:
        """The softphone at the log's head, from which the stream goes on live."""
        frames.projection = await self._projection(*stream.key, None)
        return frames.snapshot()

    async def _replay(self, stream: Stream, after: int) -> AsyncIterator[Sequence[Logged]]:
        """The agent's own events in the log after `after`, a page at a time."""
        tenant, agent = stream.key
        while True:
            page = await asyncio.to_thread(
                self.log.read_concerning, tenant, agent, after, PAGE
            )
            if page:
                yield page
            if len(page) < PAGE:
                return
            after = page[-1].position


class _Checks:
    """When a stream's token is checked again: before anything read from the log is
    sent and at each heartbeat (`now`); before live frames, only when the hub saw a
    token issued or revoked since the last check, or when the session is due (the
    token's expiry came, or a heartbeat interval went by)."""

    def __init__(self, stream: Stream, session: StreamSession | None) -> None:
        self.stream, self.session = stream, session

    async def ended(self, now: bool) -> ServerSentEventMessage | None:
        session = self.session
        if session is None:
            return None
        if not (now or self.stream.tokens_moved or session.due()):
            return None
        # Cleared before the check: a token event handed out during it is checked for
        # next time, and what was queued before the check was recorded before it.
        self.stream.tokens_moved = False
        return await session.ended()


class _Frames:
    """Frames of one stream, each with the softphone as of its event, encoded once a
    state: an event changes the agent or one call, so the JSON of each is kept by
    version and the state is put together from them (docs/benchmarks.md, push latency).
    """

    def __init__(self, projection: SoftphoneProjection) -> None:
        self.projection = projection
        self._state: str | None = None
        self._encoded_views: dict[UUID, tuple[int, str]] = {}

    @property
    def sent(self) -> int:
        return self.projection.position

    def snapshot(self) -> ServerSentEventMessage:
        self._state = None
        return _message(self._encoded(), "snapshot", self.sent, None)

    def of(self, logged: Logged) -> ServerSentEventMessage | None:
        """The event's frame; none for events from before the agent was registered."""
        if self.projection.apply(logged):
            self._state = None
        if self.projection.agent is None:
            return None
        return _message(self._encoded(), logged.topic, logged.position, logged)

    def _encoded(self) -> str:
        """The state as `json.dumps(converter.unstructure(projection.view()))` gives it."""
        if self._state is None:
            agent, calls = self.projection.agent, self.projection.shown_calls()
            assert agent is not None
            kept, self._encoded_views = self._encoded_views, {}
            calls_json = ", ".join(self._view_json(kept, c, CallView.of) for c in calls)
            agent_json = self._view_json(kept, agent, AgentView.of)
            self._state = f'{{"agent": {agent_json}, "calls": [{calls_json}]}}'
        return self._state

    def _view_json(
        self, kept: dict[UUID, tuple[int, str]], aggregate: A, view: Callable[[A], object]
    ) -> str:
        """The JSON of the aggregate's view, encoded again only when its version moved."""
        version_and_json = kept.get(aggregate.id)
        if version_and_json is None or version_and_json[0] != aggregate.version:
            version_and_json = (
                aggregate.version,
                json.dumps(converter.unstructure(view(aggregate))),
            )
        self._encoded_views[aggregate.id] = version_and_json
        return version_and_json[1]


def _with_queued(first: Logged, stream: Stream) -> list[Logged]:
    """The first recorded event, and every one queued behind it already."""
    drained = [first]
    while not stream.queue.empty():
        drained.append(stream.queue.get_nowait())
    return drained


def _message(
    state: str, event: str, position: int, logged: Logged | None
) -> ServerSentEventMessage:
    """A frame: its position, the agent's state (JSON text already), what was recorded."""
    data = f'{{"position": {position}, "state": {state}'
    if logged is not None:
        about = {
            "topic": logged.topic,
            "aggregate": str(logged.originator_id),
            "version": logged.originator_version,
        }
        data += f', "recorded": {json.dumps(about)}'
    return ServerSentEventMessage(data=data + "}", event=event, id=position)

"""Server-sent events that resume exactly: each message's id is its place in the log.

One follower per connector reads the application's notification log once, works out
which agents each event concerns, and hands it to their streams' bounded queues. It
wakes when this process records something and polls for what other processes record.
A stream that reconnects with Last-Event-ID first replays the log after that id, then
goes live, skipping what it already sent: nothing missed, nothing twice, also across a
restart. A stream whose queue fills (a stalled client) is closed; it resumes by id.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable, Mapping

import attrs
from eventsourcing.persistence import Notification
from litestar.response import ServerSentEventMessage

from calldesk.adapters.http.config import ConnectorConfig
from calldesk.apps.conversion import converter
from calldesk.apps.desk import Desk
from calldesk.apps.softphone import Audience, Softphone
from calldesk.domain.errors import NotFound

logger = logging.getLogger(__name__)

#: Notifications read from the log at a time.
PAGE = 200


@attrs.frozen
class Recorded:
    """One notification, with the agents it concerns."""

    position: int
    topic: str
    aggregate: str
    version: int
    audience: Audience | None
    #: The softphone state, as JSON text, of each (tenant, agent) it concerns that had
    #: a stream open when it was saved: read as of its save, in the thread that saved.
    states: Mapping[tuple[str, str], str] = attrs.field(factory=dict, eq=False)


class Stream:
    """One client's queue of what concerns its agent."""

    def __init__(self, tenant: str, agent: str, size: int) -> None:
        self.key = (tenant, agent)
        self.queue: asyncio.Queue[Recorded] = asyncio.Queue(size)
        self.overflowed = False

    def offer(self, recorded: Recorded) -> None:
        try:
            self.queue.put_nowait(recorded)
        except asyncio.QueueFull:
            self.overflowed = True  # too far behind: closed, and it resumes by id


class PushHub:
    """Follows the log for every stream of this connector."""

    def __init__(self, desk: Desk, config: ConnectorConfig) -> None:
        self.desk, self.config = desk, config
        self.position = 0
        self.streams: dict[tuple[str, str], set[Stream]] = {}
        self._wake = asyncio.Event()
        self._heard_here: list[Recorded] = []  # saves of this process, in order
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reading = True  # a gap is being read from the log: what is heard waits
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Follow the log until stopped; a read under way finishes first."""
        self._loop = asyncio.get_running_loop()
        stop_hearing = self.desk.on_recorded(self._recorded_here)
        try:
            await self._follow()
        finally:
            stop_hearing()

    async def _follow(self) -> None:
        """Read the log when woken (after a gap in what was heard) or at each poll (for
        what other processes save); this process's own saves are handed out as heard."""
        self.position = await asyncio.to_thread(self.desk.head)
        self._hand_out_heard()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)
            self._wake.clear()
            await self._read_log()

    async def _read_log(self) -> None:
        """Hand out what the log holds after the position, then what was heard."""
        try:
            page = await asyncio.to_thread(self.read_after, self.position)
        except Exception:
            # Keep following: a store that failed is read again at the next poll, what
            # is heard meanwhile waits if it came after a gap, and the streams catch
            # up by position.
            logger.exception("the push follower could not read the log")
            return
        # What was heard while the log was read may have gone out already.
        self._hand_out_in_order(r for r in page if r.position > self.position)
        if len(page) == PAGE:
            self._wake.set()  # more to read
        self._hand_out_heard()

    def _recorded_here(self, notifications: list[Notification]) -> None:
        """Called in the thread that saved, which holds the desk's writer lock: the
        audiences, and the states of the agents streaming, are read here, where no lock
        is waited for and nothing newer is seen, and handed to the loop. If that fails,
        the follower is only woken, and reads the log itself."""
        if self._loop is None:
            return
        try:
            streaming = self._streaming()
            recorded = self._with_audiences(notifications, streaming)
            states = self._states_of(recorded, streaming)
            recorded = [attrs.evolve(r, states=states) for r in recorded]
        except Exception:
            logger.exception("the push follower could not read the audiences of a save")
            recorded = []
        self._loop.call_soon_threadsafe(self._heard, recorded)

    def _streaming(self) -> frozenset[tuple[str, str]]:
        """The (tenant, agent) of every stream open, copied at once: the loop opens and
        closes streams while other threads read this."""
        return frozenset(self.streams)

    def _states_of(
        self, recorded: Iterable[Recorded], streaming: frozenset[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        """The softphone state of each agent these concern who has a stream open."""
        concerned = {
            (r.audience.tenant, agent)
            for r in recorded
            if r.audience is not None
            for agent in r.audience.agents
        }
        states = {}
        for tenant, agent in concerned & streaming:
            with contextlib.suppress(NotFound):
                states[tenant, agent] = _json(self.desk.softphone(tenant, agent))
        return states

    def _heard(self, recorded: list[Recorded]) -> None:
        """In the loop: a save of this process, handed out at once unless the follower
        is reading a gap from the log, which hands it out after."""
        if not recorded:  # its audiences could not be read: the log is read instead
            self._wake.set()
            return
        self._heard_here.extend(recorded)
        if not self._reading:
            self._hand_out_heard()

    def _hand_out_heard(self) -> None:
        """Hand out what was heard if it follows the position without a gap; after a
        gap (another process wrote in between) the follower reads the log instead."""
        self._reading = False
        heard, self._heard_here = self._heard_here, []
        fresh = [r for r in heard if r.position > self.position]
        expected = range(self.position + 1, self.position + 1 + len(fresh))
        if [r.position for r in fresh] == list(expected):
            self._hand_out_in_order(fresh)
        else:
            self._reading = True
            self._wake.set()

    def _hand_out_in_order(self, page: Iterable[Recorded]) -> None:
        for recorded in page:
            self.position = recorded.position
            self.hand_out(recorded)

    def read_after(self, position: int, limit: int = PAGE) -> list[Recorded]:
        """Up to `limit` notifications after `position`, with their audiences."""
        notifications = self.desk.recorder.select_notifications(
            start=position + 1, limit=limit
        )
        return self._with_audiences(notifications, self._streaming())

    def _with_audiences(
        self,
        notifications: Iterable[Notification],
        streaming: frozenset[tuple[str, str]],
    ) -> list[Recorded]:
        """Each notification, with whom it concerns; with nobody streaming, no time is
        spent on audiences no one reads."""
        return [
            Recorded(
                n.id,
                n.topic,
                str(n.originator_id),
                n.originator_version,
                self.desk.audience(n.originator_id, n.topic, streaming)  # type: ignore[arg-type]
                if streaming
                else None,
            )
            for n in notifications
        ]

    def hand_out(self, recorded: Recorded) -> None:
        """Queue a recorded event on the streams of the agents it concerns."""
        audience = recorded.audience
        if audience is None:
            return
        for agent in audience.agents:
            for stream in self.streams.get((audience.tenant, agent), ()):
                stream.offer(recorded)

    def open(self, tenant: str, agent: str) -> Stream:
        stream = Stream(tenant, agent, self.config.stream_buffer)
        self.streams.setdefault(stream.key, set()).add(stream)
        return stream

    def close(self, stream: Stream) -> None:
        self.streams.get(stream.key, set()).discard(stream)

    async def messages(
        self, tenant: str, agent: str, last_seen: int | None
    ) -> AsyncIterator[ServerSentEventMessage]:
        """The stream of one agent: replay after `last_seen`, then live, with heartbeats."""
        stream = self.open(tenant, agent)
        try:
            sent = last_seen
            if last_seen is None or await self._too_far_behind(last_seen):
                sent = await asyncio.to_thread(self.desk.head)
                state = await self._state(stream)
                yield _message(state, "snapshot", sent, None)
            else:
                async for page in self._replay(stream, last_seen):
                    state = await self._state(stream)
                    for recorded in page:
                        sent = recorded.position
                        yield _message(state, recorded.topic, sent, recorded)
            assert sent is not None
            while not stream.overflowed:
                try:
                    first = await asyncio.wait_for(
                        stream.queue.get(), self.config.heartbeat_seconds
                    )
                except TimeoutError:
                    yield ServerSentEventMessage(comment="heartbeat", data=None)
                    continue
                fresh = [r for r in _with_queued(first, stream) if r.position > sent]
                if not fresh:
                    continue
                # One state for everything queued: one signal records several events
                # at once, and each frame shows the state as of the newest of them.
                saved_state = fresh[-1].states.get(stream.key)
                if saved_state is None:  # read from the log: another process saved it
                    saved_state = await self._state(stream)
                for recorded in fresh:
                    sent = recorded.position
                    yield _message(saved_state, recorded.topic, sent, recorded)
        finally:
            self.close(stream)

    async def _too_far_behind(self, last_seen: int) -> bool:
        head = await asyncio.to_thread(self.desk.head)
        return head - last_seen > self.config.replay_limit

    async def _replay(self, stream: Stream, after: int) -> AsyncIterator[list[Recorded]]:
        """What concerns the stream's agent in the log after `after`, a page at a time."""
        tenant, agent = stream.key
        while True:
            page = await asyncio.to_thread(self.read_after, after)
            concerning = list(_concerning(page, tenant, agent))
            if concerning:
                yield concerning
            if len(page) < PAGE:
                return
            after = page[-1].position

    async def _state(self, stream: Stream) -> str:
        """The agent's softphone state now, as JSON text."""
        return _json(await asyncio.to_thread(self.desk.softphone, *stream.key))


def _json(state: Softphone) -> str:
    """Encoded once for all the frames that carry it."""
    return json.dumps(converter.unstructure(state))


def _with_queued(first: Recorded, stream: Stream) -> list[Recorded]:
    """The first recorded event, and every one queued behind it already."""
    drained = [first]
    while not stream.queue.empty():
        drained.append(stream.queue.get_nowait())
    return drained


def _message(
    state: str, event: str, position: int, recorded: Recorded | None
) -> ServerSentEventMessage:
    """A frame: its position, the agent's state (JSON text already), what was recorded."""
    data = f'{{"position": {position}, "state": {state}'
    if recorded is not None:
        about = {
            "topic": recorded.topic,
            "aggregate": recorded.aggregate,
            "version": recorded.version,
        }
        data += f', "recorded": {json.dumps(about)}'
    return ServerSentEventMessage(data=data + "}", event=event, id=position)


def _concerning(page: Iterable[Recorded], tenant: str, agent: str) -> Iterable[Recorded]:
    for recorded in page:
        audience = recorded.audience
        if audience is not None and audience.tenant == tenant and agent in audience.agents:
            yield recorded

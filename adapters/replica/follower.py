"""The live follower: while the device runs, it keeps the replica current with the
server's change feed and sends what waits, without a person asking (ADR/0024).

Every `interval`, and at each announcement of the server's stream of the feed, it
asks the replica what to do now: catch up with the feed (a pull applied to the main
table), run a full sync when changes wait to be sent, or wait out the backoff after
the server was unreachable (the next attempt's time is persisted, so a failed upload
is retried on time, not at the next local write).

A stream that breaks is opened again after a delay that grows with each break in a
row. Once the server refuses the device's token (a refused run, a 401, or the stream's
`session-ended`), the follower stops for good (ADR/0030): trying the same token again
is no use, and the replica's status says why until a run with a valid token succeeds.
"""

import logging
import random
import threading
from collections.abc import Callable, Iterable

from calldesk.adapters.replica.feed_events import FeedStream
from calldesk.apps.replica import Replica
from calldesk.apps.replica_state import NextRun
from calldesk.apps.replica_sync import RunReport
from calldesk.domain.replica_outcomes import retry_delay
from calldesk.ports.replica import BadServerAnswer, ServerUnreachable, SessionExpired

logger = logging.getLogger(__name__)

#: How often the follower looks at the feed; a change reaches the device within it.
INTERVAL_SECONDS = 1.0


class Reconnects:
    """How long to wait before the stream is opened again: doubling from a second to
    at most five minutes with each break in a row (`retry_delay`), each delay spread
    over its upper half by `spread` (0 to 1) so that devices cut off together do not
    come back together; from the first again once a connection works."""

    def __init__(self, spread: Callable[[], float] = random.random) -> None:
        self._spread = spread
        self._breaks = 0

    def connected(self) -> None:
        self._breaks = 0

    def next_delay(self) -> float:
        """The delay after one more break, in seconds."""
        self._breaks += 1
        longest = retry_delay(self._breaks).total_seconds()
        return longest * (1 + self._spread()) / 2


class ReplicaFollower:
    """Follows the server for one replica: a thread that looks every `interval`, and
    with a stream, a thread that listens to it (`listen`).

    `pause(seconds)` waits out a reconnect's delay and says whether the follower was
    stopped meanwhile; by default it waits on the follower's stop."""

    def __init__(
        self,
        replica: Replica,
        interval: float = INTERVAL_SECONDS,
        stream: FeedStream | None = None,
        reconnects: Reconnects | None = None,
        pause: Callable[[float], bool] | None = None,
    ) -> None:
        self.replica = replica
        self.interval = interval
        self.stream = stream
        self.reconnects = reconnects or Reconnects()
        self._stop = threading.Event()
        self._pause = pause or self._stop.wait
        self.threads: list[threading.Thread] = []

    @property
    def following(self) -> bool:
        """False once stopped, by `stop` or by the server refusing the token."""
        return not self._stop.is_set()

    def step(self) -> RunReport | None:
        """One look: None while it waits out a backoff."""
        next_run = self.replica.state.next_run(self.replica.clock.now())
        if next_run is NextRun.WAIT:
            return None
        if next_run is NextRun.SEND:
            return self.replica.sync()
        return self.replica.catch_up()

    def follow(self, announcements: Iterable[object]) -> None:
        """A look at each announcement that the feed moved (the server's stream), so a
        change reaches the device within a request or two, until stopped."""
        for _ in announcements:
            if self._stop.is_set():
                return
            self._step_logged()

    def listen(self) -> None:
        """The stream from the replica's cursor, a look at each announcement, opened
        again after each break (`reconnects`, `pause`), until the follower is stopped
        or the server refuses the token."""
        assert self.stream is not None
        while not self._stop.is_set():
            cursor = self.replica.state.cursor()
            try:
                self.follow(self.stream.announcements(cursor, self.reconnects.connected))
            except SessionExpired as refused:
                self.replica.record_refused_session(refused)
                self._refused(str(refused))
                return
            except (ServerUnreachable, BadServerAnswer) as broken:
                if self._stop.is_set():
                    return  # closed by `stop`
                logger.warning("the feed's stream broke, opened again soon: %s", broken)
            if self._pause(self.reconnects.next_delay()):
                return

    def start(self) -> None:
        self.threads = [threading.Thread(target=self._look, name="replica-follower")]
        if self.stream is not None:
            self.threads.append(threading.Thread(target=self.listen, name="replica-stream"))
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.stream is not None:
            self.stream.close()  # ends the read the stream's thread waits in
        for thread in self.threads:
            thread.join()

    def _look(self) -> None:
        while not self._stop.is_set():
            self._step_logged()
            self._stop.wait(self.interval)

    def _step_logged(self) -> None:
        """A step whose fault is logged, not fatal: the follower keeps following (the
        run's error is in the replica's status), unless the server refused the token."""
        try:
            report = self.step()
        except Exception:
            logger.exception("the replica follower's step failed")
            return
        if report is not None and report.session_refused:
            self._refused(report.error or "the server refused the token")

    def _refused(self, why: str) -> None:
        """The follower stops, both its threads: the stream's read is ended."""
        logger.warning("the replica stopped following the server: %s", why)
        self._stop.set()
        if self.stream is not None:
            self.stream.close()

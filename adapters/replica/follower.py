"""The live follower: while the device runs, it keeps the replica current with the
server's change feed and sends what waits, without a person asking (ADR/0024).

Every `interval`, and at each announcement of the server's stream of the feed, it
asks the replica what to do now: catch up with the feed (a pull applied to the main
table), run a full sync when changes wait to be sent, or wait out the backoff after
the server was unreachable (the next attempt's time is persisted, so a failed upload
is retried on time, not at the next local write).
"""

import logging
import threading
from collections.abc import Iterable

from calldesk.adapters.replica.feed_events import FeedStream
from calldesk.apps.replica import Replica
from calldesk.apps.replica_state import NextRun
from calldesk.apps.replica_sync import RunReport
from calldesk.ports.replica import ServerUnreachable, SessionExpired

logger = logging.getLogger(__name__)

#: How often the follower looks at the feed; a change reaches the device within it.
INTERVAL_SECONDS = 1.0


class ReplicaFollower:
    """Follows the server for one replica: a thread that looks every `interval`, and
    with a stream, a thread that looks at each of its announcements."""

    def __init__(
        self,
        replica: Replica,
        interval: float = INTERVAL_SECONDS,
        stream: FeedStream | None = None,
    ) -> None:
        self.replica = replica
        self.interval = interval
        self.stream = stream
        self._stop = threading.Event()
        self.threads: list[threading.Thread] = []

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

    def start(self) -> None:
        self.threads = [threading.Thread(target=self._look, name="replica-follower")]
        if self.stream is not None:
            self.threads.append(
                threading.Thread(target=self._listen, name="replica-stream")
            )
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
        run's error is in the replica's status)."""
        try:
            self.step()
        except Exception:
            logger.exception("the replica follower's step failed")

    def _listen(self) -> None:
        """The stream from the replica's cursor, opened again after it breaks (each
        look in between is the other thread's)."""
        assert self.stream is not None
        while not self._stop.is_set():
            try:
                self.follow(self.stream.announcements(self.replica.state.cursor()))
            except (ServerUnreachable, SessionExpired):
                self._stop.wait(self.interval)

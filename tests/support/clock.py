"""A clock for tests."""

from datetime import UTC, datetime, timedelta


class Clock:
    """Time that moves only when a test moves it, so every recorded instant is known."""

    def __init__(self, start: datetime = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def now(self) -> datetime:
        """The Clock port, for the adapters under test."""
        return self.current

    def advance(self, seconds: float = 1) -> datetime:
        self.current += timedelta(seconds=seconds)
        return self.current

"""How often an app may ask: a budget of requests a minute that refills as time passes
(a token bucket), with the time given, never read."""

import math
from datetime import datetime

import attrs


@attrs.define
class RequestBudget:
    """Up to `per_minute` requests in any burst, refilled at `per_minute` a minute."""

    per_minute: int
    left: float
    checked_at: datetime

    @classmethod
    def full(cls, per_minute: int, at: datetime) -> "RequestBudget":
        return cls(per_minute, float(per_minute), at)

    def take(self, at: datetime) -> int | None:
        """Spend one request; None when there was one to spend, else how many whole
        seconds until there is."""
        elapsed = max((at - self.checked_at).total_seconds(), 0.0)
        self.left = min(self.per_minute, self.left + elapsed * self.per_minute / 60)
        self.checked_at = max(at, self.checked_at)
        if self.left >= 1:
            self.left -= 1
            return None
        return max(1, math.ceil((1 - self.left) * 60 / self.per_minute))

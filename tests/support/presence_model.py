"""A plain reference model of agent presence, written from the rules in ADR/0004.

It shares no code with calldesk.domain.agents: the stateful tests drive both with the
same commands and check they agree on the state, the time it was entered, and on which
commands are refused, recorded, or change nothing.
"""

from datetime import datetime

import attrs

from calldesk.domain.agents import (
    AgentHasCallWork,
    AgentLoggedOut,
    AgentNotAvailable,
    NoSuchCallWork,
)
from calldesk.domain.errors import Refused

RECORDED = "recorded"
UNCHANGED = "unchanged"
Expected = str | type[Refused]


@attrs.define
class ReferencePresence:
    since: datetime
    presence: str = "logged-out"
    reason: str | None = None
    work: str = "idle"
    call: str | None = None

    @property
    def state(self) -> str:
        return self.presence if self.work == "idle" else self.work

    def log_in(self, at: datetime) -> Expected:
        if self.presence != "logged-out":
            return UNCHANGED
        return self._pick("not-ready", None, at)

    def go_available(self, at: datetime) -> Expected:
        if self.presence == "logged-out":
            return AgentLoggedOut
        if self.presence == "available":
            return UNCHANGED
        return self._pick("available", None, at)

    def go_not_ready(self, reason: str, at: datetime) -> Expected:
        if self.presence == "logged-out":
            return AgentLoggedOut
        if self.presence == "not-ready" and self.reason == reason:
            return UNCHANGED
        return self._pick("not-ready", reason, at)

    def log_out(self, at: datetime) -> Expected:
        if self.presence == "logged-out":
            return UNCHANGED
        if self.work != "idle":
            return AgentHasCallWork
        return self._pick("logged-out", None, at)

    def start_call_work(self, call: str, at: datetime) -> Expected:
        if self.work != "idle" or self.presence != "available":
            return AgentNotAvailable
        self.work, self.call, self.since = "busy", call, at
        return RECORDED

    def start_after_call_work(self, call: str, at: datetime) -> Expected:
        if self.work != "busy" or self.call != call:
            return NoSuchCallWork
        self.work, self.since = "after-call-work", at
        return RECORDED

    def finish_after_call_work(self, at: datetime) -> Expected:
        if self.work != "after-call-work":
            return NoSuchCallWork
        self.work, self.call, self.since = "idle", None, at
        return RECORDED

    def _pick(self, presence: str, reason: str | None, at: datetime) -> Expected:
        self.presence, self.reason = presence, reason
        if self.work == "idle":
            self.since = at
        return RECORDED

"""A device's sync run: the seed's stages in their order, and when to run them again.

The order is the seed's (L52-L82) and it matters: server deletes before local work on
the same record, local deletes before creates (a delete of a record created offline
cancels its create), creates in FIFO order before the merge (changes refer to what they
create), and the merge before the pulled rows move to the main table (ADR/0024).
"""

import enum

import attrs

from calldesk.domain.errors import InvalidValue

#: A busy server could keep a device iterating for ever; the live follower takes over.
MAX_ITERATIONS = 5


class SyncStage(enum.Enum):
    """The stages of one iteration, in the order they run."""

    SESSION = "session"
    SCHEMA = "schema"
    PULL = "pull"
    SERVER_DELETES = "server-deletes"
    LOCAL_DELETES = "local-deletes"
    CREATES = "creates"
    MERGE = "merge"
    MOVE_PULLED = "move-pulled"
    FINISH = "finish"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def following(self) -> "SyncStage | None":
        """The stage after this one in an iteration; None after the last."""
        stages = list(SyncStage)
        place = stages.index(self)
        return stages[place + 1] if place + 1 < len(stages) else None


_LABELS = {
    SyncStage.SESSION: "Signing in",
    SyncStage.SCHEMA: "Reading the fields",
    SyncStage.PULL: "Downloading changes",
    SyncStage.SERVER_DELETES: "Removing records deleted on the server",
    SyncStage.LOCAL_DELETES: "Sending deletes",
    SyncStage.CREATES: "Sending new records",
    SyncStage.MERGE: "Merging and sending changes",
    SyncStage.MOVE_PULLED: "Applying downloaded records",
    SyncStage.FINISH: "Finishing",
}


def _iteration(_: object, __: object, iteration: int) -> None:
    if not 1 <= iteration <= MAX_ITERATIONS:
        raise InvalidValue(f"a run has iterations 1 to {MAX_ITERATIONS}, not {iteration}")


@attrs.frozen
class RunProgress:
    """Where a run in progress is: its stage, iteration, and how far through the
    stage (`total` is None while the stage does not know it yet)."""

    stage: SyncStage
    iteration: int = attrs.field(default=1, validator=_iteration)
    done: int = 0
    total: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.done < 0 or (self.total is not None and not self.done <= self.total):
            raise InvalidValue(
                f"a stage has done 0 to its total of {self.total} items, not {self.done}"
            )

    @property
    def fraction(self) -> float | None:
        """How much of the stage is done, from 0 to 1; None when unknown."""
        if self.total is None:
            return None
        return 1.0 if self.total == 0 else self.done / self.total


def another_iteration(iteration: int, pulled: int, pushed: int) -> bool:
    """Whether the run goes round again (L82): it pulled something (its own writes'
    echoes included, which bring back the server's computed fields, L86) or pushed
    something, and it has iterations left."""
    if pulled < 0 or pushed < 0:
        raise InvalidValue("an iteration pulls and pushes no fewer than 0 rows")
    return iteration < MAX_ITERATIONS and (pulled > 0 or pushed > 0)

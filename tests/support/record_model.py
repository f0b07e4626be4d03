"""The reference a CRM record is held to: its history as a list of versions, and the
three-way merge written out plainly (base, current, proposed: a field conflicts when it
changed since the base and the change proposes yet another value)."""

import attrs

from calldesk.domain.crm_records import FieldConflict
from calldesk.domain.record_fields import FieldValue

Values = dict[str, FieldValue]


@attrs.frozen
class Changed:
    fields: Values  # only those that differ from the current values


@attrs.frozen
class Conflicted:
    conflicts: tuple[FieldConflict, ...]


@attrs.frozen
class Gone:
    """The record is deleted: a change is refused, a delete changes nothing."""


@attrs.define
class ReferenceRecord:
    history: list[tuple[Values, bool]]  # each version's values, and whether deleted

    @classmethod
    def created(cls, values: Values) -> "ReferenceRecord":
        return cls([({k: v for k, v in values.items() if v is not None}, False)])

    @property
    def version(self) -> int:
        return len(self.history)

    @property
    def values(self) -> Values:
        return self.history[-1][0]

    @property
    def deleted(self) -> bool:
        return self.history[-1][1]

    def values_at(self, version: int) -> Values:
        return self.history[version - 1][0]

    def change(self, base: int, proposed: Values) -> Changed | Conflicted | Gone:
        """What the change from `base` must do; the model moves on when it applies."""
        if self.deleted:
            return Gone()
        base_values, current = self.values_at(base), self.values
        differing = {f: v for f, v in proposed.items() if current.get(f) != v}
        clashing = tuple(
            FieldConflict(f, base_values.get(f), current.get(f), v)
            for f, v in differing.items()
            if base_values.get(f) != current.get(f)
        )
        if clashing:
            return Conflicted(clashing)
        if differing:
            merged = {**current, **differing}
            self.history.append(({f: v for f, v in merged.items() if v is not None}, False))
        return Changed(differing)

    def delete(self, base: int) -> tuple[str, ...] | Gone | None:
        """The fields changed since `base` (then nothing is deleted), or None: deleted."""
        if self.deleted:
            return Gone()
        base_values, current = self.values_at(base), self.values
        changed = tuple(
            sorted(
                f for f in {*base_values, *current} if base_values.get(f) != current.get(f)
            )
        )
        if changed:
            return changed
        self.history.append((current, True))
        return None

    def restore(self) -> bool:
        if not self.deleted:
            return False
        self.history.append((self.values, False))
        return True

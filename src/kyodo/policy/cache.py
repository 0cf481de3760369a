"""A per-(subject, label) decision cache, dropped for a subject whenever their attributes change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kyodo.policy.decision import Action, Decision, Resource, decide, may_read

if TYPE_CHECKING:
    from kyodo.labels import Label
    from kyodo.policy.subject import Subject


class DecisionCache:
    """Caches read checks and full decisions per subject.

    A subject's entries live while the cached Subject equals the one asked about, so a subject
    whose clearance, nation or grants changed never gets an old answer even before `invalidate`.
    """

    def __init__(self, max_entries_per_subject: int = 65536) -> None:
        self._max = max_entries_per_subject
        self._reads: dict[str, tuple[Subject, dict[Label, bool]]] = {}
        self._decisions: dict[str, tuple[Subject, dict[tuple[Action, Resource], Decision]]] = {}

    def can_read(self, subject: Subject, label: Label) -> bool:
        """The cached boolean read check."""
        entry = self._reads.get(subject.id)
        if entry is None or (entry[0] is not subject and entry[0] != subject):
            entry = (subject, {})
            self._reads[subject.id] = entry
        table = entry[1]
        found = table.get(label)
        if found is None:
            if len(table) >= self._max:
                table.clear()
            found = table[label] = may_read(subject, label)
        return found

    def decide(self, subject: Subject, action: Action, resource: Resource) -> Decision:
        """The cached full decision, reasons included."""
        entry = self._decisions.get(subject.id)
        if entry is None or (entry[0] is not subject and entry[0] != subject):
            entry = (subject, {})
            self._decisions[subject.id] = entry
        table = entry[1]
        key = (action, resource)
        found = table.get(key)
        if found is None:
            if len(table) >= self._max:
                table.clear()
            found = table[key] = decide(subject, action, resource)
        return found

    def invalidate(self, subject_id: str) -> None:
        """Forget everything cached for a subject (call when their attributes change)."""
        self._reads.pop(subject_id, None)
        self._decisions.pop(subject_id, None)

    def clear(self) -> None:
        """Forget everything."""
        self._reads.clear()
        self._decisions.clear()

    def __len__(self) -> int:
        return sum(len(t) for _, t in self._reads.values()) + sum(
            len(t) for _, t in self._decisions.values()
        )

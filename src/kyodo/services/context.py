"""What every service function needs: storage, schemes, decision cache, clock, password hasher."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher

from kyodo.bus.memory import InProcessBus
from kyodo.policy import DecisionCache
from kyodo.services.group_commit import GroupCommit
from kyodo.services.read_cache import ReadCache
from kyodo.services.throttle import LoginThrottle
from kyodo.services.track_owners import TrackOwners
from kyodo.spillage_files import default_rules

if TYPE_CHECKING:
    from collections.abc import Callable

    from kyodo.labels import Label, SchemeRegistry
    from kyodo.services.ports import Bus, Database
    from kyodo.spillage import RuleSet


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ServiceContext:
    """Built once per process (by the app factory or the CLI) and passed to every service call."""

    db: Database
    registry: SchemeRegistry
    session_ttl: timedelta = timedelta(hours=12)
    token_ttl: timedelta = timedelta(days=30)  # an API token's default lifetime
    token_max_ttl: timedelta = timedelta(days=365)  # and the longest it may ask for
    decisions: DecisionCache = field(default_factory=DecisionCache)
    passwords: PasswordHasher = field(default_factory=PasswordHasher)  # argon2id by default
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    clock: Callable[[], datetime] = _utc_now
    bus: Bus = field(default_factory=InProcessBus)
    guard_rules: RuleSet = field(default_factory=default_rules)
    retention_floor_days: int = 365
    track_history_limit: int = 1000
    reads: ReadCache = field(default_factory=ReadCache)
    group_commit: GroupCommit = field(default_factory=GroupCommit)
    track_owners: TrackOwners = field(default_factory=TrackOwners)

    def __post_init__(self) -> None:
        # Transactions publish (after commit) on this context's bus.
        self.db.use_bus(self.bus)

    def unclassified(self) -> Label:
        """The default policy's lowest label, for records that are not classified."""
        scheme = self.registry.scheme(self.registry.default_policy)
        lowest = min(scheme.levels, key=lambda level: level.rank)
        return self.registry.make_label(scheme.policy, lowest.id)

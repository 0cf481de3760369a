"""The spillage guard: rules that flag text more sensitive than its label (pure, no I/O)."""

from kyodo.spillage.config import rules_from_mapping, rules_from_toml
from kyodo.spillage.detectors import (
    find_clock_times,
    find_designators,
    find_dtgs,
    find_latlon,
    find_mgrs,
    find_units,
)
from kyodo.spillage.engine import check
from kyodo.spillage.result import Finding, GuardResult, render_label
from kyodo.spillage.rules import (
    CombinationRule,
    DetectorRule,
    MarkingRule,
    PatternRule,
    ProximityRule,
    Requirement,
    Rule,
    RuleSet,
    Unit,
)
from kyodo.spillage.signals import Context, Signal

__all__ = [
    "CombinationRule",
    "Context",
    "DetectorRule",
    "Finding",
    "GuardResult",
    "MarkingRule",
    "PatternRule",
    "ProximityRule",
    "Requirement",
    "Rule",
    "RuleSet",
    "Signal",
    "Unit",
    "check",
    "find_clock_times",
    "find_designators",
    "find_dtgs",
    "find_latlon",
    "find_mgrs",
    "find_units",
    "render_label",
    "rules_from_mapping",
    "rules_from_toml",
]

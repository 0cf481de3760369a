"""The spillage guard: rules that flag text more sensitive than its label (pure, no I/O)."""

from kyodo.spillage.config import rules_from_mapping, rules_from_toml
from kyodo.spillage.detectors import find_clock_times, find_dtgs, find_latlon, find_mgrs
from kyodo.spillage.engine import check
from kyodo.spillage.result import Finding, GuardResult, render_label
from kyodo.spillage.rules import (
    DetectorRule,
    MarkingRule,
    PatternRule,
    ProximityRule,
    Requirement,
    Rule,
    RuleSet,
    Unit,
)

__all__ = [
    "DetectorRule",
    "Finding",
    "GuardResult",
    "MarkingRule",
    "PatternRule",
    "ProximityRule",
    "Requirement",
    "Rule",
    "RuleSet",
    "Unit",
    "check",
    "find_clock_times",
    "find_dtgs",
    "find_latlon",
    "find_mgrs",
    "render_label",
    "rules_from_mapping",
    "rules_from_toml",
]

"""Policy: Subject and the one decision function every entry point calls (pure, no I/O)."""

from kyodo.policy.cache import DecisionCache
from kyodo.policy.decision import (
    ALLOW,
    Action,
    Container,
    Decision,
    Reason,
    Resource,
    decide,
    may_read,
)
from kyodo.policy.factory import make_subject
from kyodo.policy.subject import Subject

__all__ = [
    "ALLOW",
    "Action",
    "Container",
    "Decision",
    "DecisionCache",
    "Reason",
    "Resource",
    "Subject",
    "decide",
    "make_subject",
    "may_read",
]

"""Casbin (pycasbin) on the same rule: one policy line, the rule in an ABAC matcher."""

from __future__ import annotations

from typing import TYPE_CHECKING

import casbin

from .timing import Row, check, timed

if TYPE_CHECKING:
    from kyodo.labels import Label
    from kyodo.policy import Subject


CASBIN_MODEL = """\
[request_definition]
r = sub, obj, act

[policy_definition]
p = act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && r.sub.clearance >= r.obj.rank \
&& subset(r.obj.restrictive, r.sub.grants) && releasable(r.obj.rel, r.sub.nation, r.sub.relgrants)
"""


class CasbinSubject:
    """The attributes Casbin's matcher reads; str() is the id (Casbin logs every request)."""

    __slots__ = ("clearance", "grants", "id", "nation", "relgrants")

    def __init__(self, subject: Subject) -> None:
        self.id = subject.id
        self.clearance = subject.clearance_rank
        self.nation = subject.nation
        self.grants = subject.grants
        self.relgrants = subject.releasability_grants

    def __str__(self) -> str:
        return self.id


class CasbinObject:
    """A label's attributes for Casbin's matcher; `rel` None means unrestricted."""

    __slots__ = ("id", "rank", "rel", "restrictive")

    def __init__(self, label_id: str, label: Label) -> None:
        self.id = label_id
        self.rank = label.rank
        self.restrictive = label.restrictive
        self.rel = label.releasable_to

    def __str__(self) -> str:
        return self.id


def _subset(small: frozenset[str], big: frozenset[str]) -> bool:
    return small <= big


def _releasable(rel: frozenset[str] | None, nation: str, granted: frozenset[str]) -> bool:
    return rel is None or nation in rel or not granted.isdisjoint(rel)


def bench_casbin(
    subjects: list[Subject],
    labels: list[Label],
    pair_s: list[int],
    pair_l: list[int],
    expected: list[bool],
    repeats: int,
) -> list[Row]:
    """Casbin ABAC: one policy line, the read rule in the matcher, cross-checked against Kyodo."""
    enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=CASBIN_MODEL))
    enforcer.add_function("subset", _subset)
    enforcer.add_function("releasable", _releasable)
    enforcer.add_policy("read")
    c_subjects = [CasbinSubject(s) for s in subjects]
    c_objects = [CasbinObject(f"L{i}", lab) for i, lab in enumerate(labels)]
    subs = [c_subjects[i] for i in pair_s]
    objs = [c_objects[i] for i in pair_l]

    def run() -> list[bool]:
        enforce = enforcer.enforce
        return [bool(enforce(s, o, "read")) for s, o in zip(subs, objs, strict=True)]

    times, got = timed(run, repeats)
    check("Casbin", got, expected)
    return [
        Row("Casbin", "enforce (ABAC matcher)", len(pair_s), times, note="2 custom set functions")
    ]

"""Cedar (cedarpy) on the same rule: per call, pre-parsed, and batched."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import cedarpy

from .timing import Row, check, timed

if TYPE_CHECKING:
    from kyodo.labels import Label
    from kyodo.policy import Subject

CEDAR_BATCH = 1_000  # requests per is_authorized_batch call


CEDAR_POLICY = """\
permit (principal, action == Action::"read", resource)
when {
  principal.clearance >= resource.rank &&
  principal.grants.containsAll(resource.restrictive) &&
  (!resource.has_rel ||
   resource.rel.contains(principal.nation) ||
   resource.rel.containsAny(principal.relgrants))
};
"""


def _cedar_subject(subject: Subject) -> dict[str, object]:
    return {
        "uid": {"type": "Person", "id": subject.id},
        "attrs": {
            "clearance": subject.clearance_rank,
            "nation": subject.nation,
            "grants": sorted(subject.grants),
            "relgrants": sorted(subject.releasability_grants),
        },
        "parents": [],
    }


def _cedar_label(label_id: str, label: Label) -> dict[str, object]:
    rel = label.releasable_to
    return {
        "uid": {"type": "Label", "id": label_id},
        "attrs": {
            "rank": label.rank,
            "restrictive": sorted(label.restrictive),
            "has_rel": rel is not None,
            "rel": sorted(rel or ()),
        },
        "parents": [],
    }


def bench_cedar(
    subjects: list[Subject],
    labels: list[Label],
    pair_s: list[int],
    pair_l: list[int],
    expected: list[bool],
    repeats: int,
) -> list[Row]:
    """Cedar per call (policy text + the pair's entities as JSON, and pre-parsed handles) and
    batched (pre-parsed handles), cross-checked against Kyodo on every pair."""
    n = len(pair_s)
    subject_json = [json.dumps(_cedar_subject(s)) for s in subjects]
    label_json = [json.dumps(_cedar_label(f"L{i}", lab)) for i, lab in enumerate(labels)]
    requests = [
        {
            "principal": f'Person::"{subjects[s].id}"',
            "action": 'Action::"read"',
            "resource": f'Label::"L{lab}"',
        }
        for s, lab in zip(pair_s, pair_l, strict=True)
    ]
    per_pair_entities = [
        f"[{subject_json[s]},{label_json[lab]}]" for s, lab in zip(pair_s, pair_l, strict=True)
    ]
    policy_set = cedarpy.PolicySet.from_str(CEDAR_POLICY)
    entities = cedarpy.Entities.from_json_str("[" + ",".join(subject_json + label_json) + "]")

    def run_text() -> list[bool]:
        authorize = cedarpy.is_authorized
        return [
            authorize(req, CEDAR_POLICY, ents).allowed
            for req, ents in zip(requests, per_pair_entities, strict=True)
        ]

    def run_handles() -> list[bool]:
        authorize = cedarpy.is_authorized
        return [authorize(req, policy_set, entities).allowed for req in requests]

    chunks = [requests[i : i + CEDAR_BATCH] for i in range(0, n, CEDAR_BATCH)]

    def run_batch() -> list[bool]:
        batch = cedarpy.is_authorized_batch
        out: list[bool] = []
        for chunk in chunks:
            out.extend(r.allowed for r in batch(chunk, policy_set, entities))
        return out

    # One untimed pass with diagnostics checked, so an evaluation error cannot pass as a Deny.
    for result in cedarpy.is_authorized_batch(requests, policy_set, entities):
        if result.diagnostics.errors:
            raise SystemExit(f"Cedar evaluation error: {result.diagnostics.errors}")
    rows = []
    for mode, run, note in (
        ("per call: policy text + 2 entities JSON", run_text, "parses both every call"),
        (
            "per call: pre-parsed PolicySet + Entities",
            run_handles,
            f"{len(subjects) + len(labels)} entities",
        ),
        (f"batched ({CEDAR_BATCH:,}/call), pre-parsed", run_batch, "is_authorized_batch"),
    ):
        times, got = timed(run, repeats)
        check(f"Cedar {mode}", got, expected)
        rows.append(Row("Cedar", mode, n, times, note=note))
    return rows

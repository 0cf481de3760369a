"""`make_subject`: a Subject from the words people use (a nation, a clearance, grant names)."""

from __future__ import annotations

import pytest

from kyodo.errors import LabelError
from kyodo.labels import SchemeRegistry
from kyodo.policy import make_subject


@pytest.mark.parametrize(
    ("nation", "clearance", "level", "rank"),
    [
        ("USA", "TOP SECRET", "TOP SECRET", 40),
        ("usa", "conf", "CONFIDENTIAL", 20),
        ("JPN", "極秘", "GOKUHI", 30),
        ("JPN", "kimitsu", "KIMITSU", 40),
        ("JPN", "UNCLASSIFIED", "UNCLASSIFIED", 0),  # JPN's own level first
        ("JPN", "SECRET", "SECRET", 30),  # not a JPN spelling: read in another scheme
        ("GBR", "SECRET", "SECRET", 30),
        ("FRA", "NATO SECRET", "NATO SECRET", 30),
    ],
)
def test_clearance_is_read_in_the_nations_scheme_first(
    nation: str, clearance: str, level: str, rank: int, registry: SchemeRegistry
) -> None:
    subject = make_subject(registry, id="p", nation=nation, clearance=clearance)
    assert subject.nation == nation.upper()
    assert (subject.clearance, subject.clearance_rank) == (level, rank)


def test_grants_roles_org_and_releasability_grants(registry: SchemeRegistry) -> None:
    subject = make_subject(
        registry,
        id="jp.j3",
        nation="JPN",
        clearance="機密",
        grants=["特定秘密", "si", "TOKUTEI HIMITSU"],
        roles=["member"],
        org="org:jjoc",
        releasability_grants=["usa"],
    )
    assert subject.grants == frozenset({"SDS", "SI"})
    assert subject.roles == frozenset({"member"})
    assert subject.org == "org:jjoc"
    assert subject.releasability_grants == frozenset({"USA"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nation": "XX", "clearance": "SECRET"}, "'XX' is not an ISO 3166 alpha-3 country code"),
        ({"nation": "USA", "clearance": "ULTRA"}, "unknown clearance 'ULTRA'"),
        ({"nation": "USA", "clearance": "SECRET", "grants": ["ZZ"]}, "unknown category 'ZZ'"),
        (
            {"nation": "USA", "clearance": "SECRET", "releasability_grants": ["XYZ"]},
            "'XYZ' is not an ISO 3166",
        ),
    ],
)
def test_unknown_words_are_label_errors(
    kwargs: dict[str, object], message: str, registry: SchemeRegistry
) -> None:
    with pytest.raises(LabelError) as caught:
        make_subject(registry, id="p", **kwargs)  # type: ignore[arg-type]
    assert message in caught.value.message

"""`decide(subject, action, resource)`: read, write and join rules, need-to-know and roles, with
reasons that name the property that failed."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from kyodo.labels import Label, SchemeRegistry, parse_marking
from kyodo.policy import (
    ALLOW,
    Action,
    Container,
    Decision,
    Resource,
    Subject,
    decide,
    make_subject,
    may_read,
)

MakePerson = Callable[..., Subject]
ParseLabel = Callable[[str], Label]


@pytest.fixture(scope="module")
def person(registry: SchemeRegistry) -> MakePerson:
    def make(
        nation: str,
        clearance: str,
        grants: Iterable[str] = (),
        *,
        id: str = "p1",
        roles: Iterable[str] = (),
        org: str | None = None,
        releasability_grants: Iterable[str] = (),
    ) -> Subject:
        return make_subject(
            registry,
            id=id,
            nation=nation,
            clearance=clearance,
            grants=grants,
            roles=roles,
            org=org,
            releasability_grants=releasability_grants,
        )

    return make


@pytest.fixture(scope="module")
def label(registry: SchemeRegistry) -> ParseLabel:
    def parse(marking: str) -> Label:
        return parse_marking(marking, registry)

    return parse


READS = [
    # (nation, clearance, grants, marking, reasons, failed)
    ("JPN", "SECRET", (), "SECRET//REL TO USA, JPN", (), ()),
    ("JPN", "極秘", (), "SECRET//REL TO USA, JPN", (), ()),  # GSOMIA: 極秘 ≙ SECRET
    ("USA", "SECRET", (), "極秘//提供先 JPN、USA", (), ()),
    ("USA", "TOP SECRET", (), "SECRET//NOFORN", (), ()),
    ("AUS", "TOP SECRET", (), "UNCLASSIFIED", (), ()),
    ("USA", "UNCLASSIFIED", (), "UNCLASSIFIED//FOUO", (), ()),
    ("USA", "TOP SECRET", ("SI", "TK"), "TOP SECRET//SI/TK//NOFORN", (), ()),
    ("GBR", "SECRET", (), "SECRET//REL TO FVEY", (), ()),
    ("FRA", "NATO SECRET", (), "NATO SECRET", (), ()),
    (
        "AUS",
        "SECRET",
        (),
        "SECRET//REL TO USA, JPN",
        ("nation AUS is not in REL TO USA, JPN",),
        ("releasability",),
    ),
    (
        "USA",
        "CONFIDENTIAL",
        (),
        "SECRET//NOFORN",
        ("clearance CONFIDENTIAL is below SECRET",),
        ("clearance",),
    ),
    (
        "USA",
        "TOP SECRET",
        ("TK",),
        "TOP SECRET//SI/TK//NOFORN",
        ("missing compartment SI",),
        ("restrictive",),
    ),
    (
        "USA",
        "TOP SECRET",
        (),
        "TOP SECRET//SI/TK//NOFORN",
        ("missing compartments SI, TK",),
        ("restrictive",),
    ),
    (
        "JPN",
        "SECRET",
        (),
        "SECRET",
        ("nation JPN is not in REL TO USA",),
        ("releasability",),
    ),
    (
        "USA",
        "TOP SECRET",
        (),
        "極秘",
        ("nation USA is not in REL TO JPN",),
        ("releasability",),
    ),
    (
        "JPN",
        "GOKUHI",
        (),
        "機密//特定秘密//提供先 JPN、USA",
        ("clearance GOKUHI is below KIMITSU", "missing compartment SDS"),
        ("clearance", "restrictive"),
    ),
    (
        "USA",
        "TOP SECRET",
        (),
        "SECRET//REL TO NONE",
        ("nation USA is not in REL TO NONE",),
        ("releasability",),
    ),
    (
        "KOR",
        "CONFIDENTIAL",
        (),
        "TOP SECRET//SI//ORCON/REL TO USA, JPN",
        (
            "clearance CONFIDENTIAL is below TOP SECRET",
            "missing compartments ORCON, SI",
            "nation KOR is not in REL TO USA, JPN",
        ),
        ("clearance", "restrictive", "releasability"),
    ),
]


@pytest.mark.parametrize(
    ("nation", "clearance", "grants", "marking", "reasons", "failed"),
    READS,
    ids=[f"{r[0]}-{r[1]}-{r[3]}" for r in READS],
)
def test_read(
    person: MakePerson,
    label: ParseLabel,
    nation: str,
    clearance: str,
    grants: tuple[str, ...],
    marking: str,
    reasons: tuple[str, ...],
    failed: tuple[str, ...],
) -> None:
    subject = person(nation, clearance, grants)
    decision = decide(subject, Action.READ, Resource(label(marking)))
    assert decision.reasons == reasons
    assert decision.failed == failed
    assert decision.allowed == (not reasons)
    assert bool(decision) == decision.allowed
    assert may_read(subject, label(marking)) == decision.allowed


def test_an_allowed_decision_is_the_shared_allow(person: MakePerson, label: ParseLabel) -> None:
    decision = decide(person("USA", "SECRET"), Action.READ, Resource(label("SECRET")))
    assert decision == ALLOW == Decision(True)
    assert decision.reasons == ()


def test_releasability_grant_counts_as_a_nation(person: MakePerson, label: ParseLabel) -> None:
    japan_only = Resource(label("極秘//日本限り"))
    liaison = person("USA", "SECRET", releasability_grants=["JPN"])
    assert decide(liaison, Action.READ, japan_only).allowed
    assert not decide(person("USA", "SECRET"), Action.READ, japan_only).allowed


def test_need_to_know_by_person_or_org(person: MakePerson, label: ParseLabel) -> None:
    resource = Resource(label("SECRET//REL TO USA, JPN"), audience=frozenset({"p2", "org:j3"}))
    assert decide(person("USA", "SECRET", id="p2"), Action.READ, resource).allowed
    assert decide(person("JPN", "SECRET", org="org:j3"), Action.READ, resource).allowed
    outsider = decide(person("USA", "TOP SECRET", org="org:j2"), Action.READ, resource)
    assert outsider.reasons == ("no need-to-know: not a member",)
    assert outsider.failed == ("need_to_know",)
    # an empty audience means nobody has need-to-know; None means no restriction
    nobody = Resource(resource.label, audience=frozenset())
    assert not decide(person("USA", "SECRET", id="p2"), Action.READ, nobody).allowed
    assert decide(person("USA", "SECRET"), Action.READ, Resource(resource.label)).allowed


def test_need_to_know_comes_after_the_label_reasons(person: MakePerson, label: ParseLabel) -> None:
    resource = Resource(label("TOP SECRET//NOFORN"), audience=frozenset({"p9"}))
    decision = decide(person("JPN", "SECRET"), Action.READ, resource)
    assert decision.failed == ("clearance", "releasability", "need_to_know")


def test_required_role(person: MakePerson, label: ParseLabel) -> None:
    resource = Resource(label("UNCLASSIFIED"), required_role="records_officer")
    denied = decide(person("USA", "SECRET"), Action.READ, resource)
    assert denied.reasons == ("role records_officer required",)
    assert denied.failed == ("role",)
    officer = person("USA", "SECRET", roles=["records_officer"])
    assert decide(officer, Action.READ, resource).allowed
    # roles are checked for every action
    assert decide(person("USA", "SECRET"), Action.WRITE, resource).failed == ("role",)


# --- write: label-and-write and the container's ceiling ---------------------------------------


@pytest.fixture
def net(label: ParseLabel) -> Container:
    """A multi-level bilateral net: SECRET//REL TO USA, JPN at most, CONFIDENTIAL to join."""
    return Container(
        "USFJ-JJOC ops net",
        ceiling=label("SECRET//REL TO USA, JPN"),
        entry=label("CONFIDENTIAL//REL TO USA, JPN"),
    )


def test_write_a_label_one_can_read(person: MakePerson, label: ParseLabel) -> None:
    writer = person("JPN", "GOKUHI")
    assert decide(writer, Action.WRITE, Resource(label("極秘//日本限り"))).allowed
    too_high = decide(writer, Action.WRITE, Resource(label("機密//日本限り")))
    assert too_high.reasons == ("clearance GOKUHI is below KIMITSU",)
    not_releasable = decide(writer, Action.WRITE, Resource(label("SECRET//NOFORN")))
    assert not_releasable.reasons == ("nation JPN is not in REL TO USA",)


@pytest.mark.parametrize(
    ("marking", "allowed"),
    [
        ("SECRET//REL TO USA, JPN", True),  # at the ceiling
        ("CONFIDENTIAL//REL TO USA, JPN", True),
        ("UNCLASSIFIED", True),
        ("極秘//提供先 JPN、USA", True),  # an equivalent Japanese label
        ("SECRET//REL TO USA, JPN, GBR", True),  # more releasable is still under the ceiling
        ("SECRET//NOFORN", False),  # fewer nations than the ceiling: above it
        ("SECRET//SI//REL TO USA, JPN", False),  # a compartment the ceiling lacks
        ("TOP SECRET//REL TO USA, JPN", False),
    ],
)
def test_write_into_a_container_is_bounded_by_its_ceiling(
    person: MakePerson, label: ParseLabel, net: Container, marking: str, allowed: bool
) -> None:
    writer = person("USA", "TOP SECRET", ["SI"])
    decision = decide(writer, Action.WRITE, Resource(label(marking), container=net))
    assert decision.allowed == allowed
    if not allowed:
        assert decision.reasons == ("label is above the ceiling of USFJ-JJOC ops net",)
        assert decision.failed == ("ceiling",)


def test_write_reports_both_clearance_and_ceiling(
    person: MakePerson, label: ParseLabel, net: Container
) -> None:
    decision = decide(
        person("USA", "SECRET"), Action.WRITE, Resource(label("TOP SECRET//NOFORN"), container=net)
    )
    assert decision.failed == ("clearance", "ceiling")
    assert decision.reasons == (
        "clearance SECRET is below TOP SECRET",
        "label is above the ceiling of USFJ-JJOC ops net",
    )


def test_write_ignores_need_to_know(person: MakePerson, label: ParseLabel) -> None:
    resource = Resource(label("SECRET//NOFORN"), audience=frozenset({"someone-else"}))
    assert decide(person("USA", "SECRET"), Action.WRITE, resource).allowed
    assert not decide(person("USA", "SECRET"), Action.READ, resource).allowed


# --- join: the entry label ----------------------------------------------------------------------


def test_join_needs_the_entry_label(person: MakePerson, label: ParseLabel, net: Container) -> None:
    resource = Resource(net.entry, container=net, kind="net")
    assert decide(person("JPN", "HI"), Action.JOIN, resource).allowed
    assert decide(person("USA", "CONFIDENTIAL"), Action.JOIN, resource).allowed
    outsider = decide(person("AUS", "TOP SECRET"), Action.JOIN, resource)
    assert outsider.reasons == (
        "cannot read the entry label of USFJ-JJOC ops net",
        "nation AUS is not in REL TO USA, JPN",
    )
    assert outsider.failed == ("releasability",)
    low = decide(person("USA", "UNCLASSIFIED"), Action.JOIN, resource)
    assert low.failed == ("clearance",)


def test_join_reads_the_entry_not_the_resource_label(
    person: MakePerson, label: ParseLabel, net: Container
) -> None:
    # the resource's own label (here the ceiling) does not decide membership
    resource = Resource(net.ceiling, container=net)
    member = person("JPN", "HI")
    assert decide(member, Action.JOIN, resource).allowed
    # ...but in a multi-level net a CONFIDENTIAL member does not read the SECRET traffic
    assert not decide(member, Action.READ, Resource(label("SECRET//REL TO USA, JPN"))).allowed


def test_system_high_net_members_read_everything_in_it(
    person: MakePerson, label: ParseLabel
) -> None:
    high = label("SECRET//REL TO USA, JPN")
    net = Container("system-high", ceiling=high, entry=high)
    member = person("JPN", "SECRET")
    assert decide(member, Action.JOIN, Resource(high, container=net)).allowed
    for marking in ("SECRET//REL TO USA, JPN", "CONFIDENTIAL//REL TO USA, JPN", "UNCLASSIFIED"):
        message = label(marking)
        assert decide(person("USA", "TOP SECRET"), Action.WRITE, Resource(message, container=net))
        assert decide(member, Action.READ, Resource(message)).allowed


def test_join_without_a_container_is_a_programming_error(
    person: MakePerson, label: ParseLabel
) -> None:
    with pytest.raises(ValueError, match="needs a container"):
        decide(person("USA", "SECRET"), Action.JOIN, Resource(label("SECRET")))


def test_container_entry_must_be_dominated_by_its_ceiling(label: ParseLabel) -> None:
    with pytest.raises(ValueError, match="entry label must be dominated by ceiling"):
        Container("bad", ceiling=label("CONFIDENTIAL//REL TO USA, JPN"), entry=label("SECRET"))
    with pytest.raises(ValueError, match="dominated"):
        Container(
            "bad", ceiling=label("SECRET//REL TO USA, JPN"), entry=label("SECRET//REL TO USA, GBR")
        )
